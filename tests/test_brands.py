"""Brands: one portal for several companies. An account of brand B is mailed,
rendered and themed as B; an account without a brand as the settings say."""

from __future__ import annotations

import json
import re
import zlib
from datetime import date
from typing import Any

from sqlalchemy import select

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.importers.billing import import_billing
from clientzone.mailers.outbox import notify_account
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.contacts import EmailCategory
from clientzone.models.mail import EmailMessage
from tests.conftest import Portal
from tests.helpers import BASE_URL, gid, make_account, make_invoice
from tests.smtp_server import SmtpServer

ACME = {
    "type": "brand",
    "code": "acme-net",
    "companyName": "Acme Net",
    "logoUrl": "https://cdn.acme-net.example/logo.png",
    "supportEmail": "ayuda@acme-net.example",
    "supportPhone": "+52 55 1234 5678",
    "fromName": "Acme Net clientes",
    "fromAddress": "avisos@acme-net.example",
    "portalUrl": "https://clientes.acme-net.example/",
    "primaryColor": "#0a3d62",
    "accentColor": "#F39C12",
}
BRAND_FIELDS = "code name logoUrl supportEmail supportPhone portalUrl colors { primary accent }"
ACCOUNT_BRAND = (
    f"query AccountBrand($id: ID) {{ account(id: $id) {{ brand {{ {BRAND_FIELDS} }} }} }}"
)
BRAND = (
    "query Brand($code: String, $host: String) "
    f"{{ brand(code: $code, host: $host) {{ {BRAND_FIELDS} }} }}"
)
ACME_AS_GRAPHQL = {
    "code": "acme-net",
    "name": "Acme Net",
    "logoUrl": "https://cdn.acme-net.example/logo.png",
    "supportEmail": "ayuda@acme-net.example",
    "supportPhone": "+52 55 1234 5678",
    "portalUrl": "https://clientes.acme-net.example",
    "colors": {"primary": "#0A3D62", "accent": "#F39C12"},
}


def _line(**fields: Any) -> str:
    return json.dumps(fields)


async def _brand_account(database: Database, account: Account, brand: Any = "acme-net") -> None:
    """Import the brand and put the account in it, as the billing system does."""
    line = {"type": "account", "number": account.number, "name": account.name}
    report = await import_billing(
        database, [json.dumps(ACME), _line(**line, currency=account.currency, brand=brand)]
    )
    assert report.errors == []


async def _account(database: Database, account: Account) -> Account:
    async with database.session() as session:
        found = await session.get(Account, account.id)
    assert found is not None
    return found


async def _notice(database: Database, settings: Settings, account: Account) -> None:
    async with database.session() as session, session.begin():
        await notify_account(
            session,
            settings,
            account=account,
            category=EmailCategory.INVOICES,
            template="account_notice",
            title="Factura disponible",
            body="Su factura F-1 ya está disponible.",
        )


def _pdf_text(content: bytes) -> str:
    """The text drawn on a PDF's pages (fpdf2 deflates each page's stream)."""
    text = ""
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.DOTALL):
        try:
            text += zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            text += stream.decode("latin-1")
    return text


async def test_an_imported_brand_themes_its_accounts_and_the_rest_keep_the_default(
    portal: Portal, database: Database
) -> None:
    # given
    await _brand_account(database, portal.parent)
    # when
    branded = await portal.owner.data(ACCOUNT_BRAND, {"id": gid("Account", portal.parent.id)})
    plain = await portal.owner.data(ACCOUNT_BRAND, {"id": gid("Account", portal.other.id)})
    # then
    assert branded["account"]["brand"] == ACME_AS_GRAPHQL
    assert plain["account"]["brand"] == {
        "code": "default",
        "name": "clientzone",
        "logoUrl": None,
        "supportEmail": "soporte@example.com",
        "supportPhone": None,
        "portalUrl": "http://127.0.0.1:8000",
        "colors": {"primary": None, "accent": None},
    }
    # A member sees it like the account's name; a stranger not at all.
    member = await portal.member.data(ACCOUNT_BRAND, {"id": gid("Account", portal.parent.id)})
    assert member["account"]["brand"]["code"] == "acme-net"
    stranger = await portal.stranger.error_codes(
        ACCOUNT_BRAND, {"id": gid("Account", portal.parent.id)}
    )
    assert stranger == ["NOT_FOUND"]


