"""Support's customer search at size: `staff.customers(search:)` per kind.

    python bench/staff_search.py [--database-url postgresql://...]
                                 [--accounts 100000] [--contacts 200000] [--runs 50]

Builds the accounts (with emails, RFC-like tax ids, phones and names drawn
from a few hundred words) and contacts in an empty database, then times the
first page (20) and, apart, its totalCount (only computed when a query asks
for it), as the staff field runs them, for each kind of search: p50 and p99
in ms over `--runs` different values per kind.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clientzone.db import Database
from clientzone.migrate import upgrade
from clientzone.models.accounts import Account
from clientzone.models.base import new_id, utcnow
from clientzone.models.contacts import Contact
from clientzone.models.customer_search import count_customers, search_customers
from clientzone.models.pagination import PageRequest

BATCH = 5_000
WORDS = [
    f"{a}{b}"
    for a in ("ferre", "tlapa", "abarro", "pape", "mue", "refacc", "panade", "cons", "fumi", "lava")
    for b in ("tería", "lería", "tes", "bles", "iones", "ría", "trucción", "gación", "dería")
]
SURNAMES = ["García", "López", "Martínez", "Hernández", "González", "Pérez", "Sánchez", "Ramírez"]


def account_row(i: int, now: object) -> dict[str, object]:
    rng = random.Random(i)
    return {
        "id": new_id(),
        "number": f"MX-{i:07d}",
        "name": f"{rng.choice(WORDS).capitalize()} {rng.choice(SURNAMES)} {i}",
        "company_name": f"{rng.choice(WORDS).capitalize()} {rng.choice(SURNAMES)} SA de CV",
        "status": "ACTIVE",
        "currency": "MXN",
        "locale": "es",
        "email": f"cuenta{i}@example.com",
        "tax_id": f"ABC{i:06d}XY{i % 10}",
        "phone": f"+5255{i:08d}",
        "created_at": now,
        "updated_at": now,
    }


async def build(database: Database, accounts: int, contacts: int) -> list[object]:
    await upgrade(database)
    now = utcnow()
    ids: list[object] = []
    async with database.session() as session, session.begin():
        for start in range(0, accounts, BATCH):
            rows = [account_row(i, now) for i in range(start, min(start + BATCH, accounts))]
            ids += [r["id"] for r in rows]
            await session.execute(insert(Account), rows)
        for start in range(0, contacts, BATCH):
            rows = [
                {
                    "id": new_id(),
                    "account_id": ids[i % accounts],
                    "first_name": "Contacto",
                    "last_name": str(i),
                    "email": f"contacto{i}@example.com",
                    "phone": f"+5281{i:08d}",
                    "categories": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(start + BATCH, contacts))
            ]
            await session.execute(insert(Contact), rows)
    return ids


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(database: Database, text: str) -> tuple[float, float, int]:
    """ms for the first page, ms for its totalCount, rows on the page."""
    async with database.read_session() as session:
        started = time.perf_counter()
        page = await search_customers(session, text, PageRequest(first=20))
        paged = time.perf_counter()
        await count_customers(session, text)
        counted = time.perf_counter()
    return (paged - started) * 1000, (counted - paged) * 1000, len(page.rows)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        database = Database(url)
        started = time.perf_counter()
        await build(database, args.accounts, args.contacts)
        print(
            f"{args.accounts} accounts, {args.contacts} contacts on {database.engine.dialect.name}"
            f" (built in {time.perf_counter() - started:.0f} s)"
        )
        rng = random.Random(7)
        n = args.accounts
        kinds = {
            "customer number": lambda: f"MX-{rng.randrange(n):07d}",
            "account email": lambda: f"cuenta{rng.randrange(n)}@example.com",
            "contact email": lambda: f"contacto{rng.randrange(args.contacts)}@example.com",
            "tax id": lambda: f"abc{(i := rng.randrange(n)):06d}xy{i % 10}",
            "phone": lambda: f"55 {rng.randrange(n):08d}",
            "common name piece": lambda: rng.choice(WORDS)[:5],
            "rare name piece": lambda: str(account_row(rng.randrange(n), None)["name"]).split(
                " ", 1
            )[1],
            "nothing matches": lambda: f"zzq{rng.randrange(n)}",
        }
        print(f"{'kind':<20} {'page p50/p99 ms':>16} {'totalCount p50/p99 ms':>22} {'found':>6}")
        for kind, value in kinds.items():
            await timed(database, value())  # warm the statement cache
            pages, counts, found = [], [], []
            for _ in range(args.runs):
                page_ms, count_ms, rows = await timed(database, value())
                pages.append(page_ms)
                counts.append(count_ms)
                found.append(rows)
            shown = [
                f"{statistics.median(v):.1f} / {percentile(v, 0.99):.1f}" for v in (pages, counts)
            ]
            print(f"{kind:<20} {shown[0]:>16} {shown[1]:>22} {statistics.median(found):>6.0f}")
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
