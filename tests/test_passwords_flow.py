"""The strength meter, changing a password, and resetting a forgotten one,
end to end: codes and links are read from what a real SMTP server received."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine

from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.base import utcnow
from clientzone.models.memberships import Role
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

STRENGTH = """
query($p: String!, $info: [String!]) {
  passwordStrength(password: $p, personalInfo: $info) {
    score acceptable problem warning suggestions
  }
}
"""
CHANGE = """
mutation($input: ChangePasswordInput!) {
  changePassword(input: $input) { user { email } userErrors { field code message } }
}
"""
REQUEST_RESET = """
mutation($login: String!) {
  requestPasswordReset(input: {login: $login}) { accepted userErrors { field code message } }
}
"""
RESET = """
mutation($input: ResetPasswordInput!) {
  resetPassword(input: $input) { reset userErrors { field code message } }
}
"""
EVENTS = "{ viewer { securityEvents { nodes { kind } } } }"


async def _strength(client: GraphQLClient, password: str, **kw: Any) -> dict[str, Any]:
    data = await client.data(
        STRENGTH, {"p": password, **kw.get("variables", {})}, kw.get("headers")
    )
    result: dict[str, Any] = data["passwordStrength"]
    return result


async def test_strength_meter_scores_and_explains_in_the_requests_language(
    anonymous: GraphQLClient,
) -> None:
    weak = await _strength(anonymous, "password123", headers={"Accept-Language": "es"})
    assert weak["score"] <= 1
    assert weak["acceptable"] is False
    assert weak["problem"] == "TOO_WEAK"
    assert weak["warning"] == "Es una contraseña muy común."
    weak_en = await _strength(anonymous, "password123", headers={"Accept-Language": "en"})
    assert weak_en["warning"] == "This is a very common password."
    strong = await _strength(anonymous, "tortuga naranja bicicleta volcán")
    assert strong == {
        "score": 4,
        "acceptable": True,
        "problem": None,
        "warning": None,
        "suggestions": [],
    }
    short = await _strength(anonymous, "Xk9#mQ2v")
    assert short["problem"] == "TOO_SHORT"
    assert (await _strength(anonymous, "a" * 129))["problem"] == "TOO_LONG"
    personal = await _strength(
        anonymous, "valenzuela-tortuga-2026", variables={"info": ["Marta", "Valenzuela"]}
    )
    assert personal["problem"] == "CONTAINS_PERSONAL_INFO"


async def test_strength_meter_counts_the_viewers_own_name(app: Any, database: Database) -> None:
    await make_user(database, "ana@example.com", first_name="Anabella", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        result = await _strength(browser, "anabella-tortuga-volcan")
    assert result["problem"] == "CONTAINS_PERSONAL_INFO"


async def test_change_password_checks_the_current_one_and_the_policy(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", first_name="Anabella", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        cases = [
            (
                {"currentPassword": "wrong-password-x", "newPassword": NEW_PASSWORD},
                [("currentPassword", "INVALID_PASSWORD", "La contraseña actual no es correcta.")],
            ),
            (
                {"currentPassword": PASSWORD, "newPassword": "corta"},
                [("newPassword", "TOO_SHORT", "Usa al menos 10 caracteres.")],
            ),
            (
                {"currentPassword": PASSWORD, "newPassword": "a" * 129},
                [("newPassword", "TOO_LONG", "Usa como máximo 128 caracteres.")],
            ),
            (
                {"currentPassword": PASSWORD, "newPassword": "password1234"},
                [
                    (
                        "newPassword",
                        "TOO_WEAK",
                        "Es fácil de adivinar. Prueba con varias palabras poco comunes.",
                    )
                ],
            ),
            (
                {"currentPassword": PASSWORD, "newPassword": "anabella-en-el-volcan"},
                [
                    (
                        "newPassword",
                        "CONTAINS_PERSONAL_INFO",
                        "No incluyas tu nombre ni tu email en la contraseña.",
                    )
                ],
            ),
            (
                {"currentPassword": "", "newPassword": "corta"},
                [
                    ("newPassword", "TOO_SHORT", "Usa al menos 10 caracteres."),
                    ("currentPassword", "REQUIRED", "Este campo es obligatorio."),
                ],
            ),
        ]
        for variables, expected in cases:
            payload = (await browser.data(CHANGE, {"input": variables}))["changePassword"]
            assert payload["user"] is None
            got = [(e["field"], e["code"], e["message"]) for e in payload["userErrors"]]
            assert got == expected, variables
        english = await browser.data(
            CHANGE,
            {"input": {"currentPassword": PASSWORD, "newPassword": "corta"}},
            {"Accept-Language": "en"},
        )
        assert english["changePassword"]["userErrors"][0]["message"] == (
            "Use at least 10 characters."
        )
    # Nothing changed: the old password still works.
    async with http_client(app) as http:
        assert (await login(GraphQLClient(http), "ana@example.com")).json()["data"]["login"]["user"]


async def test_change_password_ends_other_sessions_and_sends_a_notice(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as here_http, http_client(app) as other_http:
        here, other = GraphQLClient(here_http), GraphQLClient(other_http)
        await login(here, "ana@example.com")
        await login(other, "ana@example.com")
        payload = await here.data(
            CHANGE, {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}}
        )
        assert payload["changePassword"] == {"user": {"email": "ana@example.com"}, "userErrors": []}
        assert await viewer_email(here) == "ana@example.com"
        assert await viewer_email(other) is None
        kinds = [e["kind"] for e in (await here.data(EVENTS))["viewer"]["securityEvents"]["nodes"]]
        assert kinds[0] == "PASSWORD_CHANGED"
    await mail_worker.drain()
    [notice] = smtp_server.received
    assert notice.recipients == ["ana@example.com"]
    assert notice.message["Subject"] == "Tu contraseña ha cambiado"
    assert NEW_PASSWORD not in notice.text
    assert PASSWORD not in notice.text
    async with http_client(app) as http:
        client = GraphQLClient(http)
        old = (await login(client, "ana@example.com")).json()["data"]["login"]
        assert [e["code"] for e in old["userErrors"]] == ["INVALID_CREDENTIALS"]
        new = (await login(client, "ana@example.com", NEW_PASSWORD)).json()["data"]["login"]
        assert new["user"] == {"email": "ana@example.com"}


async def _request_reset(client: GraphQLClient, login_name: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.data(REQUEST_RESET, {"login": login_name}))[
        "requestPasswordReset"
    ]
    return payload


async def _reset(client: GraphQLClient, **values: str) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await client.data(RESET, {"input": {"newPassword": NEW_PASSWORD, **values}})
    )["resetPassword"]
    return payload


async def test_reset_by_email_with_the_emailed_code(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as signed_in_http, http_client(app) as http:
        signed_in, client = GraphQLClient(signed_in_http), GraphQLClient(http)
        await login(signed_in, "ana@example.com")
        assert await _request_reset(client, "Ana@Example.com") == {
            "accepted": True,
            "userErrors": [],
        }
        await mail_worker.drain()
        [email] = smtp_server.received
        assert email.recipients == ["ana@example.com"]
        assert email.message["Subject"] == "Restablece tu contraseña"
        code = six_digit_code(email.text)
        assert code in email.html
        assert PASSWORD not in email.text
        response = await client.post(
            RESET,
            {"input": {"login": "ana@example.com", "code": code, "newPassword": NEW_PASSWORD}},
        )
        assert response.json()["data"]["resetPassword"] == {"reset": True, "userErrors": []}
        assert "set-cookie" not in response.headers  # not signed in automatically
        # Every session ended, the one signed in before included.
        assert await viewer_email(signed_in) is None
        # Single use.
        again = await _reset(client, login="ana@example.com", code=code)
        assert [e["code"] for e in again["userErrors"]] == ["INVALID_CODE"]
    await mail_worker.drain()
    notice = smtp_server.received[-1]
    assert notice.message["Subject"] == "Tu contraseña se ha restablecido"
    async with http_client(app) as http:
        client = GraphQLClient(http)
        new = (await login(client, "ana@example.com", NEW_PASSWORD)).json()["data"]["login"]
        assert new["user"] == {"email": "ana@example.com"}
        events = (await client.data(EVENTS))["viewer"]["securityEvents"]["nodes"]
        kinds = [e["kind"] for e in events]
        assert kinds[:3] == ["LOGIN_SUCCEEDED", "PASSWORD_RESET", "PASSWORD_RESET_REQUESTED"]


async def test_reset_with_the_emailed_link(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        await _request_reset(client, "ana@example.com")
        await mail_worker.drain()
        token = link_token(smtp_server.received[0].text, "reset-password")
        assert (await _reset(client, token="x" + token))["userErrors"][0]["code"] == "INVALID_CODE"
        assert await _reset(client, token=token) == {"reset": True, "userErrors": []}


async def test_reset_by_customer_number_reaches_the_owner_and_binds_the_code_to_it(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    owner = await make_user(database, "owner@example.com", password=PASSWORD)
    member = await make_user(database, "member@example.com", password=PASSWORD)
    account = await make_account(database, number="MX-4242")
    await make_membership(database, owner, account)
    await make_membership(database, member, account, Role.MEMBER)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        assert (await _request_reset(client, "mx-4242"))["accepted"] is True
        await mail_worker.drain()
        [email] = smtp_server.received
        assert email.recipients == ["owner@example.com"]
        code = six_digit_code(email.text)
        # The code answers only the login it was asked with.
        wrong_login = await _reset(client, login="owner@example.com", code=code)
        assert [e["code"] for e in wrong_login["userErrors"]] == ["INVALID_CODE"]
        assert await _reset(client, login="mx-4242", code=code) == {"reset": True, "userErrors": []}


async def test_known_and_unknown_logins_get_byte_identical_answers(
    app: Any, database: Database
) -> None:
    owner = await make_user(database, "ana@example.com", password=PASSWORD)
    await make_membership(database, owner, await make_account(database, number="MX-7000"))
    async with http_client(app) as http:
        client = GraphQLClient(http)
        for known, unknown in (
            ("ana@example.com", "nadie@example.com"),
            ("MX-7000", "MX-7001"),
        ):
            a = await client.post(REQUEST_RESET, {"login": known})
            b = await client.post(REQUEST_RESET, {"login": unknown})
            assert a.status_code == b.status_code == 200
            assert a.content == b.content
            wrong = {"newPassword": NEW_PASSWORD, "code": "000000"}
            c = await client.post(RESET, {"input": {**wrong, "login": known}})
            d = await client.post(RESET, {"input": {**wrong, "login": unknown}})
            assert c.content == d.content


async def test_a_code_allows_five_wrong_attempts_then_dies(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        await _request_reset(client, "ana@example.com")
        await mail_worker.drain()
        code = six_digit_code(smtp_server.received[0].text)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            failed = await _reset(client, login="ana@example.com", code=wrong)
            assert failed["userErrors"] == [
                {
                    "field": "code",
                    "code": "INVALID_CODE",
                    "message": "El código no es correcto o ha caducado. "
                    "Pide uno nuevo si hace falta.",
                }
            ]
        dead = await _reset(client, login="ana@example.com", code=code)
        assert [e["code"] for e in dead["userErrors"]] == ["INVALID_CODE"]


async def test_a_code_expires_after_ten_minutes(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    start = utcnow()
    async with http_client(app) as http:
        client = GraphQLClient(http)
        await _request_reset(client, "ana@example.com")
        await mail_worker.drain()
        code = six_digit_code(smtp_server.received[0].text)
        with time_machine.travel(start + timedelta(minutes=10, seconds=5), tick=False):
            late = await _reset(client, login="ana@example.com", code=code)
        assert [e["code"] for e in late["userErrors"]] == ["INVALID_CODE"]


async def test_a_new_request_replaces_the_previous_code(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        await _request_reset(client, "ana@example.com")
        await mail_worker.drain()
        first = six_digit_code(smtp_server.received[0].text)
        await _request_reset(client, "ana@example.com")
        await mail_worker.drain()
        second = six_digit_code(smtp_server.received[1].text)
        if first != second:
            old = await _reset(client, login="ana@example.com", code=first)
            assert [e["code"] for e in old["userErrors"]] == ["INVALID_CODE"]
        assert (await _reset(client, login="ana@example.com", code=second))["reset"] is True


async def test_reset_checks_input_and_policy_before_spending_the_code(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", first_name="Anabella", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        blank = await client.data(REQUEST_RESET, {"login": "  "})
        assert blank["requestPasswordReset"]["userErrors"][0]["code"] == "REQUIRED"
        missing = await _reset(client)
        assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [
            ("login", "REQUIRED"),
            ("code", "REQUIRED"),
        ]
        await _request_reset(client, "ana@example.com")
        await mail_worker.drain()
        code = six_digit_code(smtp_server.received[0].text)
        weak = await client.data(
            RESET,
            {
                "input": {
                    "login": "ana@example.com",
                    "code": code,
                    "newPassword": "anabella-volcan-1",
                }
            },
        )
        errors = weak["resetPassword"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [
            ("newPassword", "CONTAINS_PERSONAL_INFO")
        ]
        assert (await _reset(client, login="ana@example.com", code=code))["reset"] is True


async def test_reset_requests_are_rate_limited_per_login(app: Any, database: Database) -> None:
    async with http_client(app) as http:
        client = GraphQLClient(http)
        for _ in range(3):
            assert (await _request_reset(client, "nadie@example.com"))["accepted"] is True
        body = await client.execute(REQUEST_RESET, {"login": "NADIE@example.com"})
        [error] = body["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 3500 < error["extensions"]["retryAfter"] <= 3600
        # Another login is not affected.
        assert (await _request_reset(client, "otra@example.com"))["accepted"] is True


async def test_change_password_needs_a_session(anonymous: GraphQLClient) -> None:
    variables = {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}}
    assert await anonymous.error_codes(CHANGE, variables) == ["UNAUTHENTICATED"]
