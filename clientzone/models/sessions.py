"""Login sessions and bearer tokens. Only the SHA-256 of a token is stored.

A session ends at `expires_at` (absolute) and, for browser sessions that were
not "remembered", also after `idle_expires_at` passes without a request.
`last_seen_at` and the idle deadline move forward at most once a minute
(`SESSION_TOUCH_SECONDS`), so a busy session does not write on every request.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.core.tokens import hash_token, new_token
from clientzone.models.auth_changes import mark_session, mark_user
from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page
from clientzone.models.users import User, UserStatus


class SessionKind(StrEnum):
    BROWSER = "BROWSER"
    TOKEN = "TOKEN"  # noqa: S105


class AuthSession(SQLModel, table=True):
    __tablename__ = "sessions"
    # A user's sessions, newest first.
    __table_args__ = (Index("ix_sessions_user_id_id", "user_id", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
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
    idle_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When a staff member proved their second factor in this session.
    second_factor_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def create_session(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: SessionKind,
    lifetime: timedelta,
    idle: timedelta | None = None,
    label: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, AuthSession]:
    """Create a session; returns the token (shown once, never stored) and the row."""
    token = new_token()
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
        idle_expires_at=now + idle if idle else None,
    )
    session.add(row)
    await session.flush()
    return token, row


async def active_session_by_token(
    session: AsyncSession, token: str
) -> tuple[AuthSession, User] | None:
    """The live session for a token and its active user, in one statement."""
    return await active_session_by_hash(session, hash_token(token))


async def active_session_by_hash(
    session: AsyncSession, token_hash: str
) -> tuple[AuthSession, User] | None:
    return await _live_session(session, _LIVE_BY_TOKEN, {"token_hash": token_hash})


async def active_session_by_id(
    session: AsyncSession, session_id: uuid.UUID
) -> tuple[AuthSession, User] | None:
    """The session, if it is still live, and its active user (for long-lived
    connections that check again on every event)."""
    return await _live_session(session, _LIVE_BY_ID, {"session_id": session_id})


def _live_statement(which: Any) -> Any:
    """Built once, with the key and the time as parameters: building a
    statement costs more than running it (this one runs on every request)."""
    now = bindparam("now", type_=UTCDateTime())
    return (
        select(AuthSession, User)
        .join(User, col(User.id) == col(AuthSession.user_id))
        .where(
            which,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > now,
            or_(col(AuthSession.idle_expires_at).is_(None), col(AuthSession.idle_expires_at) > now),
            col(User.status) == UserStatus.ACTIVE,
        )
    )


_LIVE_BY_TOKEN = _live_statement(col(AuthSession.token_hash) == bindparam("token_hash"))
_LIVE_BY_ID = _live_statement(col(AuthSession.id) == bindparam("session_id"))


async def _live_session(
    session: AsyncSession, statement: Any, params: dict[str, Any]
) -> tuple[AuthSession, User] | None:
    row = (await session.execute(statement, {**params, "now": utcnow()})).one_or_none()
    return None if row is None else (row[0], row[1])


async def signed_in_from(
    session: AsyncSession, *, user_id: uuid.UUID, ip: str, since: datetime
) -> bool:
    """Whether the user opened a session from `ip` since then (a known place)."""
    statement = (
        select(col(AuthSession.id))
        .where(
            col(AuthSession.user_id) == user_id,
            col(AuthSession.ip) == ip,
            col(AuthSession.created_at) >= since,
        )
        .limit(1)
    )
    return (await session.execute(statement)).first() is not None


async def touch_session(
    session: AsyncSession, row: AuthSession, *, idle: timedelta, now: datetime | None = None
) -> None:
    """Record activity: last seen now, and the idle deadline pushed forward."""
    now = now or utcnow()
    values: dict[str, datetime] = {"last_seen_at": now}
    if row.idle_expires_at is not None:
        values["idle_expires_at"] = now + idle
    # The row may be one the session cache shares between requests: the ORM
    # must not write the new values into it (or expire it) behind their back.
    statement = update(AuthSession).where(col(AuthSession.id) == row.id).values(**values)
    await session.execute(statement, execution_options={"synchronize_session": False})


async def revoke_sessions(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    only: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke the user's live sessions (one of them with `only`, all but `keep`);
    returns how many were revoked."""
    statement = update(AuthSession).where(
        col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None)
    )
    if only is not None:
        statement = statement.where(col(AuthSession.id) == only)
    if keep is not None:
        statement = statement.where(col(AuthSession.id) != keep)
    mark_user(session, user_id)
    result = await session.execute(statement.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def _live(user_id: uuid.UUID) -> Any:
    now = utcnow()
    return select(AuthSession).where(
        col(AuthSession.user_id) == user_id,
        col(AuthSession.revoked_at).is_(None),
        col(AuthSession.expires_at) > now,
        or_(col(AuthSession.idle_expires_at).is_(None), col(AuthSession.idle_expires_at) > now),
    )


SESSIONS_ORDER = SortKey(columns=[col(AuthSession.id)], descending=True)


async def live_sessions_page(
    session: AsyncSession, *, user_id: uuid.UUID, page: PageRequest
) -> Page[AuthSession]:
    """The user's sessions that still work, newest first."""
    return await fetch_page(
        session, _live(user_id), sort=SESSIONS_ORDER, page=page, key_of=lambda s: (s.id,)
    )


async def count_live_sessions(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    subquery = _live(user_id).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def set_active_account(
    session: AsyncSession, *, session_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    mark_session(session, session_id)
    await session.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id)
        .values(active_account_id=account_id)
    )


async def mark_second_factor(session: AsyncSession, *, session_id: uuid.UUID) -> None:
    """This session's person proved their second factor (staff)."""
    mark_session(session, session_id)
    await session.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id)
        .values(second_factor_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


async def forget_active_account(
    session: AsyncSession, *, user_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    """The user's sessions that had this account active go back to the default."""
    mark_user(session, user_id)
    await session.execute(
        update(AuthSession)
        .where(
            col(AuthSession.user_id) == user_id, col(AuthSession.active_account_id) == account_id
        )
        .values(active_account_id=None)
    )
