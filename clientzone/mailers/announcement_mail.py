"""News emails the scheduler sends for an announcement published with an
email category: one message per targeted account, only to the account's
active contacts opted into that category (never to the account's own
address), each carrying the one-click unsubscribe headers, in the account's
language (English text falling back to Spanish).

Why the scheduler and not the publishing mutation: an audience of every
account can be tens of thousands of messages. Publishing stays one short
transaction; the scheduler (every SCHEDULER_INTERVAL_SECONDS, in the worker)
claims each (announcement, account) fact once in `scheduled_jobs` and queues
its email, CHUNK accounts per transaction, from the moment the announcement
becomes visible. A withdrawn announcement stops being sent at the next batch.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import exists
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.mailers.invoice_mail import Fact
from clientzone.models.accounts import Account
from clientzone.models.announcements import (
    Announcement,
    audience_accounts,
    emails_due,
    mark_email_done,
)
from clientzone.models.jobs import ScheduledJob

KIND = "announcement"


async def due(session: AsyncSession, now: datetime) -> list[Announcement]:
    return await emails_due(session, now)


async def facts(
    session: AsyncSession, announcement: Announcement, after: uuid.UUID | None, limit: int
) -> tuple[list[Fact], uuid.UUID | None]:
    """The next `limit` targeted accounts not yet done (by id, after `after`),
    and where to go on from (None: this was the last batch)."""
    assert announcement.email_category is not None
    sent = exists().where(
        col(ScheduledJob.kind) == KIND,
        col(ScheduledJob.subject_id) == announcement.id,
        col(ScheduledJob.account_id) == col(Account.id),
    )
    statement = audience_accounts(announcement).where(~sent).limit(limit)
    if after is not None:
        statement = statement.where(col(Account.id) > after)
    ids = list((await session.execute(statement)).scalars())
    variables = {
        "title_es": announcement.title_es,
        "title_en": announcement.title_en,
        "body_es": announcement.body_es,
        "body_en": announcement.body_en,
        "html_es": announcement.html_es,
        "html_en": announcement.html_en,
    }
    found = [
        Fact(
            KIND,
            announcement.id,
            str(account_id),
            account_id,
            "announcement",
            variables,
            announcement.email_category,
            contacts_only=True,
        )
        for account_id in ids
    ]
    return found, (ids[-1] if len(ids) == limit else None)


async def done(session: AsyncSession, announcement_id: uuid.UUID) -> None:
    await mark_email_done(session, announcement_id)
