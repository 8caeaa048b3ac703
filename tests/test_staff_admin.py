"""Support sends undelivered mail again (staff.undeliveredEmails,
staffRetryEmail) and an admin links or unlinks accounts (staffLinkAccount,
staffUnlinkAccount): each audited, each refusal a userError."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, ActivityEntry
from clientzone.models.base import utcnow
from clientzone.models.mail import EmailMessage, EmailStatus
from clientzone.models.staff import StaffAuditRecord, StaffRole
from clientzone.models.user_tokens import UserToken
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    make_account,
    make_case,
    make_staff,
    make_user,
    queue_account_notices,
)

UNDELIVERED = """query($account: ID, $recipient: String) {
  staff { undeliveredEmails(accountId: $account, recipient: $recipient, first: 10) {
    totalCount nodes { id status template recipients accountId attempts lastError } } }
}"""
RETRY = """mutation($input: StaffRetryEmailInput!) {
  staffRetryEmail(input: $input) {
    email { id status attempts } userErrors { field code message } }
}"""
RESET = """mutation($input: StaffLoginInput!) {
  staffSendPasswordReset(input: $input) { userErrors { code } }
}"""
LINK = """mutation($input: StaffLinkAccountInput!) {
  staffLinkAccount(input: $input) {
    account { number } parentId userErrors { field code message } }
}"""
UNLINK = """mutation($input: StaffUnlinkAccountInput!) {
  staffUnlinkAccount(input: $input) {
    account { number } parentId userErrors { field code message } }
}"""


def _codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def _set_status(database: Database, template: str, status: EmailStatus) -> None:
    async with database.transaction() as session:
        await session.execute(
            update(EmailMessage)
            .where(col(EmailMessage.template) == template)
            .values(status=status, attempts=8, last_error="421 try later", deliveries={})
        )


async def _audit(database: Database) -> list[tuple[str, str | None, str | None]]:
    async with database.session() as session:
        rows = (await session.execute(select(StaffAuditRecord))).scalars().all()
    return [(r.action.value, r.target, r.reason) for r in rows]


async def test_support_sends_a_dead_or_failed_email_again(
    app: Any, database: Database, settings: Settings
) -> None:
    account = await make_account(database, number="MX-7000", email="avisos@example.com")
    await queue_account_notices(database, settings, account, 1)
    await make_user(database, "cliente@example.com", password=PASSWORD)
    agent, token = await make_staff(database, StaffRole.SUPPORT_AGENT)
    async with http_client(app) as http:
        staff = GraphQLClient(http, token)
        sent = await staff.data(RESET, {"input": {"email": "cliente@example.com"}})
        assert sent["staffSendPasswordReset"]["userErrors"] == []
        # Both still queued: nothing to retry, nothing listed.
        listed = await staff.data(UNDELIVERED)
        assert listed["staff"]["undeliveredEmails"]["totalCount"] == 0
        await _set_status(database, "password_reset", EmailStatus.DEAD)
        await _set_status(database, "account_notice", EmailStatus.FAILED)
        listed = (await staff.data(UNDELIVERED))["staff"]["undeliveredEmails"]
        assert [(n["status"], n["template"]) for n in listed["nodes"]] == [
            ("DEAD", "password_reset"),
            ("FAILED", "account_notice"),
        ]
        reset, notice = listed["nodes"]
        assert reset["accountId"] is None
        assert reset["lastError"] == "421 try later"
        assert notice["accountId"] == gid("Account", account.id)
        by_account = await staff.data(UNDELIVERED, {"account": gid("Account", account.id)})
        assert by_account["staff"]["undeliveredEmails"]["totalCount"] == 1
        by_address = await staff.data(UNDELIVERED, {"recipient": "CLIENTE@"})
        assert [n["template"] for n in by_address["staff"]["undeliveredEmails"]["nodes"]] == [
            "password_reset"
        ]

        for node in (reset, notice):
            done = await staff.data(
                RETRY, {"input": {"emailId": node["id"], "reason": " Caso 42 "}}
            )
            assert done["staffRetryEmail"]["userErrors"] == []
            assert done["staffRetryEmail"]["email"] == {
                "id": node["id"],
                "status": "QUEUED",
                "attempts": 0,
            }
        # Requeued already: not dead any more.
        again = await staff.data(RETRY, {"input": {"emailId": reset["id"], "reason": "otra"}})
        assert _codes(again["staffRetryEmail"]) == [("emailId", "NOT_DEAD")]
        assert again["staffRetryEmail"]["email"] is None
    assert await _audit(database) == [
        ("PASSWORD_RESET_SENT", "cliente@example.com", None),
        ("EMAIL_RETRIED", "password_reset cliente@example.com", "Caso 42"),
        ("EMAIL_RETRIED", f"account_notice {account.email}", "Caso 42"),
    ]
    async with database.session() as session:
        records = (await session.execute(select(StaffAuditRecord))).scalars().all()
    assert [r.staff_user_id for r in records] == [agent.id] * 3
    assert records[2].account_id == account.id


async def test_an_expired_reset_code_is_not_sent_again(app: Any, database: Database) -> None:
    await make_user(database, "cliente@example.com", password=PASSWORD)
    _, token = await make_staff(database, StaffRole.SUPPORT_AGENT)
    async with http_client(app) as http:
        staff = GraphQLClient(http, token)
        await staff.data(RESET, {"input": {"email": "cliente@example.com"}})
        await _set_status(database, "password_reset", EmailStatus.DEAD)
        async with database.transaction() as session:
            await session.execute(
                update(UserToken).values(expires_at=utcnow() - timedelta(minutes=1))
            )
        listed = await staff.data(UNDELIVERED)
        email_id = listed["staff"]["undeliveredEmails"]["nodes"][0]["id"]
        refused = await staff.data(RETRY, {"input": {"emailId": email_id, "reason": "x"}})
        assert _codes(refused["staffRetryEmail"]) == [("emailId", "EXPIRED_LINK")]
        english = await staff.data(
            RETRY,
            {"input": {"emailId": email_id, "reason": "x"}},
            headers={"Accept-Language": "en"},
        )
        assert "no longer works" in english["staffRetryEmail"]["userErrors"][0]["message"]
        for reason, code in ((" ", "REQUIRED"), ("x" * 501, "TOO_LONG")):
            bad = await staff.data(RETRY, {"input": {"emailId": email_id, "reason": reason}})
            assert _codes(bad["staffRetryEmail"]) == [("reason", code)]
    async with database.session() as session:
        message = (await session.execute(select(EmailMessage))).scalar_one()
    assert message.status is EmailStatus.DEAD
    assert [a for a, _, _ in await _audit(database)] == ["PASSWORD_RESET_SENT"]


async def _parents(database: Database) -> dict[str, str | None]:
    async with database.session() as session:
        rows = (await session.execute(select(Account))).scalars().all()
        numbers = {r.id: r.number for r in rows}
    return {r.number: numbers.get(r.parent_id) if r.parent_id else None for r in rows}


async def test_an_admin_links_and_unlinks_accounts(app: Any, database: Database) -> None:
    parent = await make_account(database, number="MX-8000")
    child = await make_account(database, number="MX-8001")
    other = await make_account(database, number="MX-8002")
    admin, token = await make_staff(database, StaffRole.ADMIN)
    ids = {a.number: gid("Account", a.id) for a in (parent, child, other)}

    def link(account: str, under: str, reason: str = "Grupo Norte") -> dict[str, Any]:
        return {"input": {"accountId": ids[account], "parentId": ids[under], "reason": reason}}

    async with http_client(app) as http:
        staff = GraphQLClient(http, token)
        done = (await staff.data(LINK, link("MX-8001", "MX-8000")))["staffLinkAccount"]
        assert done == {
            "account": {"number": "MX-8001"},
            "parentId": ids["MX-8000"],
            "userErrors": [],
        }
        refusals = [
            (link("MX-8001", "MX-8001"), ("parentId", "SELF_LINK")),
            (link("MX-8001", "MX-8000"), ("parentId", "ALREADY_LINKED")),
            (link("MX-8002", "MX-8001"), ("parentId", "PARENT_LINKED")),
            (link("MX-8000", "MX-8002"), ("accountId", "HAS_CHILDREN")),
            (link("MX-8002", "MX-8000", " "), ("reason", "REQUIRED")),
            (link("MX-8002", "MX-8000", "x" * 501), ("reason", "TOO_LONG")),
        ]
        for variables, expected in refusals:
            refused = (await staff.data(LINK, variables))["staffLinkAccount"]
            assert _codes(refused) == [expected], variables
            assert refused["account"] is None
        cycle = await staff.data(
            LINK, link("MX-8000", "MX-8001"), headers={"Accept-Language": "en"}
        )
        assert cycle["staffLinkAccount"]["userErrors"][0]["message"] == (
            "Account MX-8001 is itself linked: links are one level deep."
        )
        # Moved under another parent, as the command allows.
        moved = (await staff.data(LINK, link("MX-8001", "MX-8002")))["staffLinkAccount"]
        assert moved["parentId"] == ids["MX-8002"]
        unlinked = await staff.data(
            UNLINK, {"input": {"accountId": ids["MX-8001"], "reason": "Separada"}}
        )
        assert unlinked["staffUnlinkAccount"]["userErrors"] == []
        assert unlinked["staffUnlinkAccount"]["parentId"] is None
        not_linked = await staff.data(
            UNLINK, {"input": {"accountId": ids["MX-8001"], "reason": "Separada"}}
        )
        assert _codes(not_linked["staffUnlinkAccount"]) == [("accountId", "NOT_LINKED")]
        missing = await staff.execute(
            UNLINK, {"input": {"accountId": gid("Account", admin.id), "reason": "x"}}
        )
        assert [e["extensions"]["code"] for e in missing["errors"]] == ["NOT_FOUND"]
    assert await _parents(database) == {"MX-8000": None, "MX-8001": None, "MX-8002": None}
    assert await _audit(database) == [
        ("ACCOUNT_LINKED", "MX-8001 under MX-8000", "Grupo Norte"),
        ("ACCOUNT_LINKED", "MX-8001 under MX-8002", "Grupo Norte"),
        ("ACCOUNT_UNLINKED", "MX-8001 from MX-8002", "Separada"),
    ]
    async with database.session() as session:
        activity = (
            (
                await session.execute(
                    select(ActivityEntry).where(
                        col(ActivityEntry.action) == ActivityAction.ACCOUNT_LINKED
                    )
                )
            )
            .scalars()
            .all()
        )
    # The account and each parent it joined or left, each time, by the admin.
    assert (
        sorted(e.account_id.hex for e in activity if e.account_id == child.id) == [child.id.hex] * 3
    )
    assert {e.actor_user_id for e in activity} == {admin.id}
    assert len(activity) == 2 + 3 + 2


DESK = """query($filter: StaffCaseFilterInput) {
  staff { cases(first: 10, filter: $filter) { totalCount nodes { number waitingSince } } }
}"""


async def test_the_desk_lists_cases_waiting_since_before_a_time(
    app: Any, database: Database
) -> None:
    account = await make_account(database, number="MX-8100")
    now = utcnow()
    old = await make_case(database, account, "Sin respuesta", updated_at=now - timedelta(days=3))
    await make_case(database, account, "Reciente", updated_at=now - timedelta(hours=1))
    resolved = await make_case(
        database, account, "Resuelto", updated_at=now - timedelta(days=5), status="RESOLVED"
    )
    _, token = await make_staff(database, StaffRole.SUPPORT_AGENT)
    day_ago = (now - timedelta(days=1)).isoformat()
    async with http_client(app) as http:
        staff = GraphQLClient(http, token)
        waiting = (await staff.data(DESK, {"filter": {"waitingSince": day_ago}}))["staff"]
        assert waiting["cases"]["totalCount"] == 1
        assert [n["number"] for n in waiting["cases"]["nodes"]] == [old.display_number]
        # Without an offset the time is UTC; other statuses when asked for.
        naive = (now - timedelta(days=1)).replace(tzinfo=None).isoformat()
        both = await staff.data(
            DESK, {"filter": {"waitingSince": naive, "statuses": ["NEW", "RESOLVED"]}}
        )
        assert [n["number"] for n in both["staff"]["cases"]["nodes"]] == [
            resolved.display_number,
            old.display_number,
        ]
        everything = await staff.data(DESK)
        assert everything["staff"]["cases"]["totalCount"] == 2
