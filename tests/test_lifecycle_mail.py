"""Order and service mail from the billing import: each fact once, to exactly
the opted-in recipients in the account's language, never for old history;
category mail links to the email preferences, login mail does not; an address
refused for good is bouncing until it is changed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.importers.billing import import_billing
from clientzone.mailers.outbox import notify_user
from clientzone.mailers.scheduler import Scheduler
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.mail import EmailMessage
from clientzone.models.users import Locale
from tests.conftest import Portal
from tests.helpers import gid, make_account, make_user
from tests.smtp_server import SmtpServer


def _today() -> date:
    return datetime.now(UTC).date()


async def _account(database: Database, locale: Locale, domain: str) -> Account:
    """An account with a contact per category it may get, one for nothing of
    these, and an inactive one."""
    account = await make_account(database, email=f"cuenta@{domain}", locale=locale)
    async with database.session() as session, session.begin():
        session.add_all(
            [
                Contact(
                    account_id=account.id,
                    first_name="Compras",
                    email=f"compras@{domain}",
                    categories=frozenset({EmailCategory.PRODUCTS}),
                ),
                Contact(
                    account_id=account.id,
                    first_name="Dominios",
                    email=f"dominios@{domain}",
                    categories=frozenset({EmailCategory.DOMAINS}),
                ),
                Contact(
                    account_id=account.id,
                    first_name="Facturas",
                    email=f"facturas@{domain}",
                    categories=frozenset({EmailCategory.INVOICES, EmailCategory.GENERAL}),
                ),
                Contact(
                    account_id=account.id,
                    first_name="Baja",
                    email=f"baja@{domain}",
                    categories=frozenset({EmailCategory.PRODUCTS, EmailCategory.DOMAINS}),
                    active=False,
                ),
            ]
        )
    return account


def _order(account: Account, external_id: str, number: str, day: date, **extra: Any) -> str:
    return json.dumps(
        {
            "type": "order",
            "externalId": external_id,
            "account": account.number,
            "number": number,
            "orderedOn": day.isoformat(),
            "lines": [{"description": "Cemento", "quantity": "2", "unitPrice": "100.00"}],
            **extra,
        }
    )


def _service(account: Account, external_id: str, name: str, kind: str, **extra: Any) -> str:
    return json.dumps(
        {
            "type": "service",
            "externalId": external_id,
            "account": account.number,
            "name": name,
            "kind": kind,
            "recurringAmount": "299.00",
            **extra,
        }
    )


class _Run:
    """Import, announce, send: what `clientzone import` and the workers do."""

    def __init__(self, database: Database, settings: Settings, smtp_server: SmtpServer) -> None:
        self.database = database
        self.scheduler = Scheduler(database, settings)
        self.worker = MailWorker(database, settings)
        self.smtp_server = smtp_server

    async def __call__(self, lines: list[str]) -> dict[str, set[str]]:
        """The subjects sent by this run, each with its recipients."""
        before = len(self.smtp_server.received)
        report = await import_billing(self.database, lines)
        assert not report.errors, report.errors
        await self.scheduler.announce_imported()
        await self.worker.drain()
        sent: dict[str, set[str]] = {}
        for received in self.smtp_server.received[before:]:
            sent.setdefault(str(received.message["Subject"]), set()).update(received.recipients)
        return sent


async def test_orders_are_announced_when_placed_and_when_their_status_changes(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    # given a Spanish and an English account
    es = await _account(database, Locale.ES, "es.example.com")
    en = await _account(database, Locale.EN, "en.example.com")
    today = _today()
    run = _Run(database, mail_settings, smtp_server)
    lines = [
        _order(es, "o-1", "P-1", today, customerReference="OC-9"),
        _order(en, "o-2", "P-2", today - timedelta(days=3), status="CONFIRMED"),
        _order(es, "o-old", "P-0", today - timedelta(days=400), status="DELIVERED"),
    ]
    # when the orders are imported, then imported again
    first = await run(lines)
    again = await run(lines)
    # then each recent order is announced once, to the account and its active
    # PRODUCTS contacts, in the account's language; the old one never
    assert first == {
        f"Pedido P-1 recibido · {es.number}": {"cuenta@es.example.com", "compras@es.example.com"},
        f"Order P-2 received · {en.number}": {"cuenta@en.example.com", "compras@en.example.com"},
    }
    assert again == {}
    spanish = next(r for r in smtp_server.received if r.message["Content-Language"] == "es")
    assert "OC-9" in spanish.text
    assert "200.00 MXN" in spanish.text
    assert "Estado: pendiente" in spanish.text
    # when the billing system changes statuses (one order twice over two runs)
    changed = [
        _order(es, "o-1", "P-1", today, status="SHIPPED"),
        _order(en, "o-2", "P-2", today, status="CONFIRMED"),  # unchanged
        _order(es, "o-old", "P-0", today - timedelta(days=400)),  # no status given
    ]
    shipped = await run(changed)
    shipped_again = await run(changed)
    delivered = await run([_order(es, "o-1", "P-1", today, status="DELIVERED")])
    # then each change is told once
    assert shipped == {
        f"Pedido P-1: enviado · {es.number}": {"cuenta@es.example.com", "compras@es.example.com"}
    }
    assert shipped_again == {}
    assert delivered == {
        f"Pedido P-1: entregado · {es.number}": {
            "cuenta@es.example.com",
            "compras@es.example.com",
        }
    }


async def test_a_status_change_in_the_same_file_as_the_order_is_one_announcement(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    # given an order and its change of status in one file
    en = await _account(database, Locale.EN, "same.example.com")
    today = _today()
    run = _Run(database, mail_settings, smtp_server)
    sent = await run(
        [_order(en, "o-9", "P-9", today), _order(en, "o-9", "P-9", today, status="CANCELLED")]
    )
    # then the order is announced once, as it ends up
    assert list(sent) == [f"Order P-9 received · {en.number}"]
    assert "Status: cancelled" in smtp_server.received[-1].text


async def test_services_are_welcomed_once_and_told_when_suspended_or_expired(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    # given a Spanish and an English account
    es = await _account(database, Locale.ES, "srv-es.example.com")
    en = await _account(database, Locale.EN, "srv-en.example.com")
    today = _today()
    run = _Run(database, mail_settings, smtp_server)
    access = "Panel: https://panel.example.com\nUsuario: esperanza"
    lines = [
        _service(es, "s-1", "Hosting Pro", "HOSTING", startedOn=today.isoformat(),
                 accessInstructions=access),
        _service(en, "s-2", "example.com", "DOMAIN", startedOn=today.isoformat()),
        # old history, no start date, not active: no welcome
        _service(es, "s-old", "Hosting viejo", "HOSTING",
                 startedOn=(today - timedelta(days=400)).isoformat()),
        _service(es, "s-undated", "Correo", "OTHER"),
        _service(en, "s-off", "Backup", "HOSTING", status="SUSPENDED",
                 startedOn=today.isoformat()),
    ]  # fmt: skip
    # when the services are imported, then imported again
    first = await run(lines)
    again = await run(lines)
    # then each new active service is welcomed once, in PRODUCTS, a domain in
    # DOMAINS, with its access instructions
    assert first == {
        "El servicio Hosting Pro ya está activo": {
            "cuenta@srv-es.example.com",
            "compras@srv-es.example.com",
        },
        "Domain example.com is now active": {
            "cuenta@srv-en.example.com",
            "dominios@srv-en.example.com",
        },
    }
    assert again == {}
    welcome = next(r for r in smtp_server.received if r.message["Content-Language"] == "es")
    assert "Usuario: esperanza" in welcome.text
    assert "Usuario: esperanza" in welcome.html
    # when services are suspended or expire (and one is reactivated)
    changes = [
        _service(es, "s-1", "Hosting Pro", "HOSTING", status="SUSPENDED"),
        _service(en, "s-2", "example.com", "DOMAIN", status="EXPIRED"),
        _service(es, "s-old", "Hosting viejo", "HOSTING", status="CANCELLED"),
        _service(en, "s-off", "Backup", "HOSTING", status="ACTIVE"),
    ]
    changed = await run(changes)
    changed_again = await run(changes)
    # then the suspension and the expiry are told once each; a cancellation is
    # not mailed, and a reactivated service was welcomed (its first time active)
    assert changed == {
        "El servicio Hosting Pro está suspendido": {
            "cuenta@srv-es.example.com",
            "compras@srv-es.example.com",
        },
        "Domain example.com is expired": {
            "cuenta@srv-en.example.com",
            "dominios@srv-en.example.com",
        },
        "Service Backup is now active": {
            "cuenta@srv-en.example.com",
            "compras@srv-en.example.com",
        },
    }
    assert changed_again == {}


async def test_category_mail_links_to_the_email_preferences_and_login_mail_does_not(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    # given an order mail (a category) and a password notice (a login message)
    es = await _account(database, Locale.ES, "pref.example.com")
    await _Run(database, mail_settings, smtp_server)([_order(es, "o-p", "P-5", _today())])
    user = await make_user(database, "ana@pref.example.com")
    async with database.session() as session, session.begin():
        await notify_user(
            session, mail_settings, user=user, template="password_changed", reset=False
        )
    await MailWorker(database, mail_settings).drain()
    # then every copy of the category mail carries the link, the notice none
    link = f"{mail_settings.portal_base_url}/email-preferences"
    order_copies = [r for r in smtp_server.received if "P-5" in str(r.message["Subject"])]
    assert len(order_copies) == 2
    for copy in order_copies:
        assert f"Elija qué correos recibe: {link}" in copy.text
        assert f'href="{link}"' in copy.html
    notice = next(r for r in smtp_server.received if r.recipients == ["ana@pref.example.com"])
    assert "email-preferences" not in notice.text
    assert "email-preferences" not in notice.html


CONTACT = """
query($id: ID) {
  account(id: $id) { contacts(first: 10) { nodes { id email bouncing bouncedAt } } }
}
"""
UPDATE = """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) {
    contact { email bouncing bouncedAt } userErrors { field code }
  }
}
"""


async def test_an_address_refused_for_good_is_not_mailed_until_changed(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer, portal: Portal
) -> None:
    # given a PRODUCTS contact whose address the mail server refuses (550),
    # and one whose mailbox is full for now (452)
    account = portal.parent
    async with database.session() as session, session.begin():
        session.add_all(
            [
                Contact(
                    account_id=account.id,
                    first_name="Nadie",
                    email="nadie@esperanza.example.com",
                    categories=frozenset({EmailCategory.PRODUCTS}),
                ),
                Contact(
                    account_id=account.id,
                    first_name="Llena",
                    email="llena@esperanza.example.com",
                    categories=frozenset({EmailCategory.PRODUCTS}),
                ),
            ]
        )
    smtp_server.recorder.refuse["nadie@esperanza.example.com"] = "550 5.1.1 No such user"
    smtp_server.recorder.refuse["llena@esperanza.example.com"] = "452 4.2.2 Mailbox full"
    run = _Run(database, mail_settings, smtp_server)
    today = _today()
    # when an order is announced
    await run([_order(account, "o-b1", "B-1", today)])
    # then the refused contact is bouncing, the other one is not
    nodes = (await portal.owner.data(CONTACT, {"id": gid("Account", account.id)}))["account"][
        "contacts"
    ]["nodes"]
    by_email = {n["email"]: n for n in nodes}
    assert by_email["nadie@esperanza.example.com"]["bouncing"] is True
    assert by_email["nadie@esperanza.example.com"]["bouncedAt"] is not None
    assert by_email["llena@esperanza.example.com"]["bouncing"] is False
    assert by_email["llena@esperanza.example.com"]["bouncedAt"] is None
    # when another order is announced, the bouncing address is left out
    await run([_order(account, "o-b2", "B-2", today)])
    async with database.session() as session:
        message = (
            await session.execute(
                select(EmailMessage).where(col(EmailMessage.subject).contains("B-2"))
            )
        ).scalar_one()
    assert "nadie@esperanza.example.com" not in message.recipients
    assert "llena@esperanza.example.com" in message.recipients
    # when the contact's email is changed
    updated = await portal.owner.data(
        UPDATE,
        {
            "input": {
                "contactId": by_email["nadie@esperanza.example.com"]["id"],
                "email": "alguien@esperanza.example.com",
            }
        },
    )
    # then it is mailed again
    assert updated["updateContact"] == {
        "contact": {
            "email": "alguien@esperanza.example.com",
            "bouncing": False,
            "bouncedAt": None,
        },
        "userErrors": [],
    }
    sent = await run([_order(account, "o-b3", "B-3", today)])
    assert [subject for subject in sent if "B-3" in subject]
    assert "alguien@esperanza.example.com" in set().union(*sent.values())


PROFILE = "query($id: ID) { account(id: $id) { profile { email emailBouncing } } }"


async def test_an_account_email_refused_for_good_is_not_mailed_until_changed(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer, portal: Portal
) -> None:
    # given an account whose own email the mail server refuses (550)
    account = portal.parent
    async with database.session() as session, session.begin():
        session.add(
            Contact(
                account_id=account.id,
                first_name="Compras",
                email="compras@esperanza.example.com",
                categories=frozenset({EmailCategory.PRODUCTS}),
            )
        )
        row = await session.get(Account, account.id)
        assert row is not None
        row.email = "Pagos@Esperanza.example.com"
    smtp_server.recorder.refuse["Pagos@esperanza.example.com"] = "550 5.1.1 No such user"
    run = _Run(database, mail_settings, smtp_server)
    today = _today()
    query = {"id": gid("Account", account.id)}
    # when an order is announced
    await run([_order(account, "o-a1", "A-1", today)])
    # then the account's email is bouncing, and the next order leaves it out
    profile = (await portal.owner.data(PROFILE, query))["account"]["profile"]
    assert profile == {"email": "Pagos@Esperanza.example.com", "emailBouncing": True}
    second = await run([_order(account, "o-a2", "A-2", today)])
    assert list(second.values()) == [{"compras@esperanza.example.com"}]
    # when the billing import gives the account another email
    new_email = json.dumps(
        {
            "type": "account",
            "number": account.number,
            "name": account.name,
            "currency": account.currency,
            "email": "cobros@esperanza.example.com",
        }
    )
    third = await run([new_email, _order(account, "o-a3", "A-3", today)])
    # then it is mailed again
    assert list(third.values()) == [
        {"compras@esperanza.example.com", "cobros@esperanza.example.com"}
    ]
    profile = (await portal.owner.data(PROFILE, query))["account"]["profile"]
    assert profile["emailBouncing"] is False
