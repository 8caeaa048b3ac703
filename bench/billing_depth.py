"""Billing lists of one big account: ledger pages at depth, filtered invoice lists.

    python bench/billing_depth.py [--movements 100100] [--invoices 100000] [--page-size 50]
                                  [--repeat 50] [--database-url postgresql://...]

Creates one account with `movements` current-account movements (running
balances as post_movement stores them; the last movement is posted through
it) and `invoices` invoices issued over eight years, beside ten accounts with
2,000 of each. Then times, in-process over HTTP, `ledger(first: page-size,
after: <cursor>)` for the pages whose first row is movement 1, 1,000 and
100,000, `ledger(last: page-size)`, and `invoices(first: page-size, filter:
..., orderBy: ...)` for common filters and for the last page of the unfiltered
list. Prints median and p95 ms of `repeat` requests and the SQL statements
of one request.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text
from sqlmodel import SQLModel, col

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup_data import prepare
from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.core.ids import encode_global_id
from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.base import new_id, utcnow
from clientzone.models.invoices import Invoice, InvoiceLine, InvoiceStatus
from clientzone.models.ledger import LedgerEntry, MovementKind, post_movement
from clientzone.resolvers.invoices import today as invoices_today
from clientzone.schema.pagination import encode_cursor

LEDGER_DEPTHS = (1, 1_000, 100_000)
YEARS = 8
OTHER_ACCOUNTS = 10
OTHER_ROWS = 2_000
BATCH = 5_000
WARM_UP = 3
CURRENCY = "MXN"
PREFIX = {
    MovementKind.INVOICE: "F",
    MovementKind.PAYMENT: "P",
    MovementKind.CREDIT_NOTE: "NC",
    MovementKind.ADJUSTMENT: "AJ",
    MovementKind.REFUND: "R",
}

LEDGER_QUERY = """
query Ledger($id: ID, $first: Int, $after: String, $last: Int) {
  account(id: $id) {
    ledger(first: $first, after: $after, last: $last) {
      nodes { postedAt kind reference description amount { amount } balance { amount } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""

INVOICES_QUERY = """
query Invoices(
  $id: ID, $first: Int, $after: String, $filter: InvoiceFilterInput,
  $orderBy: InvoiceOrder! = ISSUED_ON_DESC, $count: Boolean! = false
) {
  account(id: $id) {
    invoices(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount @include(if: $count)
      nodes {
        number issuedOn dueOn status documentType { code name }
        total { amount currency } balanceDue { amount }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

Row = dict[str, Any]


@dataclass
class InvoiceData:
    invoices: list[Row] = field(default_factory=list)
    lines: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Timing:
    label: str
    median_ms: float
    p95_ms: float
    statements: int
    matches: int | None = None


def _amount(rng: random.Random) -> int:
    """A subtotal in minor units: log-normal around 3,000.00, at least 10.00."""
    return max(1_000, int(rng.lognormvariate(math.log(300_000), 1.0)))


def _movement(rng: random.Random, balance: int) -> tuple[MovementKind, int]:
    draw = rng.random()
    if draw < 0.50:
        return MovementKind.INVOICE, _amount(rng)
    if draw < 0.90:  # a payment of part or all of what is owed
        return MovementKind.PAYMENT, -rng.randint(1, max(balance, 100_000))
    if draw < 0.95:
        return MovementKind.CREDIT_NOTE, -(_amount(rng) // 4)
    if draw < 0.97:
        return MovementKind.REFUND, _amount(rng) // 4
    return MovementKind.ADJUSTMENT, rng.choice((-1, 1)) * rng.randint(1, 50_000)


def ledger_rows(account_id: uuid.UUID, count: int, rng: random.Random, now: datetime) -> list[Row]:
    """`count` movements over the last YEARS years, seq 1..count, each with the
    balance after it: the previous balance plus its amount, as post_movement does."""
    since = now - timedelta(days=365 * YEARS)
    step = (now - since) / (count + 1)
    balance = 0
    rows: list[Row] = []
    for seq in range(1, count + 1):
        kind, amount = _movement(rng, balance)
        balance += amount
        rows.append(
            {
                "id": new_id(),
                "account_id": account_id,
                "seq": seq,
                "posted_at": since + step * seq,
                "kind": kind,
                "reference": f"{PREFIX[kind]}-{seq:07d}",
                "description": f"{kind.value.lower()} {seq}",
                "currency": CURRENCY,
                "amount_minor": amount,
                "balance_minor": balance,
                "external_id": None,
                "created_at": now,
            }
        )
    return rows


def _status(rng: random.Random, issued: date, due: date, today: date) -> InvoiceStatus:
    """Mostly PAID, 3 % VOID; OPEN when not yet due; 1 % of those due in the last
    90 days still OPEN (overdue): an account that pays on time, with a few late."""
    if (today - issued).days < 3 and rng.random() < 0.3:
        return InvoiceStatus.DRAFT
    draw = rng.random()
    if due >= today:
        return InvoiceStatus.PAID if draw < 0.2 else InvoiceStatus.OPEN
    overdue = 0.01 if (today - due).days < 90 else 0.0
    if draw < overdue:
        return InvoiceStatus.OPEN
    if draw < overdue + 0.03:
        return InvoiceStatus.VOID
    return InvoiceStatus.PAID


def invoice_rows(
    account_id: uuid.UUID, count: int, rng: random.Random, today: date, now: datetime
) -> InvoiceData:
    """`count` invoices issued evenly over the last YEARS years (numbered in issue
    order); every tenth one has 1-3 lines that add up to its totals."""
    first_day = today - timedelta(days=365 * YEARS)
    span = (today - first_day).days
    data = InvoiceData()
    for i in range(count):
        invoice_id = new_id()
        issued = first_day + timedelta(days=i * span // count)
        due = issued + timedelta(days=rng.choice((15, 30, 30, 30, 60)))
        status = _status(rng, issued, due, today)
        draw = rng.random()
        kind = "CFDI_INGRESO" if draw < 0.92 else "FACTURA" if draw < 0.97 else "CFDI_EGRESO"
        if i % 10 == 0:
            lines: list[Row] = []
            for position in range(1, rng.randint(1, 3) + 1):
                quantity_milli = rng.choice((1_000, 2_000, 1_500, 12_000))
                unit_price = _amount(rng) // 4
                subtotal = quantity_milli * unit_price // 1_000
                tax = round(subtotal * 0.16)
                lines.append(
                    {
                        "id": new_id(),
                        "invoice_id": invoice_id,
                        "position": position,
                        "description": f"Servicio {position}",
                        "quantity_milli": quantity_milli,
                        "unit_price_minor": unit_price,
                        "tax_rate_bp": 1_600,
                        "subtotal_minor": subtotal,
                        "tax_minor": tax,
                        "total_minor": subtotal + tax,
                    }
                )
            data.lines.extend(lines)
            subtotal = sum(line["subtotal_minor"] for line in lines)
            tax = sum(line["tax_minor"] for line in lines)
        else:
            subtotal = _amount(rng)
            tax = round(subtotal * 0.16)
        total = subtotal + tax
        data.invoices.append(
            {
                "id": invoice_id,
                "account_id": account_id,
                "external_id": None,
                "number": f"FAC-{i + 1:07d}",
                "document_type": kind,
                "issued_on": issued,
                "due_on": due,
                "currency": CURRENCY,
                "subtotal_minor": subtotal,
                "tax_minor": tax,
                "total_minor": total,
                "paid_minor": total if status is InvoiceStatus.PAID else 0,
                "status": status,
                "created_at": now,
            }
        )
    return data


async def insert_rows(database: Database, table: type[SQLModel], rows: Sequence[Row]) -> None:
    async with database.transaction() as session:
        for start in range(0, len(rows), BATCH):
            await session.execute(insert(table), rows[start : start + BATCH])


async def load(
    database: Database, movements: int, invoices: int
) -> tuple[str, uuid.UUID, list[Row], InvoiceData]:
    """The data; returns a token, the big account's id, its movements and invoices."""
    rng = random.Random(2026)
    token, account_id = await prepare(database, accounts=1 + OTHER_ACCOUNTS)
    async with database.session() as session:
        others = list(
            (await session.execute(select(col(Account.id)).where(col(Account.id) != account_id)))
            .scalars()
            .all()
        )
    now, today = utcnow(), invoices_today()
    ledger = ledger_rows(account_id, movements, rng, now)
    billed = invoice_rows(account_id, invoices, rng, today, now)
    other_ledger: list[Row] = []
    other_invoices = InvoiceData()
    for other in others:
        other_ledger += ledger_rows(other, OTHER_ROWS, rng, now)
        more = invoice_rows(other, OTHER_ROWS, rng, today, now)
        other_invoices.invoices += more.invoices
        other_invoices.lines += more.lines
    await insert_rows(database, LedgerEntry, ledger[:-1] + other_ledger)
    await insert_rows(database, Invoice, billed.invoices + other_invoices.invoices)
    await insert_rows(database, InvoiceLine, billed.lines + other_invoices.lines)
    # The last movement goes through the application's own posting: it must
    # continue the bulk-loaded sequence and balance exactly.
    last = ledger[-1]
    async with database.transaction() as session:
        entry = await post_movement(
            session,
            account_id=account_id,
            kind=last["kind"],
            amount_minor=last["amount_minor"],
            currency=CURRENCY,
            reference=last["reference"],
            description=last["description"],
            posted_at=last["posted_at"],
            entry_id=last["id"],
        )
        assert (entry.seq, entry.balance_minor) == (last["seq"], last["balance_minor"])
    # Fresh statistics, as autovacuum would gather after a bulk load.
    async with database.engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()
    return token, account_id, ledger, billed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)] * 1000


def minor(amount: str) -> int:
    return int(Decimal(amount).scaleb(2))


async def run(url: str, movements: int, invoices: int, page_size: int, repeat: int) -> None:
    database = Database(url)
    started = time.perf_counter()
    token, account_id, ledger, billed = await load(database, movements, invoices)
    load_seconds = time.perf_counter() - started
    app = create_app(Settings(_env_file=None, database_url=url), database)
    headers = {"Authorization": f"Bearer {token}"}
    global_id = encode_global_id("Account", account_id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def post(query: str, variables: dict[str, Any]) -> Any:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": {"id": global_id, **variables}},
                headers=headers,
            )
            body = response.json()
            assert "errors" not in body, response.text
            return body["data"]["account"]

        async def timed(
            label: str, query: str, variables: dict[str, Any], check: Callable[[Any], None]
        ) -> Timing:
            for _ in range(WARM_UP):
                check(await post(query, variables))
            samples = []
            with database.count_statements() as counted:
                for _ in range(repeat):
                    begun = time.perf_counter()
                    account = await post(query, variables)
                    samples.append(time.perf_counter() - begun)
                    check(account)
            return Timing(
                label,
                statistics.median(samples) * 1000,
                pct(samples, 0.95),
                counted.count // repeat,
            )

        def ledger_check(first_seq: int) -> Callable[[Any], None]:
            def check(account: Any) -> None:
                nodes = account["ledger"]["nodes"]
                assert len(nodes) == page_size, nodes
                for offset, node in enumerate(nodes):
                    expected = ledger[first_seq - 1 + offset]
                    assert node["reference"] == expected["reference"], node
                    assert minor(node["balance"]["amount"]) == expected["balance_minor"], node

            return check

        ledger_results: list[Timing] = []
        for depth in LEDGER_DEPTHS:
            variables: dict[str, Any] = {"first": page_size}
            if depth > 1:
                variables["after"] = encode_cursor((depth - 1,))
            ledger_results.append(
                await timed(
                    f"ledger first {page_size} from movement {depth:,}",
                    LEDGER_QUERY,
                    variables,
                    ledger_check(depth),
                )
            )
        ledger_results.append(
            await timed(
                f"ledger last {page_size} (newest)",
                LEDGER_QUERY,
                {"last": page_size},
                ledger_check(movements - page_size + 1),
            )
        )

        # The invoice list as the API orders it by default: newest issue date
        # first, ties by id; DRAFT is never listed.
        visible = sorted(
            (row for row in billed.invoices if row["status"] is not InvoiceStatus.DRAFT),
            key=lambda row: (row["issued_on"], row["id"]),
            reverse=True,
        )
        deep_after = visible[-page_size - 1]
        today = invoices_today()
        quarter = date(today.year - 2, 4, 1), date(today.year - 2, 6, 30)
        middle = billed.invoices[len(billed.invoices) // 2]["number"]
        cases: list[tuple[str, dict[str, Any], str | None]] = [
            ("no filter", {}, visible[0]["number"]),
            ("status OPEN", {"filter": {"status": "OPEN"}}, None),
            ("status OVERDUE", {"filter": {"status": "OVERDUE"}}, None),
            (
                f"issued {quarter[0]}..{quarter[1]}",
                {"filter": {"issuedFrom": str(quarter[0]), "issuedTo": str(quarter[1])}},
                None,
            ),
            (
                f"due {quarter[0]}..{quarter[1]}",
                {"filter": {"dueFrom": str(quarter[0]), "dueTo": str(quarter[1])}},
                None,
            ),
            (
                "total 3000.00..3100.00",
                {"filter": {"minTotal": "3000.00", "maxTotal": "3100.00"}},
                None,
            ),
            (
                "total 3000.00..3100.00, TOTAL_DESC",
                {
                    "filter": {"minTotal": "3000.00", "maxTotal": "3100.00"},
                    "orderBy": "TOTAL_DESC",
                },
                None,
            ),
            (f"number {middle}", {"filter": {"number": middle}}, middle),
            (
                f"no filter, after row {len(visible) - page_size:,} (last page)",
                {"after": encode_cursor((deep_after["issued_on"], deep_after["id"]))},
                visible[-page_size]["number"],
            ),
        ]
        invoice_results: list[Timing] = []
        for label, variables, first_number in cases:
            base = {"first": page_size, **variables}
            counted_page = await post(INVOICES_QUERY, {**base, "count": True})
            matches: int = counted_page["invoices"]["totalCount"]
            expected_rows = min(page_size, matches)

            def invoice_check(
                account: Any, rows: int = expected_rows, number: Any = first_number
            ) -> None:
                nodes = account["invoices"]["nodes"]
                assert len(nodes) == rows, nodes
                assert number is None or nodes[0]["number"] == number, nodes[0]

            timing = await timed(label, INVOICES_QUERY, base, invoice_check)
            invoice_results.append(
                Timing(timing.label, timing.median_ms, timing.p95_ms, timing.statements, matches)
            )
    await database.dispose()

    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"backend      {backend}")
    print(f"movements    {movements:,}   invoices {invoices:,}   lines {len(billed.lines):,}")
    print(f"other data   {OTHER_ACCOUNTS} accounts with {OTHER_ROWS:,} movements and invoices each")
    print(f"load         {load_seconds:.1f} s")
    print(f"page size    {page_size}, {repeat} requests per row (median, p95)")
    print()
    print(f"{'ledger':45} {'median ms':>10} {'p95 ms':>8} {'statements':>11}")
    for t in ledger_results:
        print(f"{t.label:45} {t.median_ms:10.1f} {t.p95_ms:8.1f} {t.statements:11}")
    deepest, first = ledger_results[len(LEDGER_DEPTHS) - 1], ledger_results[0]
    print(f"deepest / first (median)  {deepest.median_ms / first.median_ms:.2f}")
    print()
    print(f"{'invoices':45} {'matches':>8} {'median ms':>10} {'p95 ms':>8} {'statements':>11}")
    for timing in invoice_results:
        print(
            f"{timing.label:45} {timing.matches or 0:8,} {timing.median_ms:10.1f} "
            f"{timing.p95_ms:8.1f} {timing.statements:11}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--movements", type=int, default=100_100)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.movements < max(LEDGER_DEPTHS) + args.page_size - 1:
        parser.error(f"--movements must be at least {max(LEDGER_DEPTHS) + args.page_size - 1}")
    if args.invoices < 2 * args.page_size:
        parser.error(f"--invoices must be at least {2 * args.page_size}")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        asyncio.run(run(url, args.movements, args.invoices, args.page_size, args.repeat))


if __name__ == "__main__":
    main()
