"""Invitations to join an account with a set of permissions.

The link's token is stored as its SHA-256 only. An invitation is pending until
it is accepted, revoked or past `expires_at`; resending gives it a new token
and expiry, and the old link stops working.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.core.tokens import hash_token, new_token
from clientzone.models.base import UTCDateTime, new_id, utcnow
from clientzone.models.memberships import Permission, PermissionSet
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page

INVITATION_LIFETIME = timedelta(hours=48)


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_account_id_id", "account_id", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    email: str = Field(sa_type=String(254))
    permissions: frozenset[Permission] = Field(default=frozenset(), sa_type=PermissionSet)
    token_hash: str = Field(sa_type=String(64), unique=True)
    invited_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Sent by support to an account nobody reaches yet: the acceptor is its owner.
    as_owner: bool = False

    @property
    def status(self) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= utcnow():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


async def create_invitation(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    email: str,
    permissions: frozenset[Permission],
    invited_by: uuid.UUID,
    as_owner: bool = False,
) -> tuple[str, Invitation]:
    """A new invitation; returns the link token (emailed, never stored)."""
    token = new_token()
    invitation = Invitation(
        account_id=account_id,
        email=email,
        permissions=permissions,
        token_hash=hash_token(token),
        invited_by=invited_by,
        expires_at=utcnow() + INVITATION_LIFETIME,
        as_owner=as_owner,
    )
    session.add(invitation)
    await session.flush()
    return token, invitation


async def renew_invitation(session: AsyncSession, invitation: Invitation) -> str:
    """A new token and expiry; the previous link stops working."""
    token = new_token()
    invitation.token_hash = hash_token(token)
    invitation.expires_at = utcnow() + INVITATION_LIFETIME
    session.add(invitation)
    await session.flush()
    return token


async def invitation_by_token(session: AsyncSession, token: str) -> Invitation | None:
    statement = select(Invitation).where(col(Invitation.token_hash) == hash_token(token))
    return (await session.execute(statement)).scalar_one_or_none()


async def invitations_by_token_hash(
    session: AsyncSession, token_hashes: Sequence[str]
) -> dict[str, Invitation]:
    """The invitations whose current link tokens hash to these, by hash (a
    resent invitation has a new token: its old link is not found)."""
    if not token_hashes:
        return {}
    statement = select(Invitation).where(col(Invitation.token_hash).in_(token_hashes))
    return {row.token_hash: row for row in (await session.execute(statement)).scalars()}


async def invitation_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation | None:
    statement = select(Invitation).where(
        col(Invitation.account_id) == account_id, col(Invitation.id) == invitation_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def account_of_invitation(
    session: AsyncSession, invitation_id: uuid.UUID
) -> uuid.UUID | None:
    statement = select(col(Invitation.account_id)).where(col(Invitation.id) == invitation_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def pending_invitation_for(
    session: AsyncSession, *, account_id: uuid.UUID, email: str
) -> Invitation | None:
    statement = select(Invitation).where(
        col(Invitation.account_id) == account_id,
        col(Invitation.email) == email,
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
        col(Invitation.expires_at) > utcnow(),
    )
    return (await session.execute(statement)).scalars().first()


async def close_invitation(
    session: AsyncSession, invitation_id: uuid.UUID, *, accepted_by: uuid.UUID | None = None
) -> bool:
    """Accept (with `accepted_by`) or revoke a still-open invitation; False if it
    was closed meanwhile."""
    values: dict[str, Any] = (
        {"accepted_at": utcnow(), "accepted_by": accepted_by}
        if accepted_by
        else {"revoked_at": utcnow()}
    )
    result = await session.execute(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation_id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


def _open(account_id: uuid.UUID) -> Any:
    """Invitations not accepted nor revoked (expired ones too: they can be resent)."""
    return select(Invitation).where(
        col(Invitation.account_id) == account_id,
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
    )


INVITATIONS_ORDER = SortKey(columns=[col(Invitation.id)], descending=True)


async def open_invitations_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest
) -> Page[Invitation]:
    return await fetch_page(
        session, _open(account_id), sort=INVITATIONS_ORDER, page=page, key_of=lambda i: (i.id,)
    )


async def count_open_invitations(session: AsyncSession, *, account_id: uuid.UUID) -> int:
    subquery = _open(account_id).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())
