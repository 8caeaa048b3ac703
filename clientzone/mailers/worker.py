"""The mail worker: claim due messages, send them, record what happened.

It runs inside `clientzone serve` (MAIL_SENDER=in-process, the default) or as
`clientzone worker` processes (production: MAIL_SENDER=off on the servers).
Any number of workers may share one outbox: claims never overlap, each message's
lease is renewed right before it is sent and its outcome recorded in the next
transaction (together with the next renewal).
Stopping finishes the message in hand and gives back the ones not yet attempted.
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
from clientzone.mailers.smtp import Transport
from clientzone.models.mail import (
    Delivery,
    EmailMessage,
    claim_messages,
    record_delivery,
    release_claims,
    renew_claim,
)

logger = logging.getLogger("clientzone.mail")


class MailWorker:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # Long enough for one message's SMTP exchange, however slow.
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
        """Claim and send one batch; returns how many messages were claimed."""
        async with self.database.session() as session, session.begin():
            claimed = await claim_messages(
                session,
                worker=self.name,
                limit=self.settings.mail_batch_size,
                lease=self.lease,
                max_attempts=self.settings.mail_max_attempts,
            )
        if not claimed:
            return 0
        pending = list(claimed)
        outcome: Delivery | None = None
        try:
            async with Transport(self.settings) as transport:
                while pending and not self._stopping.is_set():
                    # One transaction records the last outcome and renews the
                    # next claim; a message taken over meanwhile is skipped.
                    ours = await self._record_and_renew(outcome, pending[0])
                    outcome = None
                    message = pending.pop(0)
                    if ours:
                        outcome = await transport.deliver(message)
        finally:
            # The last outcome, and the messages never attempted (stopping, or
            # a failure above) back to the queue.
            async with self.database.session() as session, session.begin():
                if outcome is not None:
                    await record_delivery(session, worker=self.name, delivery=outcome)
                await release_claims(session, worker=self.name, message_ids=[m.id for m in pending])
        return len(claimed)

    async def _record_and_renew(self, outcome: Delivery | None, message: EmailMessage) -> bool:
        async with self.database.session() as session, session.begin():
            if outcome is not None:
                await record_delivery(session, worker=self.name, delivery=outcome)
            return await renew_claim(
                session, message_id=message.id, worker=self.name, lease=self.lease
            )

    async def drain(self) -> int:
        """Send until nothing is due; returns the number of messages handled."""
        total = 0
        while not self._stopping.is_set() and (handled := await self.run_once()):
            total += handled
        return total

    async def run(self) -> None:
        """Send until stopped, polling every MAIL_POLL_SECONDS (or when woken)."""
        logger.info("mail worker %s started", self.name)
        while not self._stopping.is_set():
            try:
                await self.drain()
            except Exception:
                logger.exception("mail worker %s: batch failed", self.name)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.mail_poll_seconds)
        logger.info("mail worker %s stopped", self.name)
