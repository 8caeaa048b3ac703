"""API clients: integrations that act on one account, never as a person.

A client's key is `czk_` followed by 256 random bits. Only its SHA-256 is
stored: the key is high-entropy, so a fast hash cannot be reversed by guessing
(a slow password hash would only cost CPU on every call), and a lookup by hash
needs no per-row salt. Rotation keeps the previous key's hash valid until
`previous_valid_until`. Access tokens from the OAuth client-credentials grant
(`cza_`) are stored the same way, expire within minutes and die with their
client (a revoked or expired client makes every one of its tokens anonymous).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Index, String, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.core.tokens import hash_token
from clientzone.models.base import UTCDateTime, new_id, utcnow
from clientzone.models.memberships import Permission, PermissionSet
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page

KEY_PREFIX = "czk_"
ACCESS_TOKEN_PREFIX = "cza_"  # noqa: S105 (a prefix, not a secret)
# How often last-used time and IP are written at most (a busy client does not
# write on every request).
TOUCH_SECONDS = 60


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_access_token() -> str:
    return ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiClient(SQLModel, table=True):
    __tablename__ = "api_clients"
    __table_args__ = (
        Index("ix_api_clients_account_id_id", "account_id", "id"),
        Index("ix_api_clients_previous_key_hash", "previous_key_hash"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    name: str = Field(sa_type=String(100))
    permissions: frozenset[Permission] = Field(default=frozenset(), sa_type=PermissionSet)
    # Whether the client also reaches the accounts linked under its account (with
    # its permissions, never more than its creator holds on each).
    include_linked_accounts: bool = Field(
        default=False, sa_type=Boolean, sa_column_kwargs={"server_default": false()}
    )
    key_hash: str = Field(sa_type=String(64), unique=True)
    # The first characters of the key, to tell keys apart in a list.
    key_hint: str = Field(sa_type=String(16))
    previous_key_hash: str | None = Field(default=None, sa_type=String(64))
    previous_valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_ip: str | None = Field(default=None, sa_type=String(45))

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiAccessToken(SQLModel, table=True):
    __tablename__ = "api_access_tokens"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    client_id: uuid.UUID = Field(foreign_key="api_clients.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(sa_type=String(64), unique=True)
    permissions: frozenset[Permission] = Field(default=frozenset(), sa_type=PermissionSet)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True)
class ClientCredential:
    """A live client and what this credential may do (a token may be narrower)."""

    client: ApiClient
    permissions: frozenset[Permission]
    # When this credential stops working unless something ends it sooner (the
    # client's expiry, the rotation's grace for a previous key, a token's expiry).
    valid_until: datetime | None = None


def _hint(key: str) -> str:
    return key[:10]


async def create_client(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    name: str,
    permissions: frozenset[Permission],
    created_by: uuid.UUID | None,
    expires_at: datetime | None,
    include_linked_accounts: bool = False,
) -> tuple[str, ApiClient]:
    """A new client; returns its key (shown once, never stored) and the row."""
    key = new_key()
    row = ApiClient(
        account_id=account_id,
        name=name,
        permissions=permissions,
        key_hash=hash_token(key),
        key_hint=_hint(key),
        created_by=created_by,
        expires_at=expires_at,
        include_linked_accounts=include_linked_accounts,
    )
    session.add(row)
    await session.flush()
    return key, row


def rotate_key(row: ApiClient, grace: timedelta, now: datetime | None = None) -> str:
    """A new key for the client; the current one keeps working for `grace`."""
    now = now or utcnow()
    key = new_key()
    row.previous_key_hash = row.key_hash if grace.total_seconds() > 0 else None
    row.previous_valid_until = now + grace if grace.total_seconds() > 0 else None
    row.key_hash = hash_token(key)
    row.key_hint = _hint(key)
    return key


async def client_by_key(session: AsyncSession, key: str) -> ApiClient | None:
    """The live client for a key, current or previous within its grace."""
    found = await credential_by_key(session, key)
    return found.client if found is not None else None


def _earliest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


async def credential_by_key(session: AsyncSession, key: str) -> ClientCredential | None:
    """The live client for a key (current, or previous within its grace) and
    until when the key works."""
    key_hash = hash_token(key)
    now = utcnow()
    statement = select(ApiClient).where(
        or_(
            col(ApiClient.key_hash) == key_hash,
            (col(ApiClient.previous_key_hash) == key_hash)
            & (col(ApiClient.previous_valid_until) > now),
        )
    )
    row = (await session.execute(statement)).scalars().first()
    if row is None or not row.live(now):
        return None
    grace = row.previous_valid_until if row.key_hash != key_hash else None
    return ClientCredential(row, row.permissions, _earliest(row.expires_at, grace))


async def credential_by_access_token(session: AsyncSession, token: str) -> ClientCredential | None:
    now = utcnow()
    statement = (
        select(ApiAccessToken, ApiClient)
        .join(ApiClient, col(ApiClient.id) == col(ApiAccessToken.client_id))
        .where(
            col(ApiAccessToken.token_hash) == hash_token(token),
            col(ApiAccessToken.expires_at) > now,
        )
    )
    found = (await session.execute(statement)).one_or_none()
    if found is None or not found[1].live(now):
        return None
    token_row, client = found[0], found[1]
    return ClientCredential(
        client,
        token_row.permissions & client.permissions,
        _earliest(token_row.expires_at, client.expires_at),
    )


async def issue_access_token(
    session: AsyncSession,
    client: ApiClient,
    permissions: frozenset[Permission],
    lifetime: timedelta,
) -> str:
    token = new_access_token()
    now = utcnow()
    session.add(
        ApiAccessToken(
            client_id=client.id,
            token_hash=hash_token(token),
            permissions=permissions,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def touch_due(client: ApiClient, ip: str, now: datetime) -> bool:
    """Whether to record this use: at most once a TOUCH_SECONDS per client,
    unless it comes from another address."""
    return (
        client.last_used_at is None
        or (now - client.last_used_at).total_seconds() >= TOUCH_SECONDS
        or client.last_used_ip != (ip or None)
    )


async def touch_client(session: AsyncSession, client: ApiClient, ip: str, now: datetime) -> None:
    """Record a use (in a transaction: see touch_due for how often)."""
    await session.execute(
        update(ApiClient)
        .where(col(ApiClient.id) == client.id)
        .values(last_used_at=now, last_used_ip=(ip or None)),
        execution_options={"synchronize_session": False},
    )


CLIENTS_ORDER = SortKey(columns=[col(ApiClient.id)], descending=True)


async def clients_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest
) -> Page[ApiClient]:
    """The account's clients not revoked, newest first."""
    statement = select(ApiClient).where(
        col(ApiClient.account_id) == account_id, col(ApiClient.revoked_at).is_(None)
    )
    return await fetch_page(
        session, statement, sort=CLIENTS_ORDER, page=page, key_of=lambda c: (c.id,)
    )


async def account_of_client(session: AsyncSession, client_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(ApiClient.account_id)).where(
        col(ApiClient.id) == client_id, col(ApiClient.revoked_at).is_(None)
    )
    return (await session.execute(statement)).scalar_one_or_none()
