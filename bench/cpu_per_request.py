"""CPU per request on one worker, in-process: what the portal's screens cost.

    python bench/cpu_per_request.py [--accounts 10] [--invoices 10] [--requests 300]
                                    [--database-url postgresql://...] [--only NAME]

Builds one owner of N accounts, each with M invoices (every invoice with two
lines and a PDF document) and 60 ledger movements, then sends each query below
straight to the ASGI app (no HTTP client, no socket: the loop measures the
server's own work) and prints the CPU time of the whole process per request
(`time.process_time`, so the driver threads of aiosqlite count too), the wall
time and the SQL statements one request costs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import graphql_load
from bench.setup_data import prepare
from clientzone.app import create_app
from clientzone.config import MailSender, Settings
from clientzone.db import Database
from clientzone.models.base import new_id
from clientzone.models.invoices import Invoice, InvoiceDocument, InvoiceLine
from clientzone.models.ledger import LedgerEntry, MovementKind

FIRST_SCREEN = graphql_load.QUERY

TEN_BY_FIVE = """
query TenByFive {
  viewer {
    memberships(first: 10) {
      nodes {
        account {
          number name
          invoices(first: 5) { nodes { number issuedOn total { amount } status } }
        }
      }
    }
  }
}
"""

VIEWER_EMAIL = "query ViewerEmail { viewer { user { email } } }"

BILLING_SCREEN = """
query BillingScreen {
  account {
    invoices(first: 50) {
      nodes {
        number issuedOn dueOn status total { amount currency }
        lines { description quantity unitPrice { amount } total { amount } }
        documents { kind filename url }
      }
    }
    ledger(last: 50) {
      nodes { postedAt kind reference amount { amount } balance { amount } }
    }
  }
}
"""

QUERIES = {
    "first-screen": FIRST_SCREEN,
    "10x5": TEN_BY_FIVE,
    "viewer-email": VIEWER_EMAIL,
    "billing-screen": BILLING_SCREEN,
}


async def add_billing(
    database: Database, *, invoices: int, movements: int, first_accounts: int | None = None
) -> None:
    """M invoices (two lines and a PDF each) and some movements for every account,
    or for the first `first_accounts` by number (the ones a screen shows)."""
    from sqlalchemy import select

    from clientzone.models.accounts import Account

    rng = random.Random(7)
    now = datetime.now(UTC)
    today = now.date()
    columns = Account.__table__.c  # type: ignore[attr-defined]
    async with database.session() as session:
        found = await session.execute(
            select(columns.id).order_by(columns.number).limit(first_accounts)
        )
        account_ids = list(found.scalars())
    batch: dict[str, list[dict[str, Any]]] = {"invoices": [], "lines": [], "docs": [], "ledger": []}

    async def flush() -> None:
        async with database.session() as session, session.begin():
            for table, key in (
                (Invoice, "invoices"),
                (InvoiceLine, "lines"),
                (InvoiceDocument, "docs"),
                (LedgerEntry, "ledger"),
            ):
                if batch[key]:
                    await session.execute(insert(table), batch[key])
                    batch[key] = []

    for account_id in account_ids:
        for i in range(invoices):
            invoice_id = new_id()
            issued = today - timedelta(days=30 * i)
            total = 0
            for position in (1, 2):
                subtotal = rng.randint(10_000, 500_000)
                tax = subtotal * 16 // 100
                total += subtotal + tax
                batch["lines"].append(
                    {
                        "id": new_id(),
                        "invoice_id": invoice_id,
                        "position": position,
                        "description": f"Concepto {position}",
                        "quantity_milli": 1_000,
                        "unit_price_minor": subtotal,
                        "tax_rate_bp": 1600,
                        "subtotal_minor": subtotal,
                        "tax_minor": tax,
                        "total_minor": subtotal + tax,
                    }
                )
            batch["invoices"].append(
                {
                    "id": invoice_id,
                    "account_id": account_id,
                    "external_id": None,
                    "number": f"F-{uuid.uuid4().hex[:10]}",
                    "document_type": "CFDI_INGRESO",
                    "issued_on": issued,
                    "due_on": issued + timedelta(days=30),
                    "currency": "MXN",
                    "subtotal_minor": total * 100 // 116,
                    "tax_minor": total - total * 100 // 116,
                    "total_minor": total,
                    "paid_minor": 0 if i < 2 else total,
                    "status": "OPEN" if i < 2 else "PAID",
                    "created_at": now,
                }
            )
            batch["docs"].append(
                {
                    "id": new_id(),
                    "invoice_id": invoice_id,
                    "kind": "PDF",
                    "filename": f"{invoice_id.hex[:8]}.pdf",
                    "content_type": "application/pdf",
                    "size": 10,
                    "sha256": "0" * 64,
                    "content": b"%PDF-1.4\n%",
                    "created_at": now,
                }
            )
        balance = 0
        for seq in range(1, movements + 1):
            amount = rng.randint(-50_000, 80_000)
            balance += amount
            batch["ledger"].append(
                {
                    "id": new_id(),
                    "account_id": account_id,
                    "seq": seq,
                    "posted_at": now - timedelta(days=movements - seq),
                    "kind": MovementKind.INVOICE if amount > 0 else MovementKind.PAYMENT,
                    "reference": f"M-{seq:06d}",
                    "description": "",
                    "currency": "MXN",
                    "amount_minor": amount,
                    "balance_minor": balance,
                    "external_id": None,
                    "created_at": now,
                }
            )
        if len(batch["lines"]) > 4_000:
            await flush()
    await flush()


class AsgiCaller:
    """POSTs a GraphQL document straight into the ASGI app."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.headers = [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ]

    async def post(self, query: str) -> dict[str, Any]:
        body = json.dumps({"query": query}).encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [*self.headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        sent = False
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        result: dict[str, Any] = json.loads(b"".join(chunks))
        return result


async def measure(
    caller: AsgiCaller,
    database: Database,
    name: str,
    query: str,
    requests: int,
    profiler: cProfile.Profile | None = None,
) -> dict[str, Any]:
    body = await caller.post(query)
    assert "errors" not in body, (name, body)
    await graphql_load.until_sessions_cached(caller.app)
    await caller.post(query)
    with database.count_statements() as counted:
        await caller.post(query)
    for _ in range(20):  # warm the caches
        await caller.post(query)
    gc.collect()
    if profiler is not None:
        profiler.enable()
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(requests):
        c0, w0 = time.process_time(), time.perf_counter()
        answer = await caller.post(query)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        assert "errors" not in answer, (name, answer)
    if profiler is not None:
        profiler.disable()
    return {
        "query": name,
        "cpu_ms_mean": statistics.fmean(cpu),
        "cpu_ms_p50": statistics.median(cpu),
        "wall_ms_p50": statistics.median(wall),
        "statements": counted.count,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--invoices", type=int, default=10)
    parser.add_argument("--movements", type=int, default=60)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url")
    parser.add_argument("--only", choices=sorted(QUERIES))
    parser.add_argument(
        "--profile", metavar="FILE", help="write a cProfile of the timed requests to FILE"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        database = Database(url, pool_size=5)
        token, _ = await prepare(database, accounts=args.accounts)
        await add_billing(database, invoices=args.invoices, movements=args.movements)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=url,
            mail_sender=MailSender.OFF,
            log_level="WARNING",
            # One client sends everything here: no per-minute budget in the way.
            cost_budget_per_minute=10**9,
        )
        app = create_app(settings, database)
        caller = AsgiCaller(app, token)
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(
            f"{backend}, {args.accounts} accounts x {args.invoices} invoices, "
            f"{args.requests} requests each"
        )
        header = ("query", "CPU ms mean", "CPU ms p50", "wall ms p50", "SQL")
        print(f"{header[0]:<16} {header[1]:>12} {header[2]:>11} {header[3]:>12} {header[4]:>4}")
        for name, query in QUERIES.items():
            if args.only and name != args.only:
                continue
            profiler = cProfile.Profile() if args.profile else None
            row = await measure(caller, database, name, query, args.requests, profiler)
            if profiler is not None:
                profiler.dump_stats(f"{args.profile}.{name}")
            print(
                f"{row['query']:<16} {row['cpu_ms_mean']:>12.2f} {row['cpu_ms_p50']:>11.2f} "
                f"{row['wall_ms_p50']:>12.2f} {row['statements']:>4}"
            )
        await app.state.close_clients()
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
