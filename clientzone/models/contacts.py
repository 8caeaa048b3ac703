"""An account's contacts: people who receive its emails, by category. Not logins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, col

from clientzone.models.base import PostalAddress, UTCDateTime, new_id, utcnow


class EmailCategory(StrEnum):
    GENERAL = "GENERAL"
    PRODUCTS = "PRODUCTS"
    DOMAINS = "DOMAINS"
    INVOICES = "INVOICES"
    SUPPORT = "SUPPORT"


class CategorySet(TypeDecorator[frozenset[EmailCategory]]):
    """A set of email categories stored as sorted comma-separated names."""

    impl = String(100)
    cache_ok = True

    def process_bind_param(
        self, value: Iterable[EmailCategory] | None, dialect: Dialect
    ) -> str | None:
        if value is None:
            return None
        return ",".join(sorted(EmailCategory(c).value for c in value))

    def process_result_value(
        self, value: str | None, dialect: Dialect
    ) -> frozenset[EmailCategory] | None:
        if value is None:
            return None
        return frozenset(EmailCategory(c) for c in value.split(",") if c)


class Contact(PostalAddress, table=True):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "email"),
        Index("ix_contacts_account_id_last_name_id", "account_id", "last_name", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    first_name: str = Field(sa_type=String(100))
    last_name: str = Field(default="", sa_type=String(100))
    company: str | None = Field(default=None, sa_type=String(200))
    email: str = Field(sa_type=String(254))
    phone: str | None = Field(default=None, sa_type=String(32))
    active: bool = True
    categories: frozenset[EmailCategory] = Field(default=frozenset(), sa_type=CategorySet)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def contact_emails_for_category(
    session: AsyncSession, *, account_id: uuid.UUID, category: EmailCategory
) -> list[str]:
    """Addresses of the account's active contacts opted into `category`."""
    statement = select(col(Contact.email), col(Contact.categories)).where(
        col(Contact.account_id) == account_id, col(Contact.active).is_(True)
    )
    rows = (await session.execute(statement)).all()
    return [email for email, categories in rows if category in (categories or ())]
