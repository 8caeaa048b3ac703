"""Cost growth: does a portal screen cost more when the customer has more?

    python bench/cost_growth.py [--accounts 10,1000,100000] [--invoices 10,10000]
                                [--linked 100000] [--requests 200] [--memory-requests 1000,100000]
                                [--database-url postgresql://...]

Two axes, each on a fresh database:

- accounts: one owner of N accounts (the first 10 by number with 10 invoices
  each, the ones the screens show), N from `--accounts`;
- invoices: one owner of 10 accounts with M invoices each, M from `--invoices`;
- linked: one owner of 1 account with L linked accounts (which the owner
  reaches too, inherited), L from `--linked` (none by default).

For every size it prints the CPU ms per request (mean, in-process, as
cpu_per_request.py measures it) of the first screen and the 10x5 query, and the
SQL statements they cost. Then, on the smallest accounts size, it sends a mix
of the screens (first screen, 10x5, viewer email, billing screen) over and over
and prints the process's resident memory after each count in
`--memory-requests`: a cache that grows per request shows up as growth.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu_per_request import QUERIES, AsgiCaller, add_billing, measure
from bench.setup_data import prepare
from clientzone.app import create_app
from clientzone.config import MailSender, Settings
from clientzone.db import Database

SCREENS = ("first-screen", "10x5")


def resident_mib() -> float:
    """Resident set size now (not the peak), from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def fresh_url(base: str | None, folder: str, label: str) -> str:
    if base is None:
        return f"sqlite+aiosqlite:///{folder}/{label}.db"
    return base


async def reset_postgres(url: str) -> None:
    """Each size starts on an empty PostgreSQL database (schema dropped)."""
    from sqlalchemy import text

    database = Database(url, pool_size=1)
    async with database.session() as session, session.begin():
        await session.execute(text("DROP SCHEMA public CASCADE"))
        await session.execute(text("CREATE SCHEMA public"))
    await database.dispose()


async def build(
    url: str, *, accounts: int, invoices: int, linked: int = 0
) -> tuple[Database, Any, AsgiCaller]:
    if url.startswith("postgresql"):
        await reset_postgres(url)
    database = Database(url, pool_size=5)
    token, _ = await prepare(database, accounts=accounts, linked_per_account=linked)
    await add_billing(database, invoices=invoices, movements=60, first_accounts=10)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        mail_sender=MailSender.OFF,
        log_level="WARNING",
        cost_budget_per_minute=10**9,
    )
    app = create_app(settings, database)
    return database, app, AsgiCaller(app, token)


async def close(database: Database, app: Any) -> None:
    await app.state.close_clients()
    await database.dispose()


async def screens(caller: AsgiCaller, database: Database, requests: int) -> dict[str, Any]:
    costs: dict[str, Any] = {}
    for name in SCREENS:
        row = await measure(caller, database, name, QUERIES[name], requests)
        costs[name] = (row["cpu_ms_mean"], row["wall_ms_p50"], row["statements"])
    return costs


def print_row(label: str, costs: dict[str, Any]) -> None:
    cells = "".join(f" {costs[n][0]:>12.2f} {costs[n][1]:>9.2f} {costs[n][2]:>4}" for n in SCREENS)
    print(f"{label:<24}{cells}", flush=True)


async def memory(caller: AsgiCaller, checkpoints: list[int]) -> None:
    mix = list(QUERIES.values())
    sent = 0
    print("requests       RSS MiB", flush=True)
    for target in checkpoints:
        while sent < target:
            answer = await caller.post(mix[sent % len(mix)])
            assert "errors" not in answer, answer
            sent += 1
        gc.collect()
        print(f"{sent:>8} {resident_mib():>13.1f}", flush=True)


def sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=sizes, default=sizes("10,1000,100000"))
    parser.add_argument("--invoices", type=sizes, default=sizes("10,10000"))
    parser.add_argument("--linked", type=sizes, default=[])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--memory-requests", type=sizes, default=sizes("1000,100000"))
    parser.add_argument("--database-url", help="PostgreSQL database to reuse (emptied per size)")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{backend}: CPU ms per request (mean of {args.requests}), wall ms (median, the "
        "database's own time included) and SQL statements"
    )
    print(f"{'size':<24}" + "".join(f" {n + ' ms':>12} {'wall':>9} {'SQL':>4}" for n in SCREENS))
    with tempfile.TemporaryDirectory() as folder:
        for count in args.accounts:
            url = fresh_url(args.database_url, folder, f"accounts{count}")
            database, app, caller = await build(url, accounts=count, invoices=10)
            print_row(f"{count} accounts", await screens(caller, database, args.requests))
            await close(database, app)
        for count in args.invoices:
            url = fresh_url(args.database_url, folder, f"invoices{count}")
            database, app, caller = await build(url, accounts=10, invoices=count)
            print_row(f"{count} invoices/account", await screens(caller, database, args.requests))
            await close(database, app)
        for count in args.linked:
            url = fresh_url(args.database_url, folder, f"linked{count}")
            database, app, caller = await build(url, accounts=1, invoices=10, linked=count)
            print_row(f"1 + {count} linked", await screens(caller, database, args.requests))
            await close(database, app)
        if args.memory_requests:
            url = fresh_url(args.database_url, folder, "memory")
            database, app, caller = await build(url, accounts=min(args.accounts), invoices=10)
            await memory(caller, args.memory_requests)
            await close(database, app)


if __name__ == "__main__":
    asyncio.run(main())
