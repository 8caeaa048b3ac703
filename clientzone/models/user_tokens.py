"""One-time links and codes sent by email: verify an address, reset a
password, confirm adding an account to a login (with the account's id).

Each row is one request. A newer request of the same kind replaces the older
one (the older stops working), a row is used at most once, and a reset code
allows at most MAX_CODE_ATTEMPTS wrong guesses. Only hashes are stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Index, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.core.tokens import hash_code, hash_token, new_code, new_token, same
from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow

# The purpose of the key (derived from SECRET_KEY) that emailed codes are hashed with.
CODE_KEY = "user-codes"

MAX_CODE_ATTEMPTS = 5


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "VERIFY_EMAIL"  # with new_email: the address to switch to
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 (a purpose, not a password)
    UNIFY_ACCOUNT = "UNIFY_ACCOUNT"  # with account_id: the account to add


class UserToken(SQLModel, table=True):
    __tablename__ = "user_tokens"
    __table_args__ = (
        Index("ix_user_tokens_user_id_purpose", "user_id", "purpose"),
        Index("ix_user_tokens_login_hash", "login_hash"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    purpose: TokenPurpose = Field(sa_type=StrEnumType(TokenPurpose))
    token_hash: str = Field(sa_type=String(64), unique=True)
    code_hash: str | None = Field(default=None, sa_type=String(64))
    # SHA-256 of the login (email or customer number) a reset was asked with.
    login_hash: str | None = Field(default=None, sa_type=String(64))
    new_email: str | None = Field(default=None, sa_type=String(254))
    account_id: uuid.UUID | None = Field(
        default=None, foreign_key="accounts.id", ondelete="CASCADE"
    )
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def login_hash(login: str) -> str:
    return hash_token(login.strip().lower())


async def issue_user_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    purpose: TokenPurpose,
    lifetime: timedelta,
    code_key: bytes,
    new_email: str | None = None,
    login: str | None = None,
    with_code: bool = False,
    account_id: uuid.UUID | None = None,
) -> tuple[str, str | None]:
    """A fresh link token (and code), replacing the user's earlier live ones of
    this purpose. Returns the secrets to email; only their hashes are kept."""
    now = utcnow()
    await session.execute(
        update(UserToken)
        .where(
            col(UserToken.user_id) == user_id,
            col(UserToken.purpose) == purpose,
            col(UserToken.used_at).is_(None),
        )
        .values(used_at=now)
    )
    token = new_token()
    row = UserToken(
        user_id=user_id,
        purpose=purpose,
        token_hash=hash_token(token),
        login_hash=login_hash(login) if login else None,
        new_email=new_email,
        account_id=account_id,
        created_at=now,
        expires_at=now + lifetime,
    )
    code = new_code() if with_code else None
    if code is not None:
        row.code_hash = hash_code(code_key, row.id.hex, code)
    session.add(row)
    await session.flush()
    return token, code


def _live() -> list[object]:
    return [
        col(UserToken.used_at).is_(None),
        col(UserToken.expires_at) > utcnow(),
        col(UserToken.attempts) < MAX_CODE_ATTEMPTS,
    ]


async def live_token(
    session: AsyncSession, *, purpose: TokenPurpose, token: str
) -> UserToken | None:
    statement = select(UserToken).where(
        col(UserToken.token_hash) == hash_token(token),
        col(UserToken.purpose) == purpose,
        *_live(),  # type: ignore[arg-type]
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def live_user_token(
    session: AsyncSession, *, user_id: uuid.UUID, purpose: TokenPurpose
) -> UserToken | None:
    """The user's live request of this purpose (a newer one replaces the older)."""
    statement = (
        select(UserToken)
        .where(
            col(UserToken.user_id) == user_id,
            col(UserToken.purpose) == purpose,
            *_live(),  # type: ignore[arg-type]
        )
        .order_by(col(UserToken.created_at).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def tokens_by_hash(
    session: AsyncSession, token_hashes: Sequence[str]
) -> dict[str, UserToken]:
    """The requests whose link tokens hash to these (live or not), by hash."""
    if not token_hashes:
        return {}
    statement = select(UserToken).where(col(UserToken.token_hash).in_(token_hashes))
    return {row.token_hash: row for row in (await session.execute(statement)).scalars()}


def is_live(row: UserToken) -> bool:
    """Unused, unexpired, and not locked by wrong codes (as `_live` in SQL)."""
    return row.used_at is None and row.expires_at > utcnow() and row.attempts < MAX_CODE_ATTEMPTS


async def live_reset_requests(session: AsyncSession, *, login: str) -> list[UserToken]:
    """Live password-reset requests made with this login (one per matching user)."""
    statement = select(UserToken).where(
        col(UserToken.login_hash) == login_hash(login),
        col(UserToken.purpose) == TokenPurpose.PASSWORD_RESET,
        *_live(),  # type: ignore[arg-type]
    )
    return list((await session.execute(statement)).scalars())


async def count_failed_attempt(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    if ids:
        await session.execute(
            update(UserToken)
            .where(col(UserToken.id).in_(ids))
            .values(attempts=col(UserToken.attempts) + 1)
        )


async def use_token(session: AsyncSession, token_id: uuid.UUID) -> bool:
    """Mark a token used; False when another request used it first."""
    result = await session.execute(
        update(UserToken)
        .where(col(UserToken.id) == token_id, col(UserToken.used_at).is_(None))
        .values(used_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def code_matches(row: UserToken, code_key: bytes, code: str) -> bool:
    return row.code_hash is not None and same(row.code_hash, hash_code(code_key, row.id.hex, code))
