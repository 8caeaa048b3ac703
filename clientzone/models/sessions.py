"""Login sessions and bearer tokens. Only the SHA-256 of a token is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.users import User, UserStatus


class SessionKind(StrEnum):
    BROWSER = "BROWSER"
    TOKEN = "TOKEN"  # noqa: S105


class AuthSession(SQLModel, table=True):
    __tablename__ = "sessions"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(sa_type=String(64), unique=True)
    kind: SessionKind = Field(sa_type=StrEnumType(SessionKind))
    label: str | None = Field(default=None, sa_type=String(100))
    active_account_id: uuid.UUID | None = Field(
        default=None, foreign_key="accounts.id", ondelete="SET NULL"
    )
    ip: str | None = Field(default=None, sa_type=String(45))
    user_agent: str | None = Field(default=None, sa_type=String(400))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_session(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: SessionKind,
    lifetime: timedelta,
    label: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, AuthSession]:
    """Create a session; returns the token (shown once, never stored) and the row."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = AuthSession(
        user_id=user_id,
        token_hash=hash_token(token),
        kind=kind,
        label=label,
        ip=ip,
        user_agent=user_agent[:400] if user_agent else None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    await session.flush()
    return token, row


async def active_session_by_token(
    session: AsyncSession, token: str
) -> tuple[AuthSession, User] | None:
    """The live session for a token and its active user, in one statement."""
    statement = (
        select(AuthSession, User)
        .join(User, col(User.id) == col(AuthSession.user_id))
        .where(
            col(AuthSession.token_hash) == hash_token(token),
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > utcnow(),
            col(User.status) == UserStatus.ACTIVE,
        )
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1])
