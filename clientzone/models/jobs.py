"""Scheduled facts: one row per fact and period that was acted on (a reminder
sent for an invoice's due date, an invoice announced...).

The row's key (kind, subject, period) is unique: a job inserts it with
ON CONFLICT DO NOTHING in the same transaction as the email it queues, so of
any number of workers (processes, machines) exactly one wins each fact, and a
rolled-back transaction leaves the fact to be done again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow


class JobOutcome(StrEnum):
    QUEUED = "QUEUED"  # its email is in the outbox
    NOBODY = "NOBODY"  # nobody opted in: done, nothing sent
    FAILED = "FAILED"  # the email could not be made (a malformed account address)


class ScheduledJob(SQLModel, table=True):
    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id", "period"),
        Index("ix_scheduled_jobs_done_at", "done_at"),
        Index("ix_scheduled_jobs_account_id", "account_id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: str = Field(sa_type=String(40))
    subject_id: uuid.UUID  # the invoice (or other row) the fact is about
    period: str = Field(default="", sa_type=String(40))  # e.g. the due date, "due+7"
    account_id: uuid.UUID | None = Field(
        default=None, foreign_key="accounts.id", ondelete="CASCADE"
    )
    email_id: uuid.UUID | None = None
    outcome: JobOutcome = Field(default=JobOutcome.QUEUED, sa_type=StrEnumType(JobOutcome))
    worker: str = Field(default="", sa_type=String(100))
    done_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def claim_fact(
    session: AsyncSession,
    *,
    kind: str,
    subject_id: uuid.UUID,
    period: str,
    account_id: uuid.UUID | None,
    worker: str,
) -> uuid.UUID | None:
    """The new job's id when this transaction is the first to claim the fact;
    None when it was done before (or by a concurrent worker, once it commits)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    job_id = new_id()
    statement = (
        insert(ScheduledJob)
        .values(
            id=job_id,
            kind=kind,
            subject_id=subject_id,
            period=period,
            account_id=account_id,
            outcome=JobOutcome.QUEUED,
            worker=worker,
            done_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["kind", "subject_id", "period"])
        .returning(col(ScheduledJob.id))
    )
    claimed: uuid.UUID | None = (await session.execute(statement)).scalar_one_or_none()
    return claimed


async def done_facts(
    session: AsyncSession, *, kind: str, subject_ids: list[uuid.UUID]
) -> set[tuple[uuid.UUID, str]]:
    """(subject, period) pairs of `kind` already done, to skip them cheaply
    (the unique key still decides)."""
    if not subject_ids:
        return set()
    statement = select(col(ScheduledJob.subject_id), col(ScheduledJob.period)).where(
        col(ScheduledJob.kind) == kind, col(ScheduledJob.subject_id).in_(subject_ids)
    )
    return {(row[0], row[1]) for row in (await session.execute(statement)).all()}


async def recent_jobs(
    session: AsyncSession, *, kind: str | None = None, limit: int = 50
) -> list[ScheduledJob]:
    statement = select(ScheduledJob).order_by(col(ScheduledJob.done_at).desc()).limit(limit)
    if kind is not None:
        statement = statement.where(col(ScheduledJob.kind) == kind)
    return list((await session.execute(statement)).scalars())


async def job_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    statement = select(col(ScheduledJob.kind), col(ScheduledJob.outcome), func.count()).group_by(
        col(ScheduledJob.kind), col(ScheduledJob.outcome)
    )
    rows = (await session.execute(statement)).all()
    return {(kind, JobOutcome(outcome).value): int(n) for kind, outcome, n in rows}
