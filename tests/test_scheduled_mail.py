"""Scheduled invoice mail: announced once, reminders once per step, to exactly
the opted-in recipients, however many schedulers run."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlmodel import col

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.importers.billing import import_billing
from clientzone.mailers.scheduler import Scheduler
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.jobs import ScheduledJob
from clientzone.models.mail import EmailMessage
from clientzone.models.orders import BillingCycle, Service, ServiceKind, ServiceStatus
from clientzone.models.users import Locale
from tests.helpers import make_account, make_invoice
from tests.smtp_server import SmtpServer, start_drain_worker
from tests.test_cli import run_cli

TODAY = date(2026, 12, 1)


def clock_at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


async def _account_with_contacts(database: Database, locale: Locale, domain: str) -> Account:
    account = await make_account(database, email=f"cuenta@{domain}", locale=locale)
    async with database.session() as session, session.begin():
        session.add_all(
            [
                Contact(
                    account_id=account.id,
                    first_name="Facturas",
                    email=f"facturas@{domain}",
                    categories=frozenset({EmailCategory.INVOICES, EmailCategory.GENERAL}),
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
                    categories=frozenset({EmailCategory.INVOICES}),
                    active=False,
                ),
            ]
        )
    return account


def _by_subject(smtp_server: SmtpServer) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for received in smtp_server.received:
        result.setdefault(str(received.message["Subject"]), set()).update(received.recipients)
    return result


async def test_a_new_invoice_is_announced_once_to_the_invoice_contacts_in_their_language(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    # given a Spanish and an English account, each with an invoice issued today,
    # and an invoice older than the cut-off
    es = await _account_with_contacts(database, Locale.ES, "es.example.com")
    en = await _account_with_contacts(database, Locale.EN, "en.example.com")
    await make_invoice(database, es, "A-1", issued_on=TODAY)
    await make_invoice(database, en, "B-1", issued_on=TODAY)
    await make_invoice(database, es, "A-0", issued_on=TODAY - timedelta(days=31), paid=True)
    scheduler = Scheduler(database, mail_settings, clock=lambda: clock_at(TODAY))
    # when the scheduler runs twice and the outbox is sent
    first = await scheduler.run_once()
    second = await scheduler.run_once()
    await mail_worker.drain()
    # then each new invoice is announced once, to the account and its
    # active INVOICES contacts only
    assert first["invoice_issued"] == 2
    assert not second
    assert _by_subject(smtp_server) == {
        f"Nueva factura A-1 · {es.number}": {"cuenta@es.example.com", "facturas@es.example.com"},
        f"New invoice B-1 · {en.number}": {"cuenta@en.example.com", "facturas@en.example.com"},
    }
    spanish = next(r for r in smtp_server.received if r.message["Content-Language"] == "es")
    assert "31/12/2026" in spanish.text  # due date, Spanish format
    assert "A-1" in spanish.html


async def test_the_billing_import_announces_new_invoices_but_not_old_history(
    database: Database, mail_settings: Settings
) -> None:
    # given an account
    account = await _account_with_contacts(database, Locale.ES, "imp.example.com")
    today = datetime.now(UTC).date()

    def invoice(external_id: str, number: str, issued: date) -> str:
        return json.dumps(
            {
                "type": "invoice",
                "externalId": external_id,
                "account": account.number,
                "number": number,
                "documentType": "CFDI_INGRESO",
                "issuedOn": issued.isoformat(),
                "dueOn": (issued + timedelta(days=30)).isoformat(),
                "lines": [{"description": "Cemento", "quantity": "1", "unitPrice": "100.00"}],
            }
        )

    lines = [
        invoice("inv-old", "H-1", today - timedelta(days=400)),
        invoice("inv-new", "N-1", today),
    ]
    scheduler = Scheduler(database, mail_settings)
    # when the file is imported, announced, and imported again
    report = await import_billing(database, lines)
    assert report.imported == {"invoice": 2}, report.errors
    announced = await scheduler.announce_imported()
    await import_billing(database, lines)
    again = await scheduler.announce_imported()
    # then only the new invoice was announced, once
    assert announced == Counter({"invoice_issued": 1})
    assert not again


async def _reminders_over(
    database: Database, settings: Settings, days: list[date]
) -> list[tuple[str, str]]:
    for day in days:
        await Scheduler(database, settings, clock=partial(clock_at, day)).run_once()
    async with database.session() as session:
        rows = await session.execute(
            select(col(ScheduledJob.kind), col(ScheduledJob.period)).order_by(
                col(ScheduledJob.period)
            )
        )
    return [(kind, period) for kind, period in rows.all() if kind != "invoice_issued"]


async def test_over_a_month_each_reminder_is_sent_once(
    database: Database, mail_settings: Settings
) -> None:
    # given an unpaid invoice due on December 10th (reminders 3 days before,
    # then 1, 7, 14 and 30 days late)
    account = await _account_with_contacts(database, Locale.EN, "month.example.com")
    await make_invoice(database, account, "M-1", issued_on=date(2026, 11, 10), due_days=30)
    # when the scheduler runs every day (twice a day) for two months
    days = [TODAY + timedelta(days=n) for n in range(60) for _ in range(2)]
    jobs = await _reminders_over(database, mail_settings, days)
    # then
    assert jobs == [
        ("invoice_due_soon", "2026-12-10"),
        ("invoice_overdue", "2026-12-10+1"),
        ("invoice_overdue", "2026-12-10+14"),
        ("invoice_overdue", "2026-12-10+30"),
        ("invoice_overdue", "2026-12-10+7"),
    ]


async def test_reminders_missed_while_stopped_are_caught_up_within_the_window(
    database: Database, mail_settings: Settings
) -> None:
    # given an unpaid invoice due on December 10th
    account = await _account_with_contacts(database, Locale.ES, "stop.example.com")
    await make_invoice(database, account, "S-1", issued_on=date(2026, 11, 10), due_days=30)
    # when the workers run until the 5th, are stopped until the 19th (the
    # due-soon and the 1-day reminders' windows passed; the 7-day one is
    # still open), then run again
    days = [TODAY + timedelta(days=n) for n in range(5)]
    days += [date(2026, 12, 19) + timedelta(days=n) for n in range(30)]
    jobs = await _reminders_over(database, mail_settings, days)
    # then the 7-day reminder was sent late, the missed ones are not sent
    assert jobs == [
        ("invoice_overdue", "2026-12-10+14"),
        ("invoice_overdue", "2026-12-10+30"),
        ("invoice_overdue", "2026-12-10+7"),
    ]


async def test_paid_invoices_get_no_reminder(database: Database, mail_settings: Settings) -> None:
    account = await _account_with_contacts(database, Locale.ES, "paid.example.com")
    await make_invoice(
        database, account, "P-1", issued_on=date(2026, 11, 10), due_days=30, paid=True
    )
    days = [TODAY + timedelta(days=n) for n in range(45)]
    assert await _reminders_over(database, mail_settings, days) == []


async def test_two_schedulers_at_once_queue_each_reminder_once(
    database: Database, mail_settings: Settings
) -> None:
    # given 60 invoices due in two days and 60 a day late
    account = await make_account(database, email="pagos@concurrent.example.com")
    for n in range(60):
        await make_invoice(database, account, f"C-{n}", issued_on=TODAY - timedelta(days=27))
        await make_invoice(database, account, f"D-{n}", issued_on=TODAY - timedelta(days=30))
    clock = lambda: clock_at(TODAY + timedelta(days=1))  # noqa: E731
    # when two schedulers run at the same moment
    results = await asyncio.gather(
        Scheduler(database, mail_settings, clock=clock).run_once(),
        Scheduler(database, mail_settings, clock=clock).run_once(),
    )
    # then together they queued each reminder once
    total = results[0] + results[1]
    assert total == Counter({"invoice_issued": 60, "invoice_due_soon": 60, "invoice_overdue": 60})
    async with database.session() as session:
        jobs = (await session.execute(select(func.count()).select_from(ScheduledJob))).scalar_one()
        emails = (
            await session.execute(select(func.count()).select_from(EmailMessage))
        ).scalar_one()
    assert jobs == emails == 180


async def test_two_worker_processes_send_each_reminder_once(
    database: Database, database_url: str, smtp_server: SmtpServer
) -> None:
    # given 100 invoices due tomorrow and 100 one day late, for today's date
    account = await make_account(database, email="pagos@workers.example.com")
    today = datetime.now(UTC).date()
    for n in range(100):
        await make_invoice(database, account, f"W-{n}", issued_on=today - timedelta(days=29))
        await make_invoice(database, account, f"X-{n}", issued_on=today - timedelta(days=31))

    async def worker() -> int:
        process = await start_drain_worker(
            database_url, smtp_server.port, stdout=asyncio.subprocess.PIPE
        )
        await asyncio.wait_for(process.communicate(), timeout=180)
        return process.returncode or 0

    # when two `clientzone worker --drain` processes start together
    assert list(await asyncio.gather(worker(), worker())) == [0, 0]
    # then each invoice got one reminder (and the recent ones, one announcement)
    subjects = Counter(str(r.message["Subject"]) for r in smtp_server.received)
    assert set(subjects.values()) == {1}
    kinds = Counter(subject.split(" ")[0] for subject in subjects)
    assert kinds == {"Nueva": 100, "La": 100, "Factura": 100}


async def test_jobs_list_shows_what_the_scheduler_did(
    database: Database, database_url: str, mail_settings: Settings
) -> None:
    account = await make_account(database, email="pagos@list.example.com")
    invoice = await make_invoice(database, account, "L-1", issued_on=TODAY)
    await Scheduler(database, mail_settings, clock=lambda: clock_at(TODAY)).run_once()
    listed = run_cli("jobs", "list", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["invoice_issued", "QUEUED", "1"]
    assert lines[-1].split()[2:] == ["invoice_issued", "-", "QUEUED", str(invoice.id)]


async def test_renewal_reminders_go_once_to_domains_or_products_contacts(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    # given an account without its own address, a DOMAINS and a PRODUCTS contact,
    # a domain and a hosting renewing on December 10th, and a cancelled service
    account = await make_account(database, locale=Locale.ES)
    async with database.session() as session, session.begin():
        session.add_all(
            [
                Contact(
                    account_id=account.id,
                    first_name="Dominios",
                    email="dominios@renew.example.com",
                    categories=frozenset({EmailCategory.DOMAINS}),
                ),
                Contact(
                    account_id=account.id,
                    first_name="Productos",
                    email="productos@renew.example.com",
                    categories=frozenset({EmailCategory.PRODUCTS}),
                ),
            ]
        )
        for name, kind, status in (
            ("esperanza.mx", ServiceKind.DOMAIN, ServiceStatus.ACTIVE),
            ("Hosting Pro", ServiceKind.HOSTING, ServiceStatus.ACTIVE),
            ("Soporte", ServiceKind.SUPPORT_PLAN, ServiceStatus.CANCELLED),
        ):
            session.add(
                Service(
                    account_id=account.id,
                    name=name,
                    kind=kind,
                    status=status,
                    billing_cycle=BillingCycle.YEARLY,
                    next_due_on=date(2026, 12, 10),
                    currency="MXN",
                    recurring_minor=45_000,
                )
            )
    # when the scheduler runs every day of the month
    for day in range(30):
        clock = partial(clock_at, date(2026, 11, 20) + timedelta(days=day))
        await Scheduler(database, mail_settings, clock=clock).run_once()
    await mail_worker.drain()
    # then one reminder each, to the contact of its category
    assert _by_subject(smtp_server) == {
        "El dominio esperanza.mx se renueva el 10/12/2026": {"dominios@renew.example.com"},
        "El servicio Hosting Pro se renueva el 10/12/2026": {"productos@renew.example.com"},
    }
    assert "450.00 MXN" in smtp_server.received[0].text
