"""Mail benchmark: messages delivered per second to a local SMTP sink.

    python bench/mail_throughput.py [--messages 2000] [--database-url postgresql://...]

Queues `messages` account notifications, then times `clientzone worker --drain`
with 1 and then 2 worker processes against an aiosmtpd sink on 127.0.0.1, and
checks that every message arrived exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.migrate import upgrade
from tests.helpers import make_account, queue_account_notices
from tests.smtp_server import SmtpServer, start_drain_worker

MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE | re.IGNORECASE)


class CountingSink(SmtpServer):
    """An SMTP sink that only notes each Message-ID (no parsing: it must not be
    the bottleneck being measured)."""

    def __init__(self) -> None:
        super().__init__()
        self.message_ids: list[bytes] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
                found = MESSAGE_ID.search(envelope.content)
                sink.message_ids.append(found.group(1) if found else b"")
                return "250 OK"

        self.recorder = Handler()  # type: ignore[assignment]


async def enqueue(database: Database, settings: Settings, count: int, tag: str) -> None:
    account = await make_account(database, number=f"MAIL-{tag}", email="c@example.com")
    await queue_account_notices(database, settings, account, count)


async def run_workers(url: str, port: int, workers: int) -> float:
    started = time.perf_counter()
    processes = [
        await start_drain_worker(url, port, stdout=asyncio.subprocess.DEVNULL)
        for _ in range(workers)
    ]
    await asyncio.gather(*(p.wait() for p in processes))
    return time.perf_counter() - started


async def main_async(url: str, messages: int) -> None:
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    database = Database(url)
    await upgrade(database)
    sink = CountingSink()
    sink.start()
    try:
        for workers in (1, 2):
            await enqueue(database, settings, messages, f"{workers}-{time.time_ns()}")
            before = len(sink.message_ids)
            seconds = await run_workers(url, sink.port, workers)
            copies = Counter(sink.message_ids[before:])
            if len(copies) != messages or set(copies.values()) != {1}:
                raise SystemExit(f"lost or duplicated: {len(copies)} distinct of {messages}")
            print(
                f"{workers} worker(s)  {messages} messages  {seconds:6.2f} s  "
                f"{messages / seconds:7.1f} msg/s (process start-up included)"
            )
    finally:
        sink.stop()
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        print("backend", "PostgreSQL" if url.startswith("postgres") else "SQLite")
        asyncio.run(main_async(url, args.messages))


if __name__ == "__main__":
    main()
