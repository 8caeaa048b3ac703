"""A production-configured service is safe without further settings: no public
key, no explorer, no introspection or suggestions for strangers, HSTS, no
version or server banner; keys are derived per purpose."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from clientzone.app import create_app
from clientzone.config import INSECURE_DEV_SECRET, ConfigError, Settings, load_settings
from clientzone.core import signed_links
from clientzone.db import Database
from clientzone.models.ledger import MovementKind, post_movement
from tests.conftest import Portal
from tests.helpers import (
    GraphQLClient,
    http_client,
    issue_token,
    make_account,
    make_membership,
    make_user,
)

SECRET = "a-real-secret-for-this-deployment-0123456789"


@pytest.fixture
async def production(settings: Settings, database: Database) -> AsyncIterator[Any]:
    production_settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=settings.database_url,
        environment="production",
        secret_key=SECRET,
        mail_sender="off",
        public_base_url="https://clientes.example.com",
        auth_response_floor_ms=0,
    )
    app = create_app(production_settings, database)
    yield app
    await app.state.close_clients()


async def test_the_production_checklist(production: Any, database: Database) -> None:
    user = await make_user(database, "ana@example.com")
    await make_membership(database, user, await make_account(database, number="MX-1"))
    token = await issue_token(database, user)
    introspect = "query Types { __schema { queryType { name } } }"
    async with http_client(production) as http:
        health = await http.get("/healthz")
        explorer = await http.get("/graphql", headers={"Accept": "text/html"})
        anonymous = await http.post("/graphql", json={"query": introspect})
        typo = await http.post("/graphql", json={"query": "query Typo { viewr { id } }"})
        signed_in = await GraphQLClient(http, token).post(introspect)
    assert health.json() == {"status": "ok"}
    assert "version" not in health.text
    assert health.headers["strict-transport-security"].startswith("max-age=31536000")
    assert explorer.status_code == 404
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "introspection" in anonymous.json()["errors"][0]["message"].lower()
    typo_message = typo.json()["errors"][0]["message"]
    assert "viewr" in typo_message
    assert "Did you mean" not in typo_message
    assert signed_in.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_development_keeps_its_conveniences(app: Any) -> None:
    async with http_client(app) as http:
        health = await http.get("/healthz")
        typo = await http.post("/graphql", json={"query": "query Typo { viewr { id } }"})
    assert "version" in health.json()
    assert "strict-transport-security" not in health.headers
    assert "Did you mean" in typo.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "environment",
    [
        {"ENVIRONMENT": "production"},
        {"ENVIRONMENT": "development", "PUBLIC_BASE_URL": "https://clientes.example.com"},
    ],
)
def test_the_public_development_key_is_refused_off_this_machine(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()


def test_development_on_this_machine_may_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://localhost:8000")
    assert load_settings().secret_key == INSECURE_DEV_SECRET


def test_serving_beyond_this_machine_with_the_public_key_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clientzone", "serve", "--host", "0.0.0.0"],  # noqa: S104
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:///:memory:"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr


async def test_a_link_signed_with_the_bare_secret_is_worth_nothing(
    portal: Portal, database: Database, settings: Settings
) -> None:
    async with database.transaction() as session:
        await post_movement(
            session,
            account_id=portal.parent.id,
            kind=MovementKind.INVOICE,
            amount_minor=1000,
            currency="MXN",
            reference="R-1",
        )
    kinds = {"kind": "statement-csv", "extra": {"from": "2020-01-01", "to": "2020-12-31"}}
    good = signed_links.sign(
        settings.key(signed_links.KEY_PURPOSE),
        object_id=portal.parent.id,
        user_id=portal.owner_user.id,
        **kinds,  # type: ignore[arg-type]
    )
    forged = signed_links.sign(
        settings.secret_key.encode(),
        object_id=portal.parent.id,
        user_id=portal.owner_user.id,
        **kinds,  # type: ignore[arg-type]
    )
    assert (await portal.owner.http.get(f"/documents/{good}")).status_code == 200
    assert (await portal.owner.http.get(f"/documents/{forged}")).status_code == 404


async def test_production_never_offers_or_serves_the_sandbox_payment_provider(
    production: Any, database: Database
) -> None:
    """PAYMENT_PROVIDER defaults to the sandbox: in production that means no
    online payment at all (with the reason), and none of its routes."""
    user = await make_user(database, "ana@example.com")
    account = await make_account(database, number="MX-1")
    await make_membership(database, user, account)
    async with database.transaction() as session:
        await post_movement(
            session,
            account_id=account.id,
            kind=MovementKind.INVOICE,
            amount_minor=10_000,
            currency="MXN",
            reference="F-1",
        )
    token = await issue_token(database, user)
    options = "{ account { paymentOptions { onlinePayment { available reasons } } } }"
    start = (
        "mutation Pay($input: StartPaymentInput!) { startPayment(input: $input) "
        "{ payment { id } redirectUrl userErrors { code } } }"
    )
    async with http_client(production) as http:
        client = GraphQLClient(http, token)
        offered = await client.data(options)
        started = await client.data(start, {"input": {"amount": "100.00"}})
        page = await http.get(f"/payments/sandbox/{'0' * 32}")
        webhook = await http.post("/webhooks/payments/sandbox", content=b"{}")
    online = offered["account"]["paymentOptions"]["onlinePayment"]
    assert online["available"] is False
    assert "PROVIDER_NOT_CONFIGURED" in online["reasons"]
    assert started["startPayment"]["payment"] is None
    assert started["startPayment"]["redirectUrl"] is None
    assert started["startPayment"]["userErrors"] == [{"code": "NOT_AVAILABLE"}]
    assert page.status_code == 404
    assert webhook.status_code == 404
