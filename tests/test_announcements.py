"""News and announcements over GraphQL: staff publish (to everybody, a
country, a currency or a list of accounts) and withdraw; customers see what
is visible now for the accounts they reach, in their language, with their own
read marks; Markdown is sanitized; news email goes only to opted-in contacts,
once, through the scheduler."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from clientzone.config import Settings
from clientzone.db import Database, StatementCounter
from clientzone.mailers import scheduler as scheduler_module
from clientzone.mailers.scheduler import Scheduler
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.mail import EmailMessage
from clientzone.models.memberships import Role
from clientzone.models.staff import StaffAuditRecord, StaffRole
from clientzone.models.users import Locale
from tests.helpers import (
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_membership,
    make_staff,
    make_user,
    until_sessions_cached,
)
from tests.smtp_server import SmtpServer

PUBLISH = """
mutation($input: StaffPublishAnnouncementInput!) {
  staffPublishAnnouncement(input: $input) {
    announcement { id titleEs audience country currency accountNumbers bodyHtmlEs
                   visibleUntil withdrawnAt emailCategory }
    userErrors { field code message }
  }
}
"""
WITHDRAW = """
mutation($input: StaffWithdrawAnnouncementInput!) {
  staffWithdrawAnnouncement(input: $input) {
    announcement { id withdrawnAt } userErrors { field code message }
  }
}
"""
MARK = """
mutation($input: MarkAnnouncementReadInput!) {
  markAnnouncementRead(input: $input) { announcement { id readAt } userErrors { code } }
}
"""
VIEWER = """
query($unread: Boolean!) {
  viewer { announcements(first: 50, unreadOnly: $unread) {
    totalCount nodes { id title body bodyHtml readAt visibleFrom }
  } }
}
"""
ACCOUNT = """
query($id: ID!) { account(id: $id) { announcements { totalCount nodes { id title readAt } } } }
"""
STAFF_LIST = """
{ staff { announcements(first: 50) { totalCount nodes {
  id titleEs audience accountNumbers withdrawnAt emailDoneAt } } } }
