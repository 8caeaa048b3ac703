"""Adding an account with the same email to a login (requestAccountUnification,
confirmAccountUnification), end to end with the mail it sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.memberships import Membership, Role
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    link_token,
    login,
    make_account,
    make_membership,
    make_user,
    six_digit_code,
)
from tests.smtp_server import SmtpServer

REQUEST = """
mutation($number: String!) {
  requestAccountUnification(input: {customerNumber: $number}) {
    accepted userErrors { field code message }
  }
}
"""
CONFIRM = """
mutation($input: ConfirmAccountUnificationInput!) {
  confirmAccountUnification(input: $input) {
    account { number } userErrors { field code message }
  }
}
"""
ACTIVITY = """query($id: ID!) {
  account(id: $id) { activity { nodes { action actor target } } }
}"""


def _codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


@pytest.fixture
async def ana(app: Any, database: Database) -> AsyncIterator[GraphQLClient]:
    """Ana (verified), owner of MX-1000; MX-2000 has her email, MX-3000 another."""
    user = await make_user(database, "ana@example.com", password=PASSWORD)
    await make_membership(database, user, await make_account(database, number="MX-1000"))
    await make_account(database, number="MX-2000", name="Sucursal Norte", email="ANA@example.com")
    await make_account(database, number="MX-3000", email="luis@example.com")
    async with http_client(app) as http:
        client = GraphQLClient(http)
        await login(client, "ana@example.com")
        yield client


async def _account(database: Database, number: str) -> Account:
    async with database.session() as session:
        statement = select(Account).where(Account.number == number)  # type: ignore[arg-type]
        return (await session.execute(statement)).scalar_one()


async def _roles(database: Database, number: str) -> list[Role]:
    account = await _account(database, number)
    async with database.session() as session:
        statement = select(Membership).where(
            Membership.account_id == account.id  # type: ignore[arg-type]
        )
        return [m.role for m in (await session.execute(statement)).scalars()]


async def _request(client: GraphQLClient, number: str = "mx-2000 ") -> dict[str, Any]:
    return (await client.data(REQUEST, {"number": number}))["requestAccountUnification"]


async def _confirm(client: GraphQLClient, **given: str) -> dict[str, Any]:
    return (await client.data(CONFIRM, {"input": given}))["confirmAccountUnification"]


async def test_a_code_from_the_email_adds_the_account_as_owner(
    ana: GraphQLClient, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    assert await _request(ana) == {"accepted": True, "userErrors": []}
    await mail_worker.drain()
    [mail] = smtp_server.received
    assert mail.recipients == ["ana@example.com"]
    assert mail.message["Subject"] == "Confirma que quieres añadir la cuenta MX-2000"
    assert "30 minutos" in mail.text
    code = six_digit_code(mail.text)
    done = await _confirm(ana, code=code)
    assert done == {"account": {"number": "MX-2000"}, "userErrors": []}
    assert await _roles(database, "MX-2000") == [Role.OWNER]
    # Used once.
    again = await _confirm(ana, code=code)
    assert _codes(again) == [("code", "INVALID_CODE")]
    assert again["userErrors"][0]["message"].startswith("El código no es correcto")
    # Activity on the new account and on the one she already owned; a security event.
    new = await ana.data(ACTIVITY, {"id": gid("Account", (await _account(database, "MX-2000")).id)})
    assert new["account"]["activity"]["nodes"] == [
        {"action": "ACCOUNT_UNIFIED", "actor": "ana@example.com", "target": "ana@example.com"}
    ]
    old = await ana.data(ACTIVITY, {"id": gid("Account", (await _account(database, "MX-1000")).id)})
    assert old["account"]["activity"]["nodes"] == [
        {"action": "ACCOUNT_UNIFIED", "actor": "ana@example.com", "target": "MX-2000"}
    ]
    events = await ana.data("{ viewer { securityEvents { nodes { kind detail } } } }")
    assert events["viewer"]["securityEvents"]["nodes"][0] == {
        "kind": "ACCOUNT_UNIFIED",
        "detail": "MX-2000",
    }
    await mail_worker.drain()
    assert smtp_server.received[-1].message["Subject"] == (
        "La cuenta MX-2000 se ha añadido a tu acceso"
    )
    # Now a member: asking again says so.
    assert _codes(await _request(ana)) == [("customerNumber", "ALREADY_MEMBER")]


async def test_the_emailed_link_works_for_its_login_only_and_in_english(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    ana = await make_user(database, "ana@example.com", password=PASSWORD)
    await make_user(database, "luis@example.com", password=PASSWORD)
    await make_account(database, number="MX-2000", email="ana@example.com")
    english = {"Accept-Language": "en"}
    async with http_client(app) as http_a, http_client(app) as http_l:
        browser, other = GraphQLClient(http_a), GraphQLClient(http_l)
        await login(browser, "ana@example.com")
        await login(other, "luis@example.com")
        assert (await _request(browser))["accepted"] is True
        await mail_worker.drain()
        token = link_token(smtp_server.received[0].text, "unify-account")
        # Luis, signed in, cannot use Ana's link.
        stolen = (await other.post(CONFIRM, {"input": {"token": token}}, english)).json()
        payload = stolen["data"]["confirmAccountUnification"]
        assert _codes(payload) == [("token", "INVALID_TOKEN")]
        assert payload["userErrors"][0]["message"].startswith("The link is not valid")
        assert await _confirm(browser, token=token) == {
            "account": {"number": "MX-2000"},
            "userErrors": [],
        }
        assert _codes(await _confirm(browser, token=token)) == [("token", "INVALID_TOKEN")]
        empty = await _confirm(browser)
        assert _codes(empty) == [("code", "REQUIRED")]
    async with http_client(app) as http:
        anonymous = GraphQLClient(http)
        assert await anonymous.error_codes(CONFIRM, {"input": {"code": "123456"}}) == [
            "UNAUTHENTICATED"
        ]
        assert await anonymous.error_codes(REQUEST, {"number": "MX-2000"}) == ["UNAUTHENTICATED"]
    assert ana.id is not None


async def test_another_persons_account_and_an_unknown_number_answer_alike(
    ana: GraphQLClient, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    other = await ana.post(REQUEST, {"number": "MX-3000"})
    unknown = await ana.post(REQUEST, {"number": "MX-9999"})
    assert other.content == unknown.content
    payload = other.json()["data"]["requestAccountUnification"]
    assert payload["accepted"] is False
    assert _codes(payload) == [("customerNumber", "NOT_ELIGIBLE")]
    assert _codes(await _request(ana, " ")) == [("customerNumber", "REQUIRED")]
    assert _codes(await _request(ana, "X" * 500)) == [("customerNumber", "NOT_ELIGIBLE")]
    await mail_worker.drain()
    assert smtp_server.received == []
    assert await _roles(database, "MX-3000") == []


async def test_an_already_member_is_told(app: Any, database: Database) -> None:
    user = await make_user(database, "ana@example.com", password=PASSWORD)
    account = await make_account(database, number="MX-2000", email="ana@example.com")
    await make_membership(database, user, account, Role.MEMBER)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        await login(client, "ana@example.com")
        payload = await _request(client)
        assert _codes(payload) == [("customerNumber", "ALREADY_MEMBER")]
        assert payload["userErrors"][0]["message"] == "Esa cuenta ya está en tu acceso."


async def test_a_membership_granted_meanwhile_is_already_member_at_confirmation(
    ana: GraphQLClient, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await _request(ana)
    await mail_worker.drain()
    code = six_digit_code(smtp_server.received[0].text)
    async with database.session() as session:
        user_id = (await session.execute(select(Membership.user_id))).scalars().first()
    assert user_id is not None
    async with database.session() as session, session.begin():
        account = await _account(database, "MX-2000")
        session.add(
            Membership(
                user_id=user_id,
                account_id=account.id,
                account_number=account.number,
                role=Role.MEMBER,
            )
        )
    assert _codes(await _confirm(ana, code=code)) == [(None, "ALREADY_MEMBER")]


async def test_the_code_expires(
    ana: GraphQLClient, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await _request(ana)
    await mail_worker.drain()
    code = six_digit_code(smtp_server.received[0].text)
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        assert _codes(await _confirm(ana, code=code)) == [("code", "INVALID_CODE")]
    assert await _roles(database, "MX-2000") == []


async def test_wrong_codes_lock_the_request_and_a_new_request_replaces_the_old(
    ana: GraphQLClient, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await _request(ana)
    await mail_worker.drain()
    code = six_digit_code(smtp_server.received[0].text)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert _codes(await _confirm(ana, code=wrong)) == [("code", "INVALID_CODE")]
    # Five wrong guesses: even the right code no longer works.
    assert _codes(await _confirm(ana, code=code)) == [("code", "INVALID_CODE")]
    assert await _roles(database, "MX-2000") == []
    # More failures slow her down.
    codes = []
    for _ in range(3):
        codes.extend(await ana.error_codes(CONFIRM, {"input": {"code": wrong}}))
    assert "RATE_LIMITED" in codes


async def test_a_new_request_replaces_the_earlier_code(
    ana: GraphQLClient, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await _request(ana)
    await mail_worker.drain()
    await _request(ana)
    await mail_worker.drain()
    first, second = (six_digit_code(m.text) for m in smtp_server.received)
    if first != second:
        assert _codes(await _confirm(ana, code=first)) == [("code", "INVALID_CODE")]
    assert (await _confirm(ana, code=second))["account"] == {"number": "MX-2000"}


async def test_requests_are_rate_limited(
    ana: GraphQLClient, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    # Wrong numbers: five free, then growing waits.
    seen: list[str] = []
    for _ in range(7):
        response = (await ana.post(REQUEST, {"number": "MX-9999"})).json()
        seen.extend(e["extensions"]["code"] for e in response.get("errors", []))
    assert "RATE_LIMITED" in seen


async def test_confirmation_emails_are_a_few_per_hour(
    ana: GraphQLClient, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    for _ in range(5):
        assert (await _request(ana))["accepted"] is True
    assert await ana.error_codes(REQUEST, {"number": "MX-2000"}) == ["RATE_LIMITED"]
    await mail_worker.drain()
    assert len(smtp_server.received) == 5
