"""What happened to a login: sign-ins, failures, password and email changes.

Kept per user, newest first, so people can spot access they do not recognise.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page


class SecurityEventKind(StrEnum):
    LOGIN_SUCCEEDED = "LOGIN_SUCCEEDED"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGOUT = "LOGOUT"
    SESSION_REVOKED = "SESSION_REVOKED"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"  # noqa: S105 (an event name)
    PASSWORD_RESET_REQUESTED = "PASSWORD_RESET_REQUESTED"  # noqa: S105
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105
    EMAIL_VERIFIED = "EMAIL_VERIFIED"
    EMAIL_CHANGE_REQUESTED = "EMAIL_CHANGE_REQUESTED"
    EMAIL_CHANGED = "EMAIL_CHANGED"
    LEGACY_ACCOUNT_CLAIMED = "LEGACY_ACCOUNT_CLAIMED"
    ACCOUNT_UNIFIED = "ACCOUNT_UNIFIED"


class SecurityEvent(SQLModel, table=True):
    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_user_id_id", "user_id", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    kind: SecurityEventKind = Field(sa_type=StrEnumType(SecurityEventKind))
    ip: str | None = Field(default=None, sa_type=String(45))
    user_agent: str | None = Field(default=None, sa_type=String(400))
    detail: str | None = Field(default=None, sa_type=String(200))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def record_event(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: SecurityEventKind,
    ip: str | None,
    user_agent: str | None,
    detail: str | None = None,
) -> SecurityEvent:
    event = SecurityEvent(
        user_id=user_id,
        kind=kind,
        ip=ip or None,
        user_agent=user_agent[:400] if user_agent else None,
        detail=detail[:200] if detail else None,
    )
    session.add(event)
    return event


EVENTS_ORDER = SortKey(columns=[col(SecurityEvent.id)], descending=True)


async def security_events_page(
    session: AsyncSession, *, user_id: uuid.UUID, page: PageRequest
) -> Page[SecurityEvent]:
    return await fetch_page(
        session,
        select(SecurityEvent).where(col(SecurityEvent.user_id) == user_id),
        sort=EVENTS_ORDER,
        page=page,
        key_of=lambda e: (e.id,),
    )


async def count_security_events(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    statement = select(func.count()).where(col(SecurityEvent.user_id) == user_id)
    return int((await session.execute(statement)).scalar_one())
