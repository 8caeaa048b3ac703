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

from sqlalchemy import Index, String, UniqueConstraint, bindparam, func, select, update
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


FactKey = tuple[str, uuid.UUID, str]  # kind, subject, period


async def claim_facts(
    session: AsyncSession,
    facts: list[tuple[FactKey, uuid.UUID | None]],
    *,
    worker: str,
) -> dict[FactKey, uuid.UUID]:
    """Claim facts (each key with its account) in one statement: the new jobs'
    ids of those this transaction is the first to claim. One done before, or by
    a concurrent worker (once it commits), is not in the answer. Claim in the
    same key order in every process, so concurrent claimers wait, never
    deadlock."""
    if not facts:
        return {}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = (
        insert(ScheduledJob)
        .values(
            [
                {
                    "id": new_id(),
                    "kind": kind,
                    "subject_id": subject_id,
                    "period": period,
                    "account_id": account_id,
                    "outcome": JobOutcome.QUEUED,
                    "worker": worker,
                    "done_at": now,
                }
                for (kind, subject_id, period), account_id in facts
            ]
        )
        .on_conflict_do_nothing(index_elements=["kind", "subject_id", "period"])
        .returning(
            col(ScheduledJob.kind),
            col(ScheduledJob.subject_id),
            col(ScheduledJob.period),
            col(ScheduledJob.id),
        )
    )
    rows = (await session.execute(statement)).all()
    return {(kind, subject_id, period): job_id for kind, subject_id, period, job_id in rows}


async def record_outcomes(
    session: AsyncSession,
    *,
    emails: dict[uuid.UUID, uuid.UUID],
    others: dict[uuid.UUID, JobOutcome],
) -> None:
    """Each claimed job's email (job id -> email id), or its other outcome."""
    if emails:
        # A Core statement, run once per row (executemany): the ORM's bulk
        # UPDATE would want the primary key's own name in each row.
        table = ScheduledJob.__table__  # type: ignore[attr-defined]
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("job_id"))
            .values(email_id=bindparam("email_id")),
            [{"job_id": job, "email_id": email} for job, email in emails.items()],
        )
    for outcome in set(others.values()):
        ids = [job for job, found in others.items() if found is outcome]
        await session.execute(
            update(ScheduledJob).where(col(ScheduledJob.id).in_(ids)).values(outcome=outcome)
        )


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
