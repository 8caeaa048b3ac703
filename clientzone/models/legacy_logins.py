"""Logins of the old portal: customer number + username + password hash.

They are imported as they were (bcrypt, Django PBKDF2 or argon2 hashes) and
only ever used to prove, once, that the person who now logs in with an email
held the old credential. Claiming one adds its account to that email's
memberships and disables it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.accounts import Account
from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.memberships import Permission, PermissionSet


class LegacyLoginStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLAIMED = "CLAIMED"


class LegacyLogin(SQLModel, table=True):
    __tablename__ = "legacy_logins"
    __table_args__ = (UniqueConstraint("account_id", "username"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    username: str = Field(sa_type=String(150))
    password_hash: str = Field(sa_type=String(255))
    # The account's main login becomes an OWNER; others become members with
    # `permissions`.
    is_main: bool = False
    permissions: frozenset[Permission] = Field(default=frozenset(), sa_type=PermissionSet)
    status: LegacyLoginStatus = Field(
        default=LegacyLoginStatus.ACTIVE, sa_type=StrEnumType(LegacyLoginStatus)
    )
    claimed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def normalize_username(username: str) -> str:
    return username.strip().lower()


async def active_legacy_login(
    session: AsyncSession, *, customer_number: str, username: str
) -> tuple[LegacyLogin, Account] | None:
    statement = (
        select(LegacyLogin, Account)
        .join(Account, col(Account.id) == col(LegacyLogin.account_id))
        .where(
            col(Account.number).in_({customer_number.strip(), customer_number.strip().upper()}),
            col(LegacyLogin.username) == normalize_username(username),
            col(LegacyLogin.status) == LegacyLoginStatus.ACTIVE,
        )
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1])


async def mark_claimed(session: AsyncSession, *, legacy_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Disable the credential for good; False when someone claimed it first."""
    result = await session.execute(
        update(LegacyLogin)
        .where(
            col(LegacyLogin.id) == legacy_id, col(LegacyLogin.status) == LegacyLoginStatus.ACTIVE
        )
        .values(status=LegacyLoginStatus.CLAIMED, claimed_by=user_id, claimed_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))
