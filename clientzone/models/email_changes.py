"""Login-email changes staff decide (EMAIL_CHANGE=staff).

A customer's `changeEmail` then records a PENDING request here instead of
mailing a link; a newer request replaces (CANCELLED) the login's pending one.
Staff approve it (the verification link then goes to the new address, and the
email changes once it is opened) or reject it, saying why.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page
from clientzone.models.users import User


class EmailChangeStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class EmailChangeRequest(SQLModel, table=True):
    __tablename__ = "email_change_requests"
    __table_args__ = (
        Index("ix_email_change_requests_status_id", "status", "id"),
        Index("ix_email_change_requests_user_id_status", "user_id", "status"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    new_email: str = Field(sa_type=String(254))
    status: EmailChangeStatus = Field(
        default=EmailChangeStatus.PENDING, sa_type=StrEnumType(EmailChangeStatus)
    )
    reason: str | None = Field(default=None, sa_type=String(500))
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def request_change(
    session: AsyncSession, *, user_id: uuid.UUID, new_email: str
) -> EmailChangeRequest:
    """A new PENDING request; the login's earlier pending one is CANCELLED."""
    await session.execute(
        update(EmailChangeRequest)
        .where(
            col(EmailChangeRequest.user_id) == user_id,
            col(EmailChangeRequest.status) == EmailChangeStatus.PENDING,
        )
        .values(status=EmailChangeStatus.CANCELLED, decided_at=utcnow())
    )
    row = EmailChangeRequest(user_id=user_id, new_email=new_email)
    session.add(row)
    await session.flush()
    return row


async def pending_request(session: AsyncSession, user_id: uuid.UUID) -> EmailChangeRequest | None:
    statement = select(EmailChangeRequest).where(
        col(EmailChangeRequest.user_id) == user_id,
        col(EmailChangeRequest.status) == EmailChangeStatus.PENDING,
    )
    return (await session.execute(statement)).scalars().first()


async def decide(
    session: AsyncSession,
    request_id: uuid.UUID,
    *,
    status: EmailChangeStatus,
    staff_user_id: uuid.UUID,
    reason: str | None,
) -> bool:
    """Approve or reject a PENDING request; False when it is no longer pending."""
    result = await session.execute(
        update(EmailChangeRequest)
        .where(
            col(EmailChangeRequest.id) == request_id,
            col(EmailChangeRequest.status) == EmailChangeStatus.PENDING,
        )
        .values(status=status, decided_by=staff_user_id, decided_at=utcnow(), reason=reason)
    )
    return bool(getattr(result, "rowcount", 0))


PENDING_ORDER = SortKey(columns=[col(EmailChangeRequest.id)])


def _pending() -> Any:
    return (
        select(EmailChangeRequest, User)
        .join(User, col(User.id) == col(EmailChangeRequest.user_id))
        .where(col(EmailChangeRequest.status) == EmailChangeStatus.PENDING)
    )


async def pending_page(
    session: AsyncSession, *, page: PageRequest
) -> Page[tuple[EmailChangeRequest, User]]:
    """Pending requests with their logins, oldest first (ids are time-ordered)."""
    found = await fetch_page(
        session,
        _pending(),
        sort=PENDING_ORDER,
        page=page,
        key_of=lambda row: (row[0].id,),
        scalars=False,
    )
    rows = [(row[0], row[1]) for row in found.rows]
    return Page(rows, found.keys, found.has_next_page, found.has_previous_page)


async def count_pending(session: AsyncSession) -> int:
    statement = select(func.count()).where(
        col(EmailChangeRequest.status) == EmailChangeStatus.PENDING
    )
    return int((await session.execute(statement)).scalar_one())