async def test_a_login_page_finds_a_brand_by_code_or_host_without_signing_in(
    portal: Portal, database: Database
) -> None:
    await _brand_account(database, portal.parent)
    ask = portal.anonymous.data
    assert (await ask(BRAND, {"code": "acme-net"}))["brand"] == ACME_AS_GRAPHQL
    by_host = await ask(BRAND, {"host": "Clientes.Acme-Net.example:443"})
    assert by_host["brand"] == ACME_AS_GRAPHQL
    assert (await ask(BRAND, {}))["brand"]["code"] == "default"
    assert (await ask(BRAND, {"code": "default"}))["brand"]["name"] == "clientzone"
    assert (await ask(BRAND, {"host": "127.0.0.1"}))["brand"]["code"] == "default"
    for missing in (
        {"code": "nope"},
        {"host": "other.example"},
        {"host": "[::1"},
        {"code": "x" * 300},
    ):
        assert (await ask(BRAND, missing))["brand"] is None


async def test_mail_about_a_branded_account_is_from_and_about_its_brand(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    # given
    branded = await make_account(database, email="compras@cliente.example.com")
    plain = await make_account(database, email="pagos@otro.example.com")
    await _brand_account(database, branded)
    # when
    await _notice(database, mail_settings, await _account(database, branded))
    await _notice(database, mail_settings, plain)
    await MailWorker(database, mail_settings).drain()
    # then
    received = {r.recipients[0]: r for r in smtp_server.received}
    acme = received["compras@cliente.example.com"]
    assert acme.message["From"] == "Acme Net clientes <avisos@acme-net.example>"
    assert acme.sender == "avisos@acme-net.example"  # the envelope follows From
    assert acme.message["Reply-To"] == "ayuda@acme-net.example"
    assert acme.message["Message-ID"].endswith("@acme-net.example>")
    assert "Acme Net" in acme.text
    assert "https://clientes.acme-net.example" in acme.text
    assert "https://clientes.acme-net.example/email-preferences" in acme.text
    assert "Ferretera Central" not in acme.text + acme.html
    for shown in (
        'src="https://cdn.acme-net.example/logo.png"',
        "ayuda@acme-net.example",
        "+52 55 1234 5678",
        'href="https://clientes.acme-net.example/email-preferences"',
        "border-top: 4px solid #0A3D62",
    ):
        assert shown in acme.html
    # The default brand's mail is as it always was.
    default = received["pagos@otro.example.com"]
    assert default.message["From"] == "Área de clientes <no-reply@clientzone.example.com>"
    assert default.message["Reply-To"] is None
    assert "Ferretera Central" in default.text
    assert "http://127.0.0.1:8000/email-preferences" in default.text
    assert "border-top: 4px" not in default.html


async def test_an_invitation_to_a_branded_account_links_to_its_portal(
    portal: Portal, database: Database
) -> None:
    await _brand_account(database, portal.parent)
    data = await portal.owner.data(
        """mutation Invite($input: InviteUserInput!) {
          inviteUser(input: $input) { userErrors { code } }
        }""",
        {
            "input": {
                "accountId": gid("Account", portal.parent.id),
                "email": "nuevo@cliente.example.com",
                "permissions": ["INVOICES_VIEW"],
            }
        },
    )
    assert data["inviteUser"]["userErrors"] == []
    async with database.session() as session:
        message = (await session.execute(select(EmailMessage))).scalar_one()
    assert "https://clientes.acme-net.example/accept-invitation?token=" in message.text_body
    assert "Acme Net" in message.text_body
    assert message.from_address == "avisos@acme-net.example"


async def test_pdfs_of_a_branded_account_show_its_brand(portal: Portal, database: Database) -> None:
    await make_invoice(database, portal.parent, "F-1", issued_on=date(2026, 10, 1))
    await make_invoice(database, portal.other, "F-2", issued_on=date(2026, 10, 1))
    await _brand_account(database, portal.parent)
    query = """query Pdf($id: ID) {
      account(id: $id) { invoices { nodes { documents { kind url } } } }
    }"""
    texts = []
    for account in (portal.parent, portal.other):
        data = await portal.owner.data(query, {"id": gid("Account", account.id)})
        (url,) = [
            d["url"]
            for d in data["account"]["invoices"]["nodes"][0]["documents"]
            if d["kind"] == "PDF"
        ]
        response = await portal.anonymous.http.get(url.replace("http://127.0.0.1:8000", BASE_URL))
        assert response.status_code == 200
        texts.append(_pdf_text(response.content))
    assert "Acme Net" in texts[0]
    assert "ayuda@acme-net.example" in texts[0]
    assert "clientzone" not in texts[0]
    assert "clientzone" in texts[1]
    assert "soporte@example.com" in texts[1]


async def test_brand_lines_update_clear_and_refuse_bad_input(database: Database) -> None:
    account = await make_account(database, number="MX-9000")
    await _brand_account(database, account)
    renamed = {**ACME, "companyName": "Acme Fibra"}
    lines = [
        json.dumps(ACME),  # 1: unchanged: imported before
        json.dumps(renamed),  # 2: changed
        _line(type="brand", companyName="Sin código"),
        _line(**{**ACME, "code": "con espacio"}),
        _line(**{**ACME, "code": "default"}),
        _line(**{**ACME, "supportEmail": "no es correo"}),
        _line(**{**ACME, "fromAddress": None}),
        _line(**{**ACME, "portalUrl": "javascript:alert(1)"}),
        _line(**{**ACME, "logoUrl": "http://[::1"}),
        _line(**{**ACME, "primaryColor": "red"}),
        _line(**{**ACME, "accentColor": 7}),
        _line(type="account", number="MX-9001", name="X", currency="MXN", brand="otra"),
        _line(type="account", number="MX-9002", name="X", currency="MXN", brand=3),
        _line(
            type="account",
            number="MX-9000",
            name="Ferretería La Esperanza",
            currency="MXN",
            brand=None,
        ),
    ]
    report = await import_billing(database, lines)
    assert report.errors == [
        (3, "code is missing or not a text"),
        (4, "code may hold only letters, digits, '.', '_' and '-'"),
        (5, "code default is the default brand's (BRAND_CODE)"),
        (6, "supportEmail 'no es correo' is not an email address"),
        (7, "fromAddress is missing or not a text"),
        (8, "portalUrl must be an http(s) URL"),
        (9, "logoUrl must be an http(s) URL"),
        (10, "primaryColor must be a colour as #RRGGBB"),
        (11, "accentColor must be a colour as #RRGGBB"),
        (12, "unknown brand otra"),
        (13, "brand is not a text"),
    ]
    assert (report.skipped, report.imported) == (1, {"brand": 1, "account": 1})
    assert (await _account(database, account)).brand_id is None  # back to the default brand


async def test_a_brand_can_be_named_in_the_same_batch_and_changes_reach_mail_at_once(
    database: Database, settings: Settings
) -> None:
    account = await make_account(database, number="MX-9100", email="a@cliente.example.com")
    await _brand_account(database, account)
    await _notice(database, settings, await _account(database, account))
    report = await import_billing(database, [json.dumps({**ACME, "companyName": "Acme Fibra"})])
    assert report.imported == {"brand": 1}
    await _notice(database, settings, await _account(database, account))
    async with database.session() as session:
        bodies = (await session.execute(select(EmailMessage.text_body))).scalars().all()
    assert sorted("Acme Fibra" in body for body in bodies) == [False, True]


async def test_account_brands_are_loaded_once_per_request(
    portal: Portal, database: Database, sql_statements: Any
) -> None:
    await _brand_account(database, portal.parent)
    for account in portal.linked:
        await _brand_account(database, account)
    query = """query Linked($id: ID) {
      account(id: $id) { brand { code } linkedAccounts { nodes { brand { code } } } }
    }"""
    without = """query Linked($id: ID) {
      account(id: $id) { linkedAccounts { nodes { number } } }
    }"""
    variables = {"id": gid("Account", portal.parent.id)}
    with sql_statements() as plain:
        await portal.owner.data(without, variables)
    with sql_statements() as counted:
        data = await portal.owner.data(query, variables)
    assert [n["brand"]["code"] for n in data["account"]["linkedAccounts"]["nodes"]] == [
        "acme-net",
        "acme-net",
    ]
    assert counted.count == plain.count + 1
