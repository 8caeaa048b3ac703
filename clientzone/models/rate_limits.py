"""Rate-limit counters kept in the database (when no Redis is configured).

One row per key: a count and when it stops counting. Updated with a single
upsert, so concurrent requests (and several server processes) never lose a hit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import UTCDateTime, utcnow


class RateLimitCounter(SQLModel, table=True):
    __tablename__ = "rate_limit_counters"

    key: str = Field(sa_type=String(120), primary_key=True)
    count: int = Field(sa_type=Integer)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


def _insert(session: AsyncSession) -> type[sqlite.Insert] | type[postgresql.Insert]:
    name = session.get_bind().dialect.name
    return sqlite.Insert if name == "sqlite" else postgresql.Insert


async def increment(session: AsyncSession, key: str, window: timedelta) -> tuple[int, datetime]:
    """Count one hit; a counter past its expiry starts again at 1 for `window`."""
    now = utcnow()
    table = RateLimitCounter.__table__  # type: ignore[attr-defined]
    expired = table.c.expires_at <= now
    statement = (
        _insert(session)(table)
        .values(key=key, count=1, expires_at=now + window)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, 1), else_=table.c.count + 1),
                "expires_at": case((expired, now + window), else_=table.c.expires_at),
            },
        )
        .returning(table.c.count, table.c.expires_at)
    )
    row = (await session.execute(statement)).one()
    return int(row[0]), row[1]


async def set_until(session: AsyncSession, key: str, until: datetime) -> None:
    table = RateLimitCounter.__table__  # type: ignore[attr-defined]
    statement = (
        _insert(session)(table)
        .values(key=key, count=1, expires_at=until)
        .on_conflict_do_update(index_elements=[table.c.key], set_={"count": 1, "expires_at": until})
    )
    await session.execute(statement)


async def live_until(session: AsyncSession, key: str) -> datetime | None:
    statement = select(col(RateLimitCounter.expires_at)).where(
        col(RateLimitCounter.key) == key, col(RateLimitCounter.expires_at) > utcnow()
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def remove(session: AsyncSession, *keys: str) -> None:
    await session.execute(delete(RateLimitCounter).where(col(RateLimitCounter.key).in_(keys)))


async def purge_expired(session: AsyncSession) -> None:
    await session.execute(
        delete(RateLimitCounter).where(col(RateLimitCounter.expires_at) <= utcnow())
    )
