"""Resetting a password in two steps (code, then a grant that signs in), and
asking for a reset with any email an account has: its own or a contact's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine

from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.base import utcnow
from clientzone.models.contacts import Contact
from clientzone.models.memberships import Permission, Role
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    http_client,
    link_token,
    login,
    make_account,
    make_membership,
    make_user,
    six_digit_code,
    viewer_email,
)
from tests.smtp_server import SmtpServer

NEW_PASSWORD = "mariposa-volcan-teclado-93"
REQUEST_RESET = """
mutation($login: String!) {
  requestPasswordReset(input: {login: $login}) { accepted userErrors { field code message } }
}
"""
VERIFY = """
mutation($input: VerifyResetCodeInput!) {
  verifyResetCode(input: $input) { grant expiresAt userErrors { field code message } }
}
"""
RESET = """
mutation($input: ResetPasswordInput!) {
  resetPassword(input: $input) {
    reset user { email } session { kind } token userErrors { field code message }
  }
}
"""


async def _code_for(
    client: GraphQLClient, login_name: str, mail_worker: MailWorker, smtp_server: SmtpServer
) -> str:
    await client.data(REQUEST_RESET, {"login": login_name})
    await mail_worker.drain()
    return six_digit_code(smtp_server.received[-1].text)


async def _verify(client: GraphQLClient, login_name: str, code: str, **headers: str) -> Any:
    data = await client.data(VERIFY, {"input": {"login": login_name, "code": code}}, headers)
    return data["verifyResetCode"]


async def test_code_then_grant_sets_the_password_and_signs_in_with_a_cookie(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as old_http, http_client(app) as http:
        before, browser = GraphQLClient(old_http), GraphQLClient(http)
        await login(before, "ana@example.com")
        code = await _code_for(browser, "Ana@Example.com", mail_worker, smtp_server)
        verified = await _verify(browser, "ana@example.com", code)
        assert verified["userErrors"] == []
        grant = verified["grant"]
        assert grant
        assert verified["expiresAt"]
        # The code is spent by the exchange.
        again = await _verify(browser, "ana@example.com", code)
        assert [e["code"] for e in again["userErrors"]] == ["INVALID_CODE"]
        # The emailed link no longer works either, and is not a grant.
        link = link_token(smtp_server.received[-1].text, "reset-password")
        not_a_grant = await browser.data(
            RESET, {"input": {"grant": link, "newPassword": NEW_PASSWORD}}
        )
        assert not_a_grant["resetPassword"]["userErrors"][0]["code"] == "INVALID_GRANT"
        response = await browser.post(
            RESET, {"input": {"grant": grant, "newPassword": NEW_PASSWORD}}
        )
        payload = response.json()["data"]["resetPassword"]
        assert payload == {
            "reset": True,
            "user": {"email": "ana@example.com"},
            "session": {"kind": "BROWSER"},
            "token": None,
            "userErrors": [],
        }
        assert "set-cookie" in response.headers
        assert await viewer_email(browser) == "ana@example.com"
        assert await viewer_email(before) is None  # older sessions ended
        used = await browser.data(RESET, {"input": {"grant": grant, "newPassword": NEW_PASSWORD}})
        assert used["resetPassword"]["userErrors"] == [
            {
                "field": "grant",
                "code": "INVALID_GRANT",
                "message": "El permiso para cambiar la contraseña ya se usó o ha caducado. "
                "Vuelve a pedir un código.",
            }
        ]
    await mail_worker.drain()
    assert smtp_server.received[-1].message["Subject"] == "Tu contraseña se ha restablecido"


async def test_a_grant_can_issue_a_bearer_token_and_expires(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    start = utcnow()
    async with http_client(app) as http:
        client = GraphQLClient(http)
        code = await _code_for(client, "ana@example.com", mail_worker, smtp_server)
        grant = (await _verify(client, "ana@example.com", code))["grant"]
        with time_machine.travel(start + timedelta(minutes=11), tick=False):
            late = await client.data(
                RESET, {"input": {"grant": grant, "newPassword": NEW_PASSWORD}}
            )
        assert late["resetPassword"]["userErrors"][0]["code"] == "INVALID_GRANT"
        code = await _code_for(client, "ana@example.com", mail_worker, smtp_server)
        grant = (await _verify(client, "ana@example.com", code))["grant"]
        response = await client.post(
            RESET, {"input": {"grant": grant, "newPassword": NEW_PASSWORD, "issueToken": True}}
        )
        payload = response.json()["data"]["resetPassword"]
        assert payload["session"] == {"kind": "TOKEN"}
    async with http_client(app) as http:
        bearer = GraphQLClient(http, payload["token"])
        assert await viewer_email(bearer) == "ana@example.com"


async def test_verify_reset_code_checks_input_and_counts_wrong_codes(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        blank = await _verify(client, " ", "", **{"Accept-Language": "en"})
        assert blank["userErrors"] == [
            {"field": "login", "code": "REQUIRED", "message": "This field is required."},
            {"field": "code", "code": "REQUIRED", "message": "This field is required."},
        ]
        code = await _code_for(client, "ana@example.com", mail_worker, smtp_server)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            failed = await _verify(client, "ana@example.com", wrong, **{"Accept-Language": "en"})
            assert failed == {
                "grant": None,
                "expiresAt": None,
                "userErrors": [
                    {
                        "field": "code",
                        "code": "INVALID_CODE",
                        "message": "The code is wrong or has expired. Ask for a new one if needed.",
                    }
                ],
            }
        dead = await _verify(client, "ana@example.com", code)
        assert dead["grant"] is None
        # Unknown logins get the same answer, byte for byte.
        a = await client.post(VERIFY, {"input": {"login": "ana@example.com", "code": wrong}})
        b = await client.post(VERIFY, {"input": {"login": "nadie@example.com", "code": wrong}})
        assert a.content == b.content


async def test_the_one_step_form_still_works_and_does_not_sign_in(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        code = await _code_for(client, "ana@example.com", mail_worker, smtp_server)
        response = await client.post(
            RESET,
            {"input": {"login": "ana@example.com", "code": code, "newPassword": NEW_PASSWORD}},
        )
        payload = response.json()["data"]["resetPassword"]
        assert payload["reset"] is True
        assert payload["session"] is None
        assert "set-cookie" not in response.headers


async def test_any_email_of_an_account_reaches_its_owners_and_user_managers(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    owner = await make_user(database, "owner@example.com", password=PASSWORD)
    manager = await make_user(database, "manager@example.com", password=PASSWORD)
    member = await make_user(database, "member@example.com", password=PASSWORD)
    account = await make_account(database, number="MX-5151", email="Compras@Cliente.mx")
    await make_membership(database, owner, account)
    await make_membership(database, manager, account, Role.MEMBER, [Permission.USERS_MANAGE])
    await make_membership(database, member, account, Role.MEMBER, [Permission.INVOICES_VIEW])
    async with database.session() as session, session.begin():
        session.add(Contact(account_id=account.id, first_name="Rosa", email="rosa@cliente.mx"))
    async with http_client(app) as http:
        client = GraphQLClient(http)
        for typed in ("compras@cliente.mx", "ROSA@cliente.mx", "mx-5151"):
            before = len(smtp_server.received)
            accepted = await client.data(REQUEST_RESET, {"login": typed})
            assert accepted["requestPasswordReset"] == {"accepted": True, "userErrors": []}
            await mail_worker.drain()
            recipients = sorted(m.recipients[0] for m in smtp_server.received[before:])
            assert recipients == ["manager@example.com", "owner@example.com"], typed
        # The code answers the email it was asked with and signs in its receiver.
        code = six_digit_code(
            next(m for m in smtp_server.received[-2:] if m.recipients == ["owner@example.com"]).text
        )
        assert (await _verify(client, "mx-5151", code))["grant"]
        # Known and unknown emails: the same answer, byte for byte.
        a = await client.post(REQUEST_RESET, {"login": "rosa@cliente.mx"})
        b = await client.post(REQUEST_RESET, {"login": "nadie@cliente.mx"})
        assert a.content == b.content
