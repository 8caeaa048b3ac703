"""Customer accounts: the customer number, profile columns and linked accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    String,
    bindparam,
    false,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, col

from clientzone.models.base import PostalAddress, StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.users import Locale


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


class Account(PostalAddress, table=True):
    __tablename__ = "accounts"
    # Linked accounts are listed by customer number: one index walk per page.
    __table_args__ = (
        Index("ix_accounts_parent_id_number", "parent_id", "number"),
        # Support's customer search (models/customer_search.py).
        Index("ix_accounts_email", "email"),
        Index("ix_accounts_tax_id", "tax_id"),
        Index("ix_accounts_phone", "phone"),
        Index("ix_accounts_mobile_phone", "mobile_phone"),
        # A piece of the name: trigram indexes on PostgreSQL (pg_trgm), where
        # `LIKE '%piece%'` uses them (SQLite has no such index).
        Index(
            "ix_accounts_name_trigrams",
            func.lower(text("name")).label("lower_name"),
            postgresql_using="gin",
            postgresql_ops={"lower_name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_accounts_company_name_trigrams",
            func.lower(text("company_name")).label("lower_company_name"),
            postgresql_using="gin",
            postgresql_ops={"lower_company_name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    number: str = Field(sa_type=String(32), unique=True)
    name: str = Field(sa_type=String(200))
    status: AccountStatus = Field(default=AccountStatus.ACTIVE, sa_type=StrEnumType(AccountStatus))
    currency: str = Field(sa_type=String(3))
    parent_id: uuid.UUID | None = Field(
        default=None, foreign_key="accounts.id", ondelete="RESTRICT"
    )
    # How many accounts are linked under this one, kept by triggers (migration
    # 0037) so that a login's inherited accounts are added up, not listed.
    # Never written by code.
    linked_count: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})

    company_name: str | None = Field(default=None, sa_type=String(200))
    first_name: str | None = Field(default=None, sa_type=String(100))
    last_name: str | None = Field(default=None, sa_type=String(100))
    email: str | None = Field(default=None, sa_type=String(254))
    phone: str | None = Field(default=None, sa_type=String(32))
    mobile_phone: str | None = Field(default=None, sa_type=String(32))
    tax_id: str | None = Field(default=None, sa_type=String(32))
    security_pin_hash: str | None = Field(default=None, sa_type=String(255))
    locale: Locale = Field(default=Locale.ES, sa_type=StrEnumType(Locale))
    # Billing staff's limit for this account (minor units); None: the
    # currency's PAYMENT_ONLINE_LIMITS.
    online_payment_limit_minor: int | None = Field(default=None, sa_type=BigInteger)
    # The account asked for a statement of the month by email (INVOICES).
    monthly_statement: bool = Field(
        default=False, sa_type=Boolean, sa_column_kwargs={"server_default": false()}
    )
    # The address the mail server refused for good (5xx), and when: while it
    # is still the account's email, the account's own copies are not sent;
    # a new email (however it is changed) is mailed again.
    bounced_email: str | None = Field(default=None, sa_type=String(254))
    email_bounced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The company the account is a customer of (models/brands.py); None: the
    # default brand of settings. No foreign key: SQLite adds one only by
    # rebuilding `accounts` (see migration 0032); only the import sets it, to
    # a brand it found, and brands are never deleted.
    brand_id: uuid.UUID | None = Field(default=None)

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def email_bouncing(self) -> bool:
        return bool(
            self.email and self.bounced_email and self.email.lower() == self.bounced_email.lower()
        )


async def mark_email_bouncing(session: AsyncSession, addresses: Sequence[str]) -> None:
    """Every account whose email is one of these (any case) bounces from now."""
    lowered = sorted({a.lower() for a in addresses})
    if lowered:
        await session.execute(
            update(Account)
            .where(func.lower(col(Account.email)).in_(lowered))
            .values(bounced_email=col(Account.email), email_bounced_at=utcnow())
            .execution_options(synchronize_session=False)
        )


_ACCOUNTS_BY_IDS = select(Account).where(col(Account.id).in_(bindparam("ids", expanding=True)))


async def accounts_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Account]:
    result = await session.execute(_ACCOUNTS_BY_IDS, {"ids": list(ids)})
    return list(result.scalars())


async def update_account(session: AsyncSession, account_id: uuid.UUID, **values: object) -> Account:
    """Set columns of one account (and its updated_at); returns the fresh row."""
    await session.execute(
        update(Account).where(col(Account.id) == account_id).values(updated_at=utcnow(), **values)
    )
    statement = select(Account).where(col(Account.id) == account_id)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one()


async def lock_account(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Make this transaction the only one changing the account's money until it
    ends: what is owed, what is being paid and what was paid are read and
    written by one transaction at a time. A no-op write first, because SQLite
    has no row locks (the write takes its one writer's lock for the rest of the
    transaction, and the reads after it see the latest commit); PostgreSQL
    locks the row (then `SELECT ... FOR UPDATE` in post_movement is already ours).
    """
    await session.execute(
        update(Account).where(col(Account.id) == account_id).values(updated_at=Account.updated_at)
    )


async def account_by_number(session: AsyncSession, number: str) -> Account | None:
    statement = select(Account).where(col(Account.number) == number)
    return (await session.execute(statement)).scalar_one_or_none()
