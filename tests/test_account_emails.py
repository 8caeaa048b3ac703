"""Account.emails: the copy of every email sent to the account ("Ver mensaje")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.contacts import EmailCategory
from clientzone.models.mail import EmailMessage, EmailStatus
from clientzone.models.memberships import Permission, Role
from clientzone.models.users import Locale
from tests.conftest import Portal
from tests.helpers import gid, issue_token, make_membership, make_user

EMAILS = """
query Emails($filter: EmailFilterInput, $first: Int, $after: String) {
  account {
    emails(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id category subject sentAt recipients textBody htmlBody }
    }
  }
}
"""
NODE = "query N($id: ID!) { node(id: $id) { ... on EmailMessage { subject category } } }"
DAY = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _email(
    account: Account | None,
    subject: str,
    *,
    category: EmailCategory | None = EmailCategory.INVOICES,
    days: int = 0,
    status: EmailStatus = EmailStatus.SENT,
) -> EmailMessage:
    sent_at = DAY + timedelta(days=days)
    return EmailMessage(
        category=category,
        account_id=account.id if account else None,
        recipients=["compras@esperanza.example.com"],
        subject=subject,
        text_body=f"{subject} (texto)",
        html_body=f"<p>{subject}</p>",
        template="account_notice",
        locale=Locale.ES,
        message_id=f"<{subject.replace(' ', '-')}-{days}@example.com>",
        status=status,
        created_at=sent_at,
        sent_at=sent_at if status is EmailStatus.SENT else None,
    )


async def _seed(database: Database, portal: Portal) -> list[EmailMessage]:
    rows = [
        _email(portal.other, "Factura enero", days=0),
        _email(portal.other, "Novedades", category=EmailCategory.PRODUCTS, days=1),
        _email(portal.other, "Factura febrero", days=2),
        _email(portal.other, "Código de acceso", category=None, days=3),  # a login message
        _email(portal.other, "En cola", days=4, status=EmailStatus.QUEUED),
        _email(portal.foreign, "De otra cuenta", days=5),
    ]
    async with database.session() as session, session.begin():
        session.add_all(rows)
    return rows


async def test_lists_sent_account_emails_newest_first_without_login_messages(
    portal: Portal, database: Database
) -> None:
    await _seed(database, portal)
    data = await portal.owner.data(EMAILS)
    emails = data["account"]["emails"]
    assert emails["totalCount"] == 3
    assert [e["subject"] for e in emails["nodes"]] == [
        "Factura febrero",
        "Novedades",
        "Factura enero",
    ]
    first = emails["nodes"][0]
    assert first["sentAt"] == "2026-03-03T12:00:00+00:00"
    assert first["recipients"] == ["compras@esperanza.example.com"]
    assert first["htmlBody"] == "<p>Factura febrero</p>"
    assert first["textBody"] == "Factura febrero (texto)"


async def test_filters_by_category_and_dates_and_pages(portal: Portal, database: Database) -> None:
    await _seed(database, portal)
    invoices = await portal.owner.data(EMAILS, {"filter": {"category": "INVOICES"}})
    assert [e["subject"] for e in invoices["account"]["emails"]["nodes"]] == [
        "Factura febrero",
        "Factura enero",
    ]
    window = {"sentFrom": "2026-03-02T00:00:00+00:00", "sentTo": "2026-03-03T00:00:00+00:00"}
    dated = await portal.owner.data(EMAILS, {"filter": window})
    assert [e["subject"] for e in dated["account"]["emails"]["nodes"]] == ["Novedades"]
    page = await portal.owner.data(EMAILS, {"first": 2})
    rest = await portal.owner.data(
        EMAILS, {"first": 2, "after": page["account"]["emails"]["pageInfo"]["endCursor"]}
    )
    assert page["account"]["emails"]["pageInfo"]["hasNextPage"] is True
    assert [e["subject"] for e in rest["account"]["emails"]["nodes"]] == ["Factura enero"]


async def test_one_email_through_node(portal: Portal, database: Database) -> None:
    rows = await _seed(database, portal)
    mine = await portal.owner.data(NODE, {"id": gid("EmailMessage", rows[0].id)})
    assert mine["node"] == {"subject": "Factura enero", "category": "INVOICES"}
    for hidden in (rows[3], rows[4], rows[5]):  # login message, queued, another account's
        body = await portal.owner.execute(NODE, {"id": gid("EmailMessage", hidden.id)})
        assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


async def test_emails_need_the_emails_view_permission(portal: Portal, database: Database) -> None:
    rows = await _seed(database, portal)
    reader = await make_user(database, "lectora@example.com")
    billing = await make_user(database, "cobros@example.com")
    await make_membership(database, reader, portal.other, Role.MEMBER, [Permission.EMAILS_VIEW])
    await make_membership(database, billing, portal.other, Role.MEMBER, [Permission.INVOICES_VIEW])
    portal.anonymous.token = await issue_token(database, reader)
    allowed = await portal.anonymous.data(EMAILS)
    portal.anonymous.token = await issue_token(database, billing)
    refused = await portal.anonymous.execute(EMAILS)
    refused_node = await portal.anonymous.execute(NODE, {"id": gid("EmailMessage", rows[0].id)})
    assert allowed["account"]["emails"]["totalCount"] == 3
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "permission": "EMAILS_VIEW"}
    assert refused_node["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_another_accounts_emails_are_not_found(portal: Portal, database: Database) -> None:
    await _seed(database, portal)
    body = await portal.stranger.execute(
        "query E($id: ID) { account(id: $id) { emails { totalCount } } }",
        {"id": gid("Account", portal.other.id)},
    )
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


async def test_a_date_without_offset_is_read_as_utc(portal: Portal, database: Database) -> None:
    await _seed(database, portal)
    window = {"sentFrom": "2026-03-02T00:00:00", "sentTo": "2026-03-03T00:00:00"}
    data = await portal.owner.data(EMAILS, {"filter": window})
    assert [e["subject"] for e in data["account"]["emails"]["nodes"]] == ["Novedades"]
