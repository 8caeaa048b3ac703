"""The scheduler: time- and data-driven mail, sent exactly once per fact.

It runs inside `clientzone worker` and inside `serve` when that sends mail
(MAIL_SENDER=in-process), every SCHEDULER_INTERVAL_SECONDS and at start-up,
so it catches up after downtime. There is no cron: any number of processes
run it at once. Each looks for the facts due (mailers/invoice_mail.py), then,
a chunk per transaction and in key order, claims each fact in
`scheduled_jobs` (unique (kind, subject, period); ON CONFLICT DO NOTHING) and
queues its email in the same transaction. A fact claimed by another process
is skipped; on PostgreSQL the loser waits for the winner's commit, so it
never sends what the other one is sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers import (
    announcement_mail,
    invoice_mail,
    lifecycle_mail,
    service_mail,
    statement_mail,
)
from clientzone.mailers.invoice_mail import Fact
from clientzone.mailers.outbox import OutboxError, notify_account, notify_contacts
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.jobs import JobOutcome, claim_facts, record_outcomes

logger = logging.getLogger("clientzone.scheduler")

CHUNK = 100  # facts per transaction
ISSUED_BATCH = 1000
ANNOUNCEMENT_BATCH = 1000  # accounts read at a time for one announcement

# What a billing import may have brought: looked for right after it, and at
# every run (mailers/invoice_mail.py, mailers/lifecycle_mail.py).
IMPORTED_FACTS = (
    invoice_mail.issued_facts,
    lifecycle_mail.order_facts,
    lifecycle_mail.service_facts,
)


class Scheduler:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.on_queued = on_queued
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run_once(self) -> Counter[str]:
        """Everything due now; returns the emails queued by kind."""
        queued = await self.announce_imported()
        queued += await self.send_announcements()
        async with self.database.session() as session:
            today = self.clock().date()
            facts = await invoice_mail.reminder_facts(session, self.settings, today)
            facts += await service_mail.renewal_facts(session, self.settings, today)
            facts += await statement_mail.statement_facts(
                session, self.settings, today, ISSUED_BATCH
            )
        queued += await self._send(facts)
        if queued and self.on_queued is not None:
            self.on_queued()
        return queued

    async def announce_imported(self) -> Counter[str]:
        """ "Invoice issued", orders placed or changed, services welcomed,
        suspended or expired, not announced yet (the billing import calls this
        right after importing)."""
        today = self.clock().date()
        queued: Counter[str] = Counter()
        for find in IMPORTED_FACTS:
            while not self._stopping.is_set():
                async with self.database.session() as session:
                    facts = await find(session, self.settings, today, ISSUED_BATCH)
                queued += await self._send(facts)
                if len(facts) < ISSUED_BATCH:
                    break
        return queued

    async def send_announcements(self) -> Counter[str]:
        """News emails: one per targeted account, ANNOUNCEMENT_BATCH accounts
        read at a time and CHUNK per transaction, so a publication to every
        account never holds one long transaction (mailers/announcement_mail.py)."""
        queued: Counter[str] = Counter()
        async with self.database.session() as session:
            due = await announcement_mail.due(session, self.clock())
        for announcement in due:
            after: uuid.UUID | None = None
            while not self._stopping.is_set():
                async with self.database.session() as session:
                    facts, after = await announcement_mail.facts(
                        session, announcement, after, ANNOUNCEMENT_BATCH
                    )
                queued += await self._send(facts)
                if after is None:
                    break
            if not self._stopping.is_set():
                async with self.database.session() as session, session.begin():
                    await announcement_mail.done(session, announcement.id)
        return queued

    async def _send(self, facts: list[Fact]) -> Counter[str]:
        queued: Counter[str] = Counter()
        # The same order in every process: concurrent claimers wait, never deadlock.
        facts = sorted(facts, key=lambda f: f.key)
        for start in range(0, len(facts), CHUNK):
            if self._stopping.is_set():
                break
            chunk = facts[start : start + CHUNK]
            async with self.database.session() as session, session.begin():
                queued += await self._chunk(session, chunk)
        return queued

    async def _chunk(self, session: AsyncSession, chunk: list[Fact]) -> Counter[str]:
        """Claim the chunk's facts in one statement, queue the email of each one
        won, and record every job's outcome in one or two more."""
        accounts = await _accounts(session, {f.account_id for f in chunk})
        claimed = await claim_facts(
            session,
            [((f.kind, f.subject_id, f.period), f.account_id) for f in chunk],
            worker=self.name,
        )
        queued: Counter[str] = Counter()
        emails: dict[uuid.UUID, uuid.UUID] = {}
        others: dict[uuid.UUID, JobOutcome] = {}
        for fact in chunk:
            job_id = claimed.get((fact.kind, fact.subject_id, fact.period))
            if job_id is None:
                continue
            account = accounts[fact.account_id]
            notify = notify_contacts if fact.contacts_only else notify_account
            try:
                # Nothing is written before an OutboxError: no savepoint needed.
                message = await notify(
                    session,
                    self.settings,
                    account=account,
                    category=fact.category,
                    template=fact.template,
                    **fact.variables,
                )
            except OutboxError as exc:
                logger.warning("scheduler: %s for account %s: %s", fact.kind, account.number, exc)
                others[job_id] = JobOutcome.FAILED
                continue
            if message is None:
                others[job_id] = JobOutcome.NOBODY
                continue
            emails[job_id] = message.id
            queued[fact.kind] += 1
        await session.flush()
        await record_outcomes(session, emails=emails, others=others)
        return queued

    async def run(self) -> None:
        """At start-up, then every SCHEDULER_INTERVAL_SECONDS, until stopped."""
        logger.info("scheduler %s started", self.name)
        while not self._stopping.is_set():
            try:
                queued = await self.run_once()
                if queued:
                    logger.info("scheduler %s queued %s", self.name, dict(queued))
            except Exception:
                logger.exception("scheduler %s: run failed", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.settings.scheduler_interval_seconds
                )
        logger.info("scheduler %s stopped", self.name)


async def _accounts(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, Account]:
    rows = await session.execute(select(Account).where(col(Account.id).in_(ids)))
    return {account.id: account for account in rows.scalars()}
