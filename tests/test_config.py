"""Settings: defaults, normalisation, one-line errors naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clientzone.config import ConfigError, Settings, load_settings


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Read only what each test sets, never a developer's ./.env."""
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]


def test_plain_database_urls_get_their_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal:5432/portal")
    assert load_settings().database_url == "postgresql+asyncpg://app@db.internal:5432/portal"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./var/x.db")
    assert load_settings().database_url == "sqlite+aiosqlite:///./var/x.db"


def test_defaults_run_without_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite+aiosqlite:///./var/")
    assert settings.explorer_enabled is True


def test_cors_origins_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example.com, https://b.example.com/")
    assert load_settings().cors_origins == ["https://a.example.com", "https://b.example.com"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "DATABASE_URL",
            "mysql://x",
            "invalid DATABASE_URL: must start with sqlite:// or postgresql://",
        ),
        ("LOG_LEVEL", "LOUD", "invalid LOG_LEVEL"),
        ("SMTP_PORT", "seventy", "invalid SMTP_PORT"),
        ("SECRET_KEY", "short", "invalid SECRET_KEY"),
        ("PUBLIC_BASE_URL", "portal.example.com", "invalid PUBLIC_BASE_URL"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_production_requires_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()


def test_the_cli_stops_with_a_one_line_message_and_a_non_zero_exit() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clientzone", "migrate"],
        env={"DATABASE_URL": "mysql://nope", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: invalid DATABASE_URL: must start with sqlite:// or postgresql://"
    ]


def test_production_refuses_to_send_mail_without_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    from clientzone.app import create_app

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, environment="production", secret_key="s" * 40
    )
    with pytest.raises(ConfigError, match="SMTP_HOST"):
        create_app(settings)
    result = subprocess.run(
        [sys.executable, "-m", "clientzone", "worker", "--drain"],
        env={"ENVIRONMENT": "production", "SECRET_KEY": "s" * 40, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: invalid SMTP_HOST: required in production"
    # servers that leave sending to workers do not need it
    assert create_app(settings.model_copy(update={"mail_sender": "off"}))
