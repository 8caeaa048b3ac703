"""Typed settings read from the environment (and an optional `.env` file).

Every setting is documented in the README's configuration table. `load_settings`
turns a validation failure into a one-line `ConfigError` naming the variable, so
a bad deployment stops at start-up with a message a person can act on.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/clientzone.db"
INSECURE_DEV_SECRET = "insecure-development-secret-change-me-0000000000"  # noqa: S105 (refused in production)


class ConfigError(Exception):
    """Configuration that cannot work; the message names the variable."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class MailSender(StrEnum):
    IN_PROCESS = "in-process"
    OFF = "off"


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


def normalize_database_url(url: str) -> str:
    """Add the async driver to plain `postgresql://` and `sqlite://` URLs."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = Field(default=10, ge=1, le=200)
    secret_key: str = Field(default=INSECURE_DEV_SECRET, min_length=32)
    public_base_url: str = "http://127.0.0.1:8000"

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    graphiql: bool = True
    introspection: bool = True
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_query_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=4000, ge=100)

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: SmtpSecurity = SmtpSecurity.STARTTLS
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from_name: str = "Área de clientes"
    mail_from_address: str = "no-reply@example.com"
    mail_reply_to: str | None = None
    mail_sender: MailSender = MailSender.IN_PROCESS
    mail_poll_seconds: float = Field(default=2.0, gt=0)
    mail_batch_size: int = Field(default=50, ge=1, le=1000)
    mail_max_attempts: int = Field(default=8, ge=1)

    redis_url: str | None = None
    redis_prefix: str = "clientzone:"

    portal_url: str | None = None
    session_cookie_name: str = Field(default="cz_session", pattern=r"^[A-Za-z0-9_\-]+$")
    session_cookie_secure: bool | None = None
    session_idle_minutes: int = Field(default=120, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    session_remember_days: int = Field(default=30, ge=1)
    token_days: int = Field(default=90, ge=1)
    session_touch_seconds: int = Field(default=60, ge=0)
    auth_response_floor_ms: int = Field(default=400, ge=0)
    signup_enabled: bool = True
    verification_link_hours: int = Field(default=24, ge=1)

    # Upper limit of the balance for online payment, per currency, in currency
    # units: "MXN:50000,ARS:2000000,EUR:3000" (set by administration).
    payment_online_limits: Annotated[dict[str, Decimal], NoDecode] = Field(default_factory=dict)

    payment_provider: str = Field(default="sandbox", pattern=r"^sandbox$")
    payment_webhook_secret: str | None = Field(default=None, min_length=16)
    max_receipt_bytes: int = Field(default=900_000, ge=1024)

    # Case attachments: per file, per case (all files together), which types
    # (recognised by content), and where the bytes live (the database when unset).
    case_attachment_max_bytes: int = Field(default=10_000_000, ge=1024)
    case_attachments_max_total_bytes: int = Field(default=25_000_000, ge=1024)
    case_attachment_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "application/pdf",
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "text/plain",
        ]
    )
    case_attachments_dir: Path | None = None
    # Multipart (upload) requests may be this large; other bodies MAX_BODY_BYTES.
    max_upload_body_bytes: int = Field(default=26_214_400, ge=1024)

    company_name: str = "clientzone"
    support_email: str = "soporte@example.com"
    support_phone: str | None = None
    logo_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        url = normalize_database_url(value.strip())
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return url

    @field_validator("case_attachment_types", mode="before")
    @classmethod
    def _split_types(cls, value: object) -> object:
        if isinstance(value, str):
            return [kind.strip().lower() for kind in value.split(",") if kind.strip()]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("public_base_url", "portal_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("payment_online_limits", mode="before")
    @classmethod
    def _limits(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        limits: dict[str, Decimal] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            currency, _, amount = part.partition(":")
            try:
                limit = Decimal(amount.strip())
            except InvalidOperation:
                raise ValueError(f"{part!r} is not CURRENCY:AMOUNT") from None
            if len(currency.strip()) != 3 or not limit.is_finite() or limit <= 0:
                raise ValueError(f"{part!r} is not CURRENCY:AMOUNT")
            limits[currency.strip().upper()] = limit
        return limits

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        if self.environment is Environment.PRODUCTION and self.secret_key == INSECURE_DEV_SECRET:
            raise ValueError("SECRET_KEY must be set in production")
        return self

    @property
    def requires_smtp(self) -> bool:
        """In production a sender without SMTP_HOST would mark mail sent and drop it."""
        return self.environment is Environment.PRODUCTION and self.smtp_host is None

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies unless set otherwise; plain HTTP is allowed in development."""
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment is Environment.PRODUCTION

    @property
    def portal_base_url(self) -> str:
        """Where the links in emails point: the portal front end, else this service."""
        return (self.portal_url or self.public_base_url).rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise a one-line ConfigError when invalid."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        location = [str(part) for part in first["loc"]]
        message = first["msg"].removeprefix("Value error, ")
        if location:
            variable = location[0].upper()
        elif "SECRET_KEY" in message:
            variable = "SECRET_KEY"
        else:
            variable = "configuration"
        raise ConfigError(f"invalid {variable}: {message}") from None