"""


@dataclass
class News:
    database: Database
    admin: GraphQLClient
    ana: GraphQLClient  # owner of the Mexican account
    luis: GraphQLClient  # member of the Mexican account
    pedro: GraphQLClient  # owner of the Argentine account (English)
    mx: Account
    ar: Account


@pytest.fixture
async def news(app: Any, database: Database) -> AsyncIterator[News]:
    mx = await make_account(
        database, number="MX-1", country="MX", currency="MXN", email="cuenta@mx.example.com"
    )
    ar = await make_account(
        database,
        number="AR-1",
        country="AR",
        currency="ARS",
        locale=Locale.EN,
        email="cuenta@ar.example.com",
    )
    ana = await make_user(database, "ana@example.com")
    luis = await make_user(database, "luis@example.com")
    pedro = await make_user(database, "pedro@example.com")
    await make_membership(database, ana, mx)
    await make_membership(database, luis, mx, Role.MEMBER, [])
    await make_membership(database, pedro, ar)
    _, admin = await make_staff(database, StaffRole.ADMIN)
    async with http_client(app) as http:
        await GraphQLClient(http).data("query Start { __typename }")
        await until_sessions_cached(app)
        yield News(
            database=database,
            admin=GraphQLClient(http, admin),
            ana=GraphQLClient(http, await issue_token(database, ana)),
            luis=GraphQLClient(http, await issue_token(database, luis)),
            pedro=GraphQLClient(http, await issue_token(database, pedro)),
            mx=mx,
            ar=ar,
        )


def _at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def _publish(news: News, **fields: Any) -> dict[str, Any]:
    payload = {"titleEs": "Novedad", "bodyEs": "Texto", **fields}
    data = await news.admin.data(PUBLISH, {"input": payload})
    result: dict[str, Any] = data["staffPublishAnnouncement"]
    return result


async def _published(news: News, **fields: Any) -> str:
    result = await _publish(news, **fields)
    assert result["userErrors"] == []
    announcement_id: str = result["announcement"]["id"]
    return announcement_id


async def _titles(client: GraphQLClient, unread: bool = False) -> list[str]:
    data = await client.data(VIEWER, {"unread": unread})
    return [node["title"] for node in data["viewer"]["announcements"]["nodes"]]


async def test_bad_input_is_a_user_error_and_publishes_nothing(news: News) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"titleEs": "  "}, "titleEs", "REQUIRED"),
        ({"bodyEs": ""}, "bodyEs", "REQUIRED"),
        ({"titleEs": "x" * 201}, "titleEs", "TOO_LONG"),
        ({"bodyEs": "x" * 10_001}, "bodyEs", "TOO_LONG"),
        ({"titleEn": "y" * 201}, "titleEn", "TOO_LONG"),
        (
            {"visibleFrom": _at(timedelta(days=2)), "visibleUntil": _at(timedelta(days=1))},
            "visibleUntil",
            "INVALID_WINDOW",
        ),
        ({"audience": "COUNTRY"}, "country", "REQUIRED"),
        ({"audience": "COUNTRY", "country": "XX"}, "country", "INVALID_COUNTRY"),
        ({"audience": "CURRENCY", "currency": "pesos"}, "currency", "INVALID_CURRENCY"),
        ({"audience": "ACCOUNTS", "accountNumbers": []}, "accountNumbers", "REQUIRED"),
        (
            {"audience": "ACCOUNTS", "accountNumbers": ["MX-1", "NOPE-9"]},
            "accountNumbers",
            "UNKNOWN_ACCOUNTS",
        ),
        (
            {"audience": "ACCOUNTS", "accountNumbers": [f"N-{i}" for i in range(1001)]},
            "accountNumbers",
            "TOO_MANY_ACCOUNTS",
        ),
    ]
    for fields, field, code in cases:
        result = await _publish(news, **fields)
        assert result["announcement"] is None, fields
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(field, code)], fields
    english = await news.admin.data(
        PUBLISH,
        {"input": {"titleEs": "T", "bodyEs": "B", "audience": "ACCOUNTS", "accountNumbers": ["Z"]}},
        {"Accept-Language": "en"},
    )
    message = english["staffPublishAnnouncement"]["userErrors"][0]["message"]
    assert message == "These customer numbers do not exist: Z."
    staff = await news.admin.data(STAFF_LIST)
    assert staff["staff"]["announcements"]["totalCount"] == 0


async def test_audiences_all_country_currency_and_list(news: News) -> None:
    await _published(news, titleEs="Para todos")
    await _published(news, titleEs="Solo México", audience="COUNTRY", country="mx")
    await _published(news, titleEs="Solo pesos argentinos", audience="CURRENCY", currency="ARS")
    listed = await _publish(
        news, titleEs="Solo la lista", audience="ACCOUNTS", accountNumbers=["AR-1", " AR-1 "]
    )
    assert listed["announcement"]["accountNumbers"] == ["AR-1"]
    assert await _titles(news.ana) == ["Solo México", "Para todos"]
    assert await _titles(news.luis) == ["Solo México", "Para todos"]
    assert await _titles(news.pedro) == ["Solo la lista", "Solo pesos argentinos", "Para todos"]
    # Account.announcements: for that account, for any member
    data = await news.luis.data(ACCOUNT, {"id": gid("Account", news.mx.id)})
    assert [n["title"] for n in data["account"]["announcements"]["nodes"]] == [
        "Solo México",
        "Para todos",
    ]
    assert data["account"]["announcements"]["totalCount"] == 2
    # another account's list is out of reach
    codes = await news.ana.error_codes(ACCOUNT, {"id": gid("Account", news.ar.id)})
    assert codes == ["NOT_FOUND"]


async def test_window_not_yet_visible_and_expired(news: News) -> None:
    await _published(news, titleEs="Mañana", visibleFrom=_at(timedelta(days=1)))
    await _published(
        news,
        titleEs="Caducado",
        visibleFrom=_at(timedelta(days=-3)),
        visibleUntil=_at(timedelta(days=-1)),
    )
    await _published(
        news,
        titleEs="Esta semana",
        visibleFrom=_at(timedelta(days=-1)),
        visibleUntil=_at(timedelta(days=6)),
    )
    assert await _titles(news.ana) == ["Esta semana"]
    staff = await news.admin.data(STAFF_LIST)
    assert staff["staff"]["announcements"]["totalCount"] == 3


async def test_withdrawn_announcements_disappear(news: News, database: Database) -> None:
    announcement_id = await _published(news, titleEs="Corte programado")
    assert await _titles(news.ana) == ["Corte programado"]
    data = await news.admin.data(WITHDRAW, {"input": {"announcementId": announcement_id}})
    assert data["staffWithdrawAnnouncement"]["announcement"]["withdrawnAt"] is not None
    assert await _titles(news.ana) == []
    again = await news.admin.data(WITHDRAW, {"input": {"announcementId": announcement_id}})
    assert [e["code"] for e in again["staffWithdrawAnnouncement"]["userErrors"]] == [
        "ALREADY_WITHDRAWN"
    ]
    codes = await news.ana.error_codes(MARK, {"input": {"announcementId": announcement_id}})
    assert codes == ["NOT_FOUND"]
    staff = await news.admin.data(STAFF_LIST)
    assert staff["staff"]["announcements"]["nodes"][0]["withdrawnAt"] is not None
    missing = gid("Announcement", uuid.UUID(int=1))
    assert await news.admin.error_codes(WITHDRAW, {"input": {"announcementId": missing}}) == [
        "NOT_FOUND"
    ]
    async with database.session() as session:
        actions = (await session.execute(select(col(StaffAuditRecord.action)))).scalars().all()
    assert {a.value for a in actions} >= {"ANNOUNCEMENT_PUBLISHED", "ANNOUNCEMENT_WITHDRAWN"}


async def test_read_state_is_per_user(news: News) -> None:
    first = await _published(news, titleEs="Primera")
    await _published(news, titleEs="Segunda")
    marked = await news.ana.data(MARK, {"input": {"announcementId": first}})
    read_at = marked["markAnnouncementRead"]["announcement"]["readAt"]
    assert read_at is not None
    # marking again keeps the first time
    again = await news.ana.data(MARK, {"input": {"announcementId": first}})
    assert again["markAnnouncementRead"]["announcement"]["readAt"] == read_at
    ana = await news.ana.data(VIEWER, {"unread": False})
    assert {n["title"]: n["readAt"] for n in ana["viewer"]["announcements"]["nodes"]} == {
        "Primera": read_at,
        "Segunda": None,
    }
    assert await _titles(news.ana, unread=True) == ["Segunda"]
    # the other user of the same account keeps their own
    assert await _titles(news.luis, unread=True) == ["Segunda", "Primera"]
    luis = await news.luis.data(ACCOUNT, {"id": gid("Account", news.mx.id)})
    assert all(n["readAt"] is None for n in luis["account"]["announcements"]["nodes"])
    unread = await news.ana.data(VIEWER, {"unread": True})
    assert unread["viewer"]["announcements"]["totalCount"] == 1


async def test_marking_what_you_cannot_see_is_not_found(news: News) -> None:
    for_ar = await _published(news, audience="COUNTRY", country="AR")
    later = await _published(news, visibleFrom=_at(timedelta(hours=1)))
    for announcement_id in (for_ar, later, gid("Announcement", uuid.UUID(int=5)), "garbage"):
        codes = await news.ana.error_codes(MARK, {"input": {"announcementId": announcement_id}})
        assert codes == ["NOT_FOUND"], announcement_id
    assert await news.pedro.data(MARK, {"input": {"announcementId": for_ar}})


async def test_markdown_is_rendered_and_sanitized_in_the_request_language(news: News) -> None:
    body = (
        "**Hola** <script>alert(1)</script>\n\n"
        "[malo](javascript:alert(1)) [bueno](https://example.com/x)\n\n"
        '<a href="javascript:alert(2)" onclick="x()">crudo</a> <img src=x onerror=alert(3)>'
    )
    await _published(news, titleEs="Título", bodyEs=body, titleEn="Title", bodyEn="*Hello*")
    await _published(news, titleEs="Solo español", bodyEs="Cuerpo")
    node, fallback = (await news.ana.data(VIEWER, {"unread": False}))["viewer"]["announcements"][
        "nodes"
    ][::-1]
    html = node["bodyHtml"]
    assert "<strong>Hola</strong>" in html
    assert '<a href="https://example.com/x" rel="noopener noreferrer">bueno</a>' in html
    # what survives as markup: no script, image, handler or javascript: link
    # (the rest is shown as text)
    tags = _tags(html)
    assert {tag for tag, _ in tags} == {"p", "strong", "a"}
    assert [attrs for tag, attrs in tags if tag == "a"] == [
        {"href": "https://example.com/x", "rel": "noopener noreferrer"}
    ]
    assert node["body"] == body  # the source, as written
    assert fallback["title"] == "Solo español"
    english = await news.ana.data(VIEWER, {"unread": False}, {"Accept-Language": "en"})
    nodes = english["viewer"]["announcements"]["nodes"]
    assert [(n["title"], n["bodyHtml"]) for n in nodes] == [
        ("Solo español", "<p>Cuerpo</p>\n"),
        ("Title", "<p><em>Hello</em></p>\n"),
    ]


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    found: list[tuple[str, dict[str, str | None]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    Collector().feed(html)
    return found


async def _contacts(database: Database, account: Account, domain: str) -> None:
    async with database.session() as session, session.begin():
        session.add_all(
            [
                Contact(
                    account_id=account.id,
                    first_name="Noticias",
                    email=f"noticias@{domain}",
                    categories=frozenset({EmailCategory.GENERAL}),
                ),
                Contact(
                    account_id=account.id,
                    first_name="Compras",
                    email=f"compras@{domain}",
                    categories=frozenset({EmailCategory.PRODUCTS}),
                ),
                Contact(
                    account_id=account.id,
                    first_name="Baja",
                    email=f"baja@{domain}",
                    categories=frozenset({EmailCategory.GENERAL}),
                    active=False,
                ),
            ]
        )


async def _emails(database: Database) -> list[EmailMessage]:
    async with database.session() as session:
        statement = select(EmailMessage).where(col(EmailMessage.template) == "announcement")
        return list((await session.execute(statement)).scalars())


async def test_email_goes_once_to_opted_in_contacts_in_the_accounts_language(
    news: News, database: Database, settings: Settings
) -> None:
    await _contacts(database, news.mx, "mx.example.com")
    await _contacts(database, news.ar, "ar.example.com")
    quiet = await make_account(database, number="UY-1", country="UY", email="c@uy.example.com")
    body = "Nuevo **centro** de datos"
    await _published(
        news,
        titleEs="Mantenimiento",
        bodyEs=body,
        titleEn="Maintenance",
        emailCategory="GENERAL",
    )
    withdrawn = await _published(news, titleEs="Retirado", emailCategory="GENERAL")
    await news.admin.data(WITHDRAW, {"input": {"announcementId": withdrawn}})
    await _published(news, titleEs="Luego", emailCategory="GENERAL", visibleFrom=_at(timedelta(1)))
    await _published(news, titleEs="Sin correo")
    # the publication queued nothing: the scheduler does, in batches
    assert await _emails(database) == []
    scheduler = Scheduler(database, settings)
    first = await scheduler.run_once()
    second = await scheduler.run_once()
    assert first["announcement"] == 2
    assert not second.get("announcement")
    emails = {e.account_id: e for e in await _emails(database)}
    assert set(emails) == {news.mx.id, news.ar.id}  # UY has nobody opted in
    assert quiet.id not in emails
    mx, ar = emails[news.mx.id], emails[news.ar.id]
    assert mx.recipients == ["noticias@mx.example.com"]
    assert mx.unsubscribable == ["noticias@mx.example.com"]  # the headers are added on sending
    assert (mx.locale, mx.subject, mx.category) == (Locale.ES, "Mantenimiento", "GENERAL")
    assert "<strong>centro</strong>" in mx.html_body
    assert body in mx.text_body
    assert (ar.locale, ar.subject, ar.recipients) == (
        Locale.EN,
        "Maintenance",
        ["noticias@ar.example.com"],
    )
    assert "<strong>centro</strong>" in ar.html_body  # no English body: the Spanish one
    staff = await news.admin.data(STAFF_LIST)
    done = {n["titleEs"]: n["emailDoneAt"] for n in staff["staff"]["announcements"]["nodes"]}
    assert done["Mantenimiento"] is not None
    assert done["Luego"] is None
    assert done["Retirado"] is None


async def _statements(
    client: GraphQLClient,
    document: str,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
    variables: dict[str, Any] | None = None,
) -> int:
    with sql_statements() as counted:
        await client.data(document, variables)
    return counted.count


async def test_lists_take_a_fixed_number_of_statements(
    news: News, sql_statements: Callable[[], AbstractContextManager[StatementCounter]]
) -> None:
    await _published(news, audience="ACCOUNTS", accountNumbers=["MX-1"])
    await _published(news)
    await news.ana.data(VIEWER, {"unread": False})  # the session cache is warm from here
    few = [
        await _statements(news.ana, VIEWER, sql_statements, {"unread": False}),
        await _statements(news.ana, ACCOUNT, sql_statements, {"id": gid("Account", news.mx.id)}),
        await _statements(news.admin, STAFF_LIST, sql_statements),
    ]
    for i in range(15):
        await _published(news, audience="ACCOUNTS", accountNumbers=["MX-1", "AR-1"])
        await _published(news, titleEs=f"N{i}", audience="COUNTRY", country="MX")
    data = await news.ana.data(VIEWER, {"unread": False})
    assert data["viewer"]["announcements"]["totalCount"] == 32
    many = [
        await _statements(news.ana, VIEWER, sql_statements, {"unread": False}),
        await _statements(news.ana, ACCOUNT, sql_statements, {"id": gid("Account", news.mx.id)}),
        await _statements(news.admin, STAFF_LIST, sql_statements),
    ]
    assert few == many == [2, 4, 4]


async def test_email_batches_go_on_where_the_last_one_ended_with_unsubscribe_headers(
    news: News,
    database: Database,
    mail_settings: Settings,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler_module, "ANNOUNCEMENT_BATCH", 1)
    await _contacts(database, news.mx, "mx.example.com")
    await _contacts(database, news.ar, "ar.example.com")
    await _published(news, titleEs="Por lotes", titleEn="In batches", emailCategory="GENERAL")
    queued = await Scheduler(database, mail_settings).run_once()
    assert queued["announcement"] == 2
    assert {e.account_id for e in await _emails(database)} == {news.mx.id, news.ar.id}
    await mail_worker.drain()
    received = {str(r.message["Subject"]): r for r in smtp_server.received}
    assert set(received) == {"Por lotes", "In batches"}
    for message in received.values():
        assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert str(message.message["List-Unsubscribe"]).startswith("<http")


MEMBERSHIPS = """
{ viewer { memberships(first: 50) { nodes { account { number
  announcements(first: 3) { nodes { title readAt } pageInfo { hasNextPage } }
  unread: announcements(first: 3, unreadOnly: true) { nodes { title } }
} } } } }
"""


async def test_news_under_every_account_of_a_list_takes_a_fixed_number_of_statements(
    news: News,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    user = await make_user(database, "varias@example.com")
    client = GraphQLClient(news.ana.http, await issue_token(database, user))
    await make_membership(database, user, news.mx)
    read = await _published(news, titleEs="Para todos")
    await client.data(MARK, {"input": {"announcementId": read}})
    await client.data(MEMBERSHIPS)  # the session cache is warm from here
    few = await _statements(client, MEMBERSHIPS, sql_statements)
    for i in range(12):
        account = await make_account(database, number=f"CO-{i:02d}", country="CO", currency="COP")
        await make_membership(database, user, account)
        await _published(
            news, titleEs=f"Solo CO-{i:02d}", audience="ACCOUNTS", accountNumbers=[account.number]
        )
    await _published(news, titleEs="Colombia", audience="COUNTRY", country="CO")
    many = await _statements(client, MEMBERSHIPS, sql_statements)
    assert few == many
    data = await client.data(MEMBERSHIPS)
    accounts = {
        node["account"]["number"]: node["account"]
        for node in data["viewer"]["memberships"]["nodes"]
    }
    assert len(accounts) == 13
    assert [n["title"] for n in accounts["CO-03"]["announcements"]["nodes"]] == [
        "Colombia",
        "Solo CO-03",
        "Para todos",
    ]
    assert accounts["CO-03"]["announcements"]["pageInfo"]["hasNextPage"] is False
    assert [n["readAt"] is None for n in accounts["MX-1"]["announcements"]["nodes"]] == [False]
    assert accounts["MX-1"]["unread"]["nodes"] == []
    assert [n["title"] for n in accounts["CO-00"]["unread"]["nodes"]] == ["Colombia", "Solo CO-00"]


async def test_a_service_kind_audience_reaches_accounts_with_such_an_active_service(
    news: News,
) -> None:
    from clientzone.models.orders import BillingCycle, Service, ServiceKind, ServiceStatus

    async with news.database.session() as session, session.begin():
        for account, status in ((news.mx, ServiceStatus.ACTIVE), (news.ar, ServiceStatus.EXPIRED)):
            session.add(
                Service(
                    account_id=account.id,
                    name="ejemplo.mx",
                    kind=ServiceKind.DOMAIN,
                    status=status,
                    billing_cycle=BillingCycle.YEARLY,
                    currency=account.currency,
                    recurring_minor=30_000,
                )
            )
    missing = await _publish(news, audience="SERVICE_KIND")
    assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [("serviceKind", "REQUIRED")]
    await _published(news, titleEs="Dominios", audience="SERVICE_KIND", serviceKind="DOMAIN")
    await _published(news, titleEs="Hosting", audience="SERVICE_KIND", serviceKind="HOSTING")
    assert await _titles(news.ana) == ["Dominios"]
    assert await _titles(news.pedro) == []  # its domain expired
    staff = await news.admin.data("{ staff { announcements { nodes { titleEs serviceKind } } } }")
    assert staff["staff"]["announcements"]["nodes"] == [
        {"titleEs": "Hosting", "serviceKind": "HOSTING"},
        {"titleEs": "Dominios", "serviceKind": "DOMAIN"},
    ]
