"""Claiming an old portal login into the signed-in email login."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import bcrypt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.legacy_logins import LegacyLogin, LegacyLoginStatus
from clientzone.models.memberships import Permission
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    http_client,
    login,
    make_account,
    make_user,
)
from tests.smtp_server import SmtpServer

CLAIM = """
mutation($input: ClaimLegacyAccountInput!) {
  claimLegacyAccount(input: $input) {
    account { number name }
    userErrors { field code message }
  }
}
"""
MEMBERSHIPS = """
{ viewer { memberships { nodes { role permissions inherited account { number } } } } }
"""
OLD_PASSWORD = "clave-vieja-1"


def django_pbkdf2(password: str, salt: str = "sal123", iterations: int = 1000) -> str:
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(derived).decode()}"


async def _legacy(
    database: Database,
    account: Account,
    username: str,
    password_hash: str,
    *,
    main: bool = False,
    permissions: frozenset[Permission] = frozenset(),
) -> LegacyLogin:
    row = LegacyLogin(
        account_id=account.id,
        username=username,
        password_hash=password_hash,
        is_main=main,
        permissions=permissions,
    )
    async with database.session() as session, session.begin():
        session.add(row)
    return row


@pytest.fixture
async def ana(app: Any, database: Database) -> AsyncIterator[GraphQLClient]:
    """Ana, signed in with a verified email."""
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        await login(client, "ana@example.com")
        yield client


def _claim(number: str, username: str, password: str) -> dict[str, Any]:
    return {"input": {"customerNumber": number, "username": username, "password": password}}


async def test_claiming_the_main_login_makes_the_person_owner(
    ana: GraphQLClient, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await make_account(database, number="MX-5000", name="Materiales del Bajío")
    hashed = bcrypt.hashpw(OLD_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    legacy = await _legacy(database, account, "compras", hashed, main=True)
    payload = (await ana.data(CLAIM, _claim("mx-5000", " Compras ", OLD_PASSWORD)))[
        "claimLegacyAccount"
    ]
    assert payload == {
        "account": {"number": "MX-5000", "name": "Materiales del Bajío"},
        "userErrors": [],
    }
    memberships = (await ana.data(MEMBERSHIPS))["viewer"]["memberships"]["nodes"]
    assert [(m["account"]["number"], m["role"], m["inherited"]) for m in memberships] == [
        ("MX-5000", "OWNER", False)
    ]
    async with database.session() as session:
        row = (
            await session.execute(select(LegacyLogin).where(LegacyLogin.id == legacy.id))
        ).scalar_one()
    assert row.status is LegacyLoginStatus.CLAIMED
    assert row.claimed_by is not None
    # The old credential works once only.
    again = (await ana.data(CLAIM, _claim("MX-5000", "compras", OLD_PASSWORD)))[
        "claimLegacyAccount"
    ]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_CREDENTIALS"]
    events = await ana.data("{ viewer { securityEvents { nodes { kind detail } } } }")
    assert events["viewer"]["securityEvents"]["nodes"][0] == {
        "kind": "LEGACY_ACCOUNT_CLAIMED",
        "detail": "MX-5000",
    }
    history = await ana.data("{ account { activity { nodes { action actor target } } } }")
    assert history["account"]["activity"]["nodes"] == [
        {"action": "LEGACY_LOGIN_CLAIMED", "actor": "ana@example.com", "target": "compras"}
    ]
    await mail_worker.drain()
    [notice] = smtp_server.received
    assert notice.recipients == ["ana@example.com"]
    assert notice.message["Subject"] == "La cuenta MX-5000 se ha añadido a tu acceso"
    assert OLD_PASSWORD not in notice.text


async def test_other_logins_become_members_with_their_permissions(
    ana: GraphQLClient, database: Database
) -> None:
    account = await make_account(database, number="AR-6000")
    argon2_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(OLD_PASSWORD)
    await _legacy(
        database,
        account,
        "tesoreria",
        argon2_hash,
        permissions=frozenset({Permission.INVOICES_VIEW, Permission.INVOICES_PAY}),
    )
    await _legacy(database, account, "django", django_pbkdf2(OLD_PASSWORD))
    assert (await ana.data(CLAIM, _claim("AR-6000", "tesoreria", OLD_PASSWORD)))[
        "claimLegacyAccount"
    ]["userErrors"] == []
    memberships = (await ana.data(MEMBERSHIPS))["viewer"]["memberships"]["nodes"]
    assert memberships == [
        {
            "role": "MEMBER",
            "permissions": ["INVOICES_PAY", "INVOICES_VIEW"],
            "inherited": False,
            "account": {"number": "AR-6000"},
        }
    ]
    # A second old login of the same account widens the membership (Django PBKDF2).
    assert (await ana.data(CLAIM, _claim("AR-6000", "django", OLD_PASSWORD)))["claimLegacyAccount"][
        "account"
    ] == {"number": "AR-6000", "name": "Ferretería La Esperanza"}


async def test_wrong_unknown_and_claimed_credentials_look_the_same(
    ana: GraphQLClient, database: Database
) -> None:
    account = await make_account(database, number="MX-5000")
    hashed = bcrypt.hashpw(OLD_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    await _legacy(database, account, "compras", hashed, main=True)
    wrong = await ana.post(CLAIM, _claim("MX-5000", "compras", "otra-clave"))
    no_user = await ana.post(CLAIM, _claim("MX-5000", "ventas", OLD_PASSWORD))
    no_account = await ana.post(CLAIM, _claim("MX-9999", "compras", OLD_PASSWORD))
    assert wrong.content == no_user.content == no_account.content
    assert wrong.json()["data"]["claimLegacyAccount"]["userErrors"] == [
        {
            "field": None,
            "code": "INVALID_CREDENTIALS",
            "message": "El número de cliente, el usuario o la contraseña no son correctos.",
        }
    ]
    assert (await ana.data(MEMBERSHIPS))["viewer"]["memberships"]["nodes"] == []


async def test_claiming_needs_a_verified_signed_in_person(app: Any, database: Database) -> None:
    await make_user(database, "nuevo@example.com", password=PASSWORD, verified=False)
    async with http_client(app) as http:
        anonymous = GraphQLClient(http)
        assert await anonymous.error_codes(CLAIM, _claim("MX-1", "a", "b")) == ["UNAUTHENTICATED"]
    user = await make_user(database, "sin-verificar@example.com", verified=False)
    from tests.helpers import issue_token

    token = await issue_token(database, user)
    async with http_client(app) as http:
        client = GraphQLClient(http, token)
        payload = (await client.data(CLAIM, _claim("MX-1", "", "b")))["claimLegacyAccount"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("username", "REQUIRED"),
        (None, "EMAIL_NOT_VERIFIED"),
    ]


async def test_repeated_wrong_claims_are_slowed_down(
    ana: GraphQLClient, database: Database
) -> None:
    account = await make_account(database, number="MX-5000")
    hashed = bcrypt.hashpw(OLD_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    await _legacy(database, account, "compras", hashed, main=True)
    for _ in range(6):
        await ana.post(CLAIM, _claim("MX-5000", "compras", "otra-clave"))
    assert await ana.error_codes(CLAIM, _claim("MX-5000", "compras", OLD_PASSWORD)) == [
        "RATE_LIMITED"
    ]
