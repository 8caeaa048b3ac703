"""The mail worker: claim due messages, send them, record what happened.

It runs inside `clientzone serve` (MAIL_SENDER=in-process, the default) or as
`clientzone worker` processes (production: MAIL_SENDER=off on the servers).
Any number of workers may share one PostgreSQL outbox: claims never overlap.
Stopping finishes the batch in hand and gives back anything claimed but unsent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.smtp import send_batch
from clientzone.models.mail import claim_messages, record_deliveries, release_claims

logger = logging.getLogger("clientzone.mail")


class MailWorker:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = timedelta(seconds=max(60, settings.smtp_timeout_seconds * 4))
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the outbox now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run_once(self) -> int:
        """Claim and send one batch; returns how many messages were handled."""
        async with self.database.session() as session, session.begin():
            claimed = await claim_messages(
                session,
                worker=self.name,
                limit=self.settings.mail_batch_size,
                lease=self.lease,
            )
        if not claimed:
            return 0
        deliveries = await send_batch(
            claimed, self.settings, max_attempts=self.settings.mail_max_attempts
        )
        async with self.database.session() as session, session.begin():
            await record_deliveries(session, worker=self.name, deliveries=deliveries)
        return len(claimed)

    async def drain(self) -> int:
        """Send until nothing is due; returns the number of messages handled."""
        total = 0
        while not self._stopping.is_set() and (handled := await self.run_once()):
            total += handled
        return total

    async def run(self) -> None:
        """Send until stopped, polling every MAIL_POLL_SECONDS (or when woken)."""
        logger.info("mail worker %s started", self.name)
        try:
            while not self._stopping.is_set():
                try:
                    await self.drain()
                except Exception:
                    logger.exception("mail worker %s: batch failed", self.name)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), timeout=self.settings.mail_poll_seconds
                    )
        finally:
            async with self.database.session() as session, session.begin():
                released = await release_claims(session, worker=self.name)
            logger.info("mail worker %s stopped (%d claims released)", self.name, released)
