"""EMAIL_CHANGE=staff: a login-email change waits for staff to approve or
reject it (staff.emailChangeRequests, staffApproveEmailChange,
staffRejectEmailChange), audited and mailed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.staff import StaffAuditRecord, StaffRole
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    link_token,
    login,
    make_staff,
    make_user,
    viewer_email,
)
from tests.smtp_server import SmtpServer

CHANGE = """
mutation($input: ChangeEmailInput!) {
  changeEmail(input: $input) { accepted status userErrors { field code message } }
}
"""
PENDING = "{ viewer { pendingEmailChange { newEmail } } }"
LIST = """{ staff { emailChangeRequests(first: 10) {
  totalCount nodes { id email newEmail status } } } }"""
APPROVE = """mutation($input: StaffApproveEmailChangeInput!) {
  staffApproveEmailChange(input: $input) {
    request { email newEmail status reason } userErrors { field code message } }
}"""
REJECT = """mutation($input: StaffRejectEmailChangeInput!) {
  staffRejectEmailChange(input: $input) {
    request { email newEmail status reason } userErrors { field code message } }
}"""
VERIFY = """mutation($token: String!) {
  verifyEmail(input: {token: $token}) { user { email } userErrors { code } }
}"""


def _codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


@pytest.fixture
async def staff_app(settings: Settings, database: Database) -> AsyncIterator[Any]:
    app = create_app(settings.model_copy(update={"email_change": "staff"}), database)
    yield app
    await app.state.close_clients()


async def _staff(app: Any, database: Database, role: StaffRole) -> AsyncIterator[GraphQLClient]:
    _, token = await make_staff(database, role)
    async with http_client(app) as http:
        yield GraphQLClient(http, token)


async def _ask(app: Any, database: Database, new_email: str) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        variables = {"input": {"newEmail": new_email, "currentPassword": PASSWORD}}
        payload = (await browser.data(CHANGE, variables))["changeEmail"]
        assert payload == {"accepted": True, "status": "AWAITING_STAFF", "userErrors": []}
        assert await viewer_email(browser) == "ana@example.com"
        pending = (await browser.data(PENDING))["viewer"]["pendingEmailChange"]
        assert pending == {"newEmail": new_email.lower()}


async def test_self_mode_answers_link_sent(
    app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        variables = {"input": {"newEmail": "nueva@example.com", "currentPassword": PASSWORD}}
        payload = (await browser.data(CHANGE, variables))["changeEmail"]
        assert payload["status"] == "LINK_SENT"
        assert (await browser.data(PENDING))["viewer"]["pendingEmailChange"] is None


async def test_staff_approve_then_the_link_switches_the_email(
    staff_app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await _ask(staff_app, database, "Ana.Nueva@example.com")
    await mail_worker.drain()
    # Only the notice to the current address; nothing to the new one yet.
    [notice] = smtp_server.received
    assert notice.recipients == ["ana@example.com"]
    assert "Nuestro equipo revisará la solicitud" in notice.text
    async for support in _staff(staff_app, database, StaffRole.SUPPORT_AGENT):
        listed = (await support.data(LIST))["staff"]["emailChangeRequests"]
        assert listed["totalCount"] == 1
        [node] = listed["nodes"]
        assert node["newEmail"] == "ana.nueva@example.com"
        assert node["status"] == "PENDING"
        # Approving is for admins.
        assert await support.error_codes(APPROVE, {"input": {"id": node["id"]}}) == ["FORBIDDEN"]
    async for admin in _staff(staff_app, database, StaffRole.ADMIN):
        approved = (await admin.data(APPROVE, {"input": {"id": node["id"]}}))[
            "staffApproveEmailChange"
        ]
        assert approved == {
            "request": {
                "email": "ana@example.com",
                "newEmail": "ana.nueva@example.com",
                "status": "APPROVED",
                "reason": None,
            },
            "userErrors": [],
        }
        again = (await admin.data(APPROVE, {"input": {"id": node["id"]}}))[
            "staffApproveEmailChange"
        ]
        assert _codes(again) == [("id", "NOT_PENDING")]
        assert (await admin.data(LIST))["staff"]["emailChangeRequests"]["totalCount"] == 0
    async with database.session() as session:
        audit = (await session.execute(select(StaffAuditRecord))).scalars().all()
    assert [(a.action.value, a.target) for a in audit] == [
        ("EMAIL_CHANGE_APPROVED", "ana@example.com -> ana.nueva@example.com")
    ]
    await mail_worker.drain()
    by_recipient = {m.recipients[0]: m for m in smtp_server.received[1:]}
    assert by_recipient["ana@example.com"].message["Subject"] == (
        "Hemos aprobado el cambio del email de tu acceso"
    )
    token = link_token(by_recipient["ana.nueva@example.com"].text, "verify-email")
    async with http_client(staff_app) as http:
        verified = (await GraphQLClient(http).data(VERIFY, {"token": token}))["verifyEmail"]
    assert verified["user"] == {"email": "ana.nueva@example.com"}


async def test_staff_reject_with_a_reason(
    staff_app: Any, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await _ask(staff_app, database, "otra@example.com")
    async for support in _staff(staff_app, database, StaffRole.SUPPORT_AGENT):
        [node] = (await support.data(LIST))["staff"]["emailChangeRequests"]["nodes"]
        blank = (await support.data(REJECT, {"input": {"id": node["id"], "reason": " "}}))[
            "staffRejectEmailChange"
        ]
        assert _codes(blank) == [("reason", "REQUIRED")]
        long = {"input": {"id": node["id"], "reason": "x" * 501}}
        assert _codes((await support.data(REJECT, long))["staffRejectEmailChange"]) == [
            ("reason", "TOO_LONG")
        ]
        wrong_id = {"input": {"id": gid("EmailChangeRequest", uuid.uuid4()), "reason": "No"}}
        assert await support.error_codes(REJECT, wrong_id) == ["NOT_FOUND"]
        reason = "No pudimos confirmar tu identidad por teléfono."
        rejected = (await support.data(REJECT, {"input": {"id": node["id"], "reason": reason}}))[
            "staffRejectEmailChange"
        ]
        assert rejected["request"]["status"] == "REJECTED"
        assert rejected["request"]["reason"] == reason
    async with database.session() as session:
        [audit] = (await session.execute(select(StaffAuditRecord))).scalars().all()
    assert audit.action.value == "EMAIL_CHANGE_REJECTED"
    assert audit.reason == reason
    await mail_worker.drain()
    by_subject = {m.message["Subject"]: m for m in smtp_server.received}
    rejection = by_subject["No hemos aprobado el cambio del email de tu acceso"]
    assert rejection.recipients == ["ana@example.com"]
    assert reason in rejection.text
    assert all(m.recipients == ["ana@example.com"] for m in smtp_server.received)
    async with http_client(staff_app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        assert (await browser.data(PENDING))["viewer"]["pendingEmailChange"] is None
        assert await viewer_email(browser) == "ana@example.com"


async def test_approving_a_taken_address_is_refused_and_a_new_request_replaces_the_old(
    staff_app: Any, database: Database
) -> None:
    await make_user(database, "luis@example.com", password=PASSWORD)
    await _ask(staff_app, database, "luis@example.com")
    async with http_client(staff_app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        variables = {"input": {"newEmail": "libre@example.com", "currentPassword": PASSWORD}}
        assert (await browser.data(CHANGE, variables))["changeEmail"]["status"] == (
            "AWAITING_STAFF"
        )
    async for admin in _staff(staff_app, database, StaffRole.ADMIN):
        listed = (await admin.data(LIST))["staff"]["emailChangeRequests"]
        assert [n["newEmail"] for n in listed["nodes"]] == ["libre@example.com"]
    await make_user(database, "libre@example.com", password=PASSWORD)
    async for admin in _staff(staff_app, database, StaffRole.ADMIN):
        taken = (await admin.data(APPROVE, {"input": {"id": listed["nodes"][0]["id"]}}))[
            "staffApproveEmailChange"
        ]
        assert _codes(taken) == [("id", "EMAIL_TAKEN")]


async def test_customers_and_anonymous_callers_cannot_decide(
    staff_app: Any, database: Database
) -> None:
    await _ask(staff_app, database, "otra@example.com")
    async with http_client(staff_app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        assert await browser.error_codes(LIST) == ["FORBIDDEN"]
        variables = {"input": {"id": gid("EmailChangeRequest", uuid.uuid4()), "reason": "x"}}
        assert await browser.error_codes(REJECT, variables) == ["FORBIDDEN"]
    async with http_client(staff_app) as http:
        assert await GraphQLClient(http).error_codes(LIST) == ["UNAUTHENTICATED"]
