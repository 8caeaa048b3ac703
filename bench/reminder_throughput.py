"""Invoice reminders at size: enqueue, then send, with two workers.

    python bench/reminder_throughput.py [--invoices 100000] [--send]
                                        [--database-url postgresql://...]

Builds one account (with an email) per invoice, every invoice open and due
in two days (inside INVOICE_DUE_SOON_DAYS), then times two schedulers running
at once (two `clientzone worker` processes find the same facts; each is
queued once) until every "due soon" reminder is queued. With `--send`, it
then times two `clientzone worker --drain` processes delivering them to an
SMTP sink on 127.0.0.1, and checks that each arrived exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.mail_throughput import CountingSink, run_workers
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.scheduler import Scheduler
from clientzone.migrate import upgrade
from clientzone.models.accounts import Account
from clientzone.models.base import new_id, utcnow
from clientzone.models.invoices import Invoice
from clientzone.models.mail import EmailMessage

BATCH = 5_000
TODAY = date(2026, 12, 1)


async def build(database: Database, invoices: int) -> None:
    await upgrade(database)
    now = utcnow()
    async with database.session() as session, session.begin():
        for start in range(0, invoices, BATCH):
            accounts, rows = [], []
            for i in range(start, min(start + BATCH, invoices)):
                account_id = new_id()
                accounts.append(
                    {
                        "id": account_id,
                        "number": f"R-{i:07d}",
                        "name": f"Cuenta {i}",
                        "status": "ACTIVE",
                        "currency": "MXN",
                        "locale": "es",
                        "email": f"cobros{i}@example.com",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                rows.append(
                    {
                        "id": new_id(),
                        "account_id": account_id,
                        "number": f"F-{i:07d}",
                        "document_type": "CFDI_INGRESO",
                        "status": "OPEN",
                        "issued_on": TODAY - timedelta(days=60),  # before the "issued" cut-off
                        "due_on": TODAY + timedelta(days=2),
                        "currency": "MXN",
                        "subtotal_minor": 100_000,
                        "tax_minor": 16_000,
                        "total_minor": 116_000,
                        "paid_minor": 0,
                        "created_at": now,
                    }
                )
            await session.execute(insert(Account), accounts)
            await session.execute(insert(Invoice), rows)


async def queued(database: Database) -> int:
    async with database.session() as session:
        statement = select(func.count()).where(
            EmailMessage.template == "invoice_due_soon"  # type: ignore[arg-type]
        )
        return int((await session.execute(statement)).scalar_one())


async def main_async(url: str, invoices: int, send: bool) -> None:
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    database = Database(url)
    started = time.perf_counter()
    await build(database, invoices)
    print(f"{invoices} open invoices due in 2 days, built in {time.perf_counter() - started:.0f} s")
    clock = lambda: datetime.combine(TODAY, clock_time(9), tzinfo=UTC)  # noqa: E731
    started = time.perf_counter()
    counts = await asyncio.gather(
        Scheduler(database, settings, clock=clock).run_once(),
        Scheduler(database, settings, clock=clock).run_once(),
    )
    enqueue = time.perf_counter() - started
    total = await queued(database)
    by_scheduler = [c["invoice_due_soon"] for c in counts]
    print(
        f"enqueue: {total} reminders in {enqueue:.1f} s ({total / enqueue:.0f}/s), "
        f"two schedulers queued {by_scheduler}"
    )
    if total != invoices or sum(by_scheduler) != invoices:
        raise SystemExit("a reminder was lost or queued twice")
    if send:
        sink = CountingSink()
        sink.start()
        try:
            seconds = await run_workers(url, sink.port, 2)
        finally:
            sink.stop()
        copies = Counter(sink.message_ids)
        if len(copies) != invoices or set(copies.values()) != {1}:
            raise SystemExit(f"lost or duplicated: {len(copies)} distinct of {invoices}")
        print(f"send: {invoices} in {seconds:.1f} s ({invoices / seconds:.0f}/s) with 2 workers")
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--send", action="store_true")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        print("backend", "PostgreSQL" if url.startswith("postgres") else "SQLite")
        asyncio.run(main_async(url, args.invoices, args.send))


if __name__ == "__main__":
    main()
