"""Sign-up, verification links and changing the login email, end to end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import func, select

from clientzone.app import create_app
from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.base import utcnow
from clientzone.models.users import User
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    http_client,
    link_token,
    login,
    make_user,
    viewer_email,
)
from tests.smtp_server import SmtpServer

SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { accepted userErrors { field code message } }
}
"""
VERIFY = """
mutation($token: String!) {
  verifyEmail(input: {token: $token}) {
    user { email emailVerified } userErrors { field code message }
  }
}
"""
REQUEST_VERIFICATION = """
mutation($email: String) { requestEmailVerification(input: {email: $email}) { accepted } }
"""
CHANGE_EMAIL = """
mutation($input: ChangeEmailInput!) {
  changeEmail(input: $input) { accepted userErrors { field code message } }
}
"""

NEW_USER = {
    "email": "Nuevo@Example.com",
    "password": PASSWORD,
    "firstName": "Nicolás",
    "lastName": "Ortega",
}


def _codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def _users(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def test_sign_up_verify_then_sign_in(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    async with http_client(app) as http:
        client = GraphQLClient(http)
        payload = (await client.data(SIGN_UP, {"input": NEW_USER}))["signUp"]
        assert payload == {"accepted": True, "userErrors": []}
        await mail_worker.drain()
        # Not before the email is verified; the login sends the link again.
        early = (await login(client, "nuevo@example.com")).json()["data"]["login"]
        assert _codes(early) == [("email", "EMAIL_NOT_VERIFIED")]
        assert early["user"] is None
        await mail_worker.drain()
        assert [m.recipients for m in smtp_server.received] == [["nuevo@example.com"]] * 2
        assert smtp_server.received[0].message["Subject"] == "Confirma tu email"
        first = link_token(smtp_server.received[0].text, "verify-email")
        latest = link_token(smtp_server.received[1].text, "verify-email")
        # The newer link replaced the older one.
        stale = (await client.data(VERIFY, {"token": first}))["verifyEmail"]
        assert _codes(stale) == [("token", "INVALID_TOKEN")]
        verified = (await client.data(VERIFY, {"token": latest}))["verifyEmail"]
        assert verified == {
            "user": {"email": "nuevo@example.com", "emailVerified": True},
            "userErrors": [],
        }
        used = (await client.data(VERIFY, {"token": latest}))["verifyEmail"]
        assert _codes(used) == [("token", "INVALID_TOKEN")]
        signed_in = (await login(client, "nuevo@example.com")).json()["data"]["login"]
        assert signed_in["user"] == {"email": "nuevo@example.com"}


async def test_signing_up_with_a_registered_email_answers_the_same_and_tells_its_owner(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        known = await client.post(SIGN_UP, {"input": {**NEW_USER, "email": "ana@example.com"}})
        unknown = await client.post(SIGN_UP, {"input": {**NEW_USER, "email": "otro@example.com"}})
    assert known.content == unknown.content
    assert await _users(database) == 2  # ana and the new one; ana unchanged
    await mail_worker.drain()
    by_recipient = {m.recipients[0]: m for m in smtp_server.received}
    assert (
        by_recipient["ana@example.com"].message["Subject"] == "Ya tienes un acceso con este email"
    )
    assert "verify-email" not in by_recipient["ana@example.com"].text
    assert "verify-email" in by_recipient["otro@example.com"].text


async def test_sign_up_rejects_bad_input_field_by_field(app: Any, database: Database) -> None:
    async with http_client(app) as http:
        client = GraphQLClient(http)
        bad = {
            "email": "no-es-un-email",
            "password": "password123456",
            "firstName": " ",
            "lastName": "x" * 101,
        }
        payload = (await client.data(SIGN_UP, {"input": bad}, {"Accept-Language": "en"}))["signUp"]
    assert payload["accepted"] is False
    assert payload["userErrors"] == [
        {"field": "firstName", "code": "REQUIRED", "message": "This field is required."},
        {"field": "lastName", "code": "TOO_LONG", "message": "At most 100 characters."},
        {
            "field": "email",
            "code": "INVALID_EMAIL",
            "message": "Enter a valid email, such as name@company.com.",
        },
        {
            "field": "password",
            "code": "TOO_WEAK",
            "message": "It is easy to guess. Try several uncommon words.",
        },
    ]
    assert await _users(database) == 0


async def test_sign_up_can_be_turned_off(settings: Any, database: Database) -> None:
    app = create_app(settings.model_copy(update={"signup_enabled": False}), database)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        assert await client.data("{ signupEnabled }") == {"signupEnabled": False}
        payload = (await client.data(SIGN_UP, {"input": NEW_USER}))["signUp"]
    assert _codes(payload) == [(None, "SIGNUP_DISABLED")]
    await app.state.close_clients()


async def test_anyone_can_ask_whether_sign_up_is_open(app: Any) -> None:
    async with http_client(app) as http:
        assert await GraphQLClient(http).data("{ signupEnabled }") == {"signupEnabled": True}


async def test_a_verification_link_expires(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD, verified=False)
    start = utcnow()
    async with http_client(app) as http:
        client = GraphQLClient(http)
        await client.data(REQUEST_VERIFICATION, {"email": "ana@example.com"})
        await mail_worker.drain()
        token = link_token(smtp_server.received[0].text, "verify-email")
        with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
            late = (await client.data(VERIFY, {"token": token}))["verifyEmail"]
        assert _codes(late) == [("token", "INVALID_TOKEN")]
        blank = (await client.data(VERIFY, {"token": " "}))["verifyEmail"]
        assert _codes(blank) == [("token", "REQUIRED")]


async def test_requesting_verification_never_tells_whether_an_email_exists(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "pendiente@example.com", password=PASSWORD, verified=False)
    await make_user(database, "verificada@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        answers = {
            email: (await client.post(REQUEST_VERIFICATION, {"email": email})).content
            for email in ("pendiente@example.com", "verificada@example.com", "nadie@example.com")
        }
    assert len(set(answers.values())) == 1
    await mail_worker.drain()
    assert [m.recipients for m in smtp_server.received] == [["pendiente@example.com"]]


async def test_verification_emails_are_rate_limited_per_person(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD, verified=False)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        for _ in range(5):
            body = (await login(client, "ana@example.com")).json()["data"]["login"]
            assert _codes(body) == [("email", "EMAIL_NOT_VERIFIED")]
    await mail_worker.drain()
    assert len(smtp_server.received) == 3  # then quietly no more for an hour


async def test_change_email_switches_only_after_the_new_address_is_verified(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        variables = {"input": {"newEmail": "Ana.Nueva@Example.com", "currentPassword": PASSWORD}}
        payload = (await browser.data(CHANGE_EMAIL, variables))["changeEmail"]
        assert payload == {"accepted": True, "userErrors": []}
        assert await viewer_email(browser) == "ana@example.com"  # not yet
        await mail_worker.drain()
        by_recipient = {m.recipients[0]: m for m in smtp_server.received}
        notice = by_recipient["ana@example.com"]
        assert notice.message["Subject"] == "Se ha pedido cambiar el email de tu acceso"
        assert "a•••@example.com" in notice.text
        link = by_recipient["ana.nueva@example.com"]
        assert link.message["Subject"] == "Confirma tu nuevo email"
        token = link_token(link.text, "verify-email")
        verified = (await browser.data(VERIFY, {"token": token}))["verifyEmail"]
        assert verified["user"] == {"email": "ana.nueva@example.com", "emailVerified": True}
        assert await viewer_email(browser) == "ana.nueva@example.com"
        events = await browser.data("{ viewer { securityEvents { nodes { kind } } } }")
        kinds = [e["kind"] for e in events["viewer"]["securityEvents"]["nodes"]]
        assert kinds[:2] == ["EMAIL_CHANGED", "EMAIL_CHANGE_REQUESTED"]
    await mail_worker.drain()
    assert smtp_server.received[-1].recipients == ["ana@example.com"]
    assert smtp_server.received[-1].message["Subject"] == "El email de tu acceso ha cambiado"
    async with http_client(app) as http:
        client = GraphQLClient(http)
        old = (await login(client, "ana@example.com")).json()["data"]["login"]
        assert _codes(old) == [(None, "INVALID_CREDENTIALS")]
        new = (await login(client, "ana.nueva@example.com")).json()["data"]["login"]
        assert new["user"] == {"email": "ana.nueva@example.com"}


async def test_changing_to_a_registered_email_answers_the_same_and_tells_its_owner(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    await make_user(database, "luis@example.com", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        taken = await browser.post(
            CHANGE_EMAIL,
            {"input": {"newEmail": "luis@example.com", "currentPassword": PASSWORD}},
        )
        free = await browser.post(
            CHANGE_EMAIL,
            {"input": {"newEmail": "libre@example.com", "currentPassword": PASSWORD}},
        )
        assert taken.content == free.content
    await mail_worker.drain()
    to_luis = [m for m in smtp_server.received if m.recipients == ["luis@example.com"]]
    assert [m.message["Subject"] for m in to_luis] == ["Ya tienes un acceso con este email"]


async def test_change_email_rejects_bad_input(app: Any, database: Database) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        cases = [
            ({"newEmail": "", "currentPassword": PASSWORD}, [("newEmail", "REQUIRED")]),
            ({"newEmail": "ana@", "currentPassword": PASSWORD}, [("newEmail", "INVALID_EMAIL")]),
            (
                {"newEmail": "ANA@example.com", "currentPassword": PASSWORD},
                [("newEmail", "SAME_EMAIL")],
            ),
            (
                {"newEmail": "otra@example.com", "currentPassword": "incorrecta-123"},
                [("currentPassword", "INVALID_PASSWORD")],
            ),
            (
                {"newEmail": "otra@example.com", "currentPassword": ""},
                [("currentPassword", "REQUIRED")],
            ),
        ]
        for variables, expected in cases:
            payload = (await browser.data(CHANGE_EMAIL, {"input": variables}))["changeEmail"]
            assert payload["accepted"] is False
            assert _codes(payload) == expected, variables
    anonymous = {"input": {"newEmail": "x@example.com", "currentPassword": PASSWORD}}
    async with http_client(app) as http:
        assert await GraphQLClient(http).error_codes(CHANGE_EMAIL, anonymous) == ["UNAUTHENTICATED"]
