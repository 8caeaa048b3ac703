"""Webhook fan-out: events to many endpoints, delivered by two workers.

    python bench/webhook_fanout.py [--events 1000] [--endpoints 10]
                                   [--database-url postgresql://...]

One account with `endpoints` endpoints (all subscribed to `case.updated`) on
a local HTTP receiver; `events` events are emitted (in batches of 100, as
changes would), giving events x endpoints deliveries. Then two
`clientzone worker --drain` processes deliver them (private addresses allowed
for the receiver on 127.0.0.1). Prints deliveries per second and the delay
from the event's commit to its arrival (p50, p99), and checks that each
delivery arrived exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.graphql_load import free_port
from clientzone.db import Database
from clientzone.migrate import upgrade
from clientzone.models.accounts import Account
from clientzone.models.webhooks import WebhookDelivery, WebhookEndpoint, emit_many, new_secret

arrivals: list[tuple[str, float]] = []
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with lock:
            arrivals.append((self.headers.get("webhook-id", ""), time.time()))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


async def prepare(database: Database, port: int, events: int, endpoints: int) -> None:
    await upgrade(database)
    async with database.session() as session, session.begin():
        account = Account(number="WH-1", name="Webhooks", currency="MXN")
        session.add(account)
        await session.flush()
        for i in range(endpoints):
            session.add(
                WebhookEndpoint(
                    account_id=account.id,
                    url=f"http://127.0.0.1:{port}/hook/{i}",
                    event_types=["case.updated"],
                    secret=new_secret(),
                )
            )
    for start in range(0, events, 100):
        async with database.session() as session, session.begin():
            await emit_many(
                session,
                [
                    (account.id, "case.updated", {"caseId": f"case-{i}", "status": "IN_PROGRESS"})
                    for i in range(start, min(start + 100, events))
                ],
            )


async def drain(url: str, workers: int) -> float:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "clientzone",
            "worker",
            "--drain",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    await asyncio.gather(*(p.wait() for p in processes))
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(url: str, events: int, endpoints: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    database = Database(url)
    try:
        await prepare(database, server.server_address[1], events, endpoints)
        seconds = await drain(url, 2)
        async with database.session() as session:
            created = dict(
                (
                    await session.execute(
                        select(WebhookDelivery.event_id, WebhookDelivery.created_at)  # type: ignore[call-overload]
                    )
                ).all()
            )
    finally:
        server.shutdown()
        await database.dispose()
    total = events * endpoints
    copies = Counter(event_id for event_id, _ in arrivals)
    if len(copies) != total or set(copies.values()) != {1}:
        raise SystemExit(f"lost or duplicated: {len(copies)} distinct of {total}")
    delays = [arrived - _utc(created[event_id]).timestamp() for event_id, arrived in arrivals]
    print(
        f"{total} deliveries ({events} events x {endpoints} endpoints) in {seconds:.1f} s: "
        f"{total / seconds:.0f}/s with 2 workers (start-up included); delay from commit "
        f"p50 {statistics.median(delays):.1f} s, p99 {percentile(delays, 0.99):.1f} s"
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        print("backend", "PostgreSQL" if url.startswith("postgres") else "SQLite")
        asyncio.run(main_async(url, args.events, args.endpoints))


if __name__ == "__main__":
    main()
