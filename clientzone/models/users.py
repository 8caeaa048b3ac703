"""People who log in. One email reaches every account the person belongs to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.auth_changes import mark_user
from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class Locale(StrEnum):
    ES = "es"
    EN = "en"


def normalize_email(email: str) -> str:
    """The one stored form of an email: trimmed and lower-cased."""
    return email.strip().lower()


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(sa_type=String(254), unique=True)
    first_name: str = Field(default="", sa_type=String(100))
    last_name: str = Field(default="", sa_type=String(100))
    locale: Locale = Field(default=Locale.ES, sa_type=StrEnumType(Locale))
    status: UserStatus = Field(default=UserStatus.ACTIVE, sa_type=StrEnumType(UserStatus))
    is_staff: bool = False
    password_hash: str | None = Field(default=None, sa_type=String(255))
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # How many memberships the user has, kept by triggers (migration 0036) so
    # that a login's account count is one row to read. Never written by code.
    membership_count: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})


_USERS_BY_IDS = select(User).where(col(User.id).in_(bindparam("ids", expanding=True)))


async def users_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[User]:
    result = await session.execute(_USERS_BY_IDS, {"ids": list(ids)})
    return list(result.scalars())


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(col(User.email) == normalize_email(email)))
    return result.scalar_one_or_none()


async def update_personal_details(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    first_name: str | None = None,
    last_name: str | None = None,
    locale: Locale | None = None,
) -> User:
    values = {
        name: value
        for name, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("locale", locale),
        )
        if value is not None
    }
    if values:
        mark_user(session, user_id)
        await session.execute(update(User).where(col(User.id) == user_id).values(**values))
    result = await session.execute(select(User).where(col(User.id) == user_id))
    return result.scalar_one()


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    first_name: str,
    last_name: str,
    locale: Locale,
) -> User:
    user = User(
        email=normalize_email(email),
        password_hash=password_hash,
        first_name=first_name,
        last_name=last_name,
        locale=locale,
    )
    session.add(user)
    await session.flush()
    return user


async def set_user_fields(session: AsyncSession, user_id: uuid.UUID, **values: object) -> None:
    """Update columns of one user (password_hash, email, email_verified_at, ...)."""
    mark_user(session, user_id)
    await session.execute(update(User).where(col(User.id) == user_id).values(**values))


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    result = await session.execute(select(User).where(col(User.id) == user_id))
    return result.scalar_one_or_none()
