"""Several worker processes on one outbox: every message delivered exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.models.mail import EmailMessage, EmailStatus
from tests.helpers import make_account, queue_account_notices
from tests.smtp_server import SmtpServer, start_drain_worker

MESSAGES = 500


async def _worker(database_url: str, smtp_port: int) -> tuple[int, str]:
    process = await start_drain_worker(
        database_url, smtp_port, stdout=asyncio.subprocess.PIPE, MAIL_BATCH_SIZE="20"
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    return process.returncode or 0, output.decode()


async def test_two_worker_processes_deliver_each_message_exactly_once(
    database: Database, database_url: str, settings: Settings, smtp_server: SmtpServer
) -> None:
    # given 500 queued messages
    account = await make_account(database, email="compras@esperanza.example.com")
    await queue_account_notices(database, settings, account, MESSAGES)
    # when two workers drain the same outbox at once
    results = await asyncio.gather(
        _worker(database_url, smtp_server.port), _worker(database_url, smtp_server.port)
    )
    # then
    assert [code for code, _ in results] == [0, 0], results
    handled = [int(output.split()[-3]) for _, output in results]
    assert sum(handled) == MESSAGES
    assert all(count > 0 for count in handled), handled  # both took part
    deliveries = Counter(r.message["Message-ID"] for r in smtp_server.received)
    assert len(deliveries) == MESSAGES
    assert set(deliveries.values()) == {1}
    async with database.session() as session:
        sent = await session.execute(
            select(func.count()).where(EmailMessage.status == EmailStatus.SENT)  # type: ignore[arg-type]
        )
    assert sent.scalar_one() == MESSAGES
