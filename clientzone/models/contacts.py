"""An account's contacts: people who receive its emails, by category. Not logins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Index,
    String,
    UniqueConstraint,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, col

from clientzone.models.base import PostalAddress, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page


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
        Index("ix_contacts_email", "email"),
        Index("ix_contacts_phone", "phone"),
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
    # A contact who can sign in (grantContactAccess): the invitation sent to
    # their email, and the membership once they are one.
    invitation_id: uuid.UUID | None = Field(
        default=None, foreign_key="invitations.id", ondelete="SET NULL"
    )
    membership_id: uuid.UUID | None = Field(
        default=None, foreign_key="memberships.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The mail server refused this address for good (5xx): not mailed again
    # until the email is changed.
    bouncing: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    bounced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def contact_emails_for_category(
    session: AsyncSession, *, account_id: uuid.UUID, category: EmailCategory
) -> list[str]:
    """Addresses of the account's active contacts opted into `category`
    (not those bouncing)."""
    statement = select(col(Contact.email), col(Contact.categories)).where(
        col(Contact.account_id) == account_id,
        col(Contact.active).is_(True),
        col(Contact.bouncing).is_(False),
    )
    rows = (await session.execute(statement)).all()
    return [email for email, categories in rows if category in (categories or ())]


async def mark_bouncing(session: AsyncSession, addresses: Iterable[str]) -> int:
    """Every contact with one of these addresses (any account, any case) is
    bouncing from now; returns how many were marked."""
    lowered = sorted({a.lower() for a in addresses})
    if not lowered:
        return 0
    result = await session.execute(
        update(Contact)
        .where(func.lower(col(Contact.email)).in_(lowered), col(Contact.bouncing).is_(False))
        .values(bouncing=True, bounced_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ContactFilter:
    active: bool | None = None
    category: EmailCategory | None = None
    search: str | None = None  # in first/last name, company or email


def _contacts(account_id: uuid.UUID, contact_filter: ContactFilter) -> Any:
    statement = select(Contact).where(col(Contact.account_id) == account_id)
    if contact_filter.active is not None:
        statement = statement.where(col(Contact.active).is_(contact_filter.active))
    if contact_filter.category is not None:
        # Stored as sorted comma-separated names: match a whole name.
        stored = type_coerce(col(Contact.categories), String)
        padded = literal(",") + stored + literal(",")
        statement = statement.where(padded.contains(f",{contact_filter.category.value},"))
    if contact_filter.search:
        needle = contact_filter.search.strip().lower()
        statement = statement.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (
                        col(Contact.first_name),
                        col(Contact.last_name),
                        col(Contact.company),
                        col(Contact.email),
                    )
                )
            )
        )
    return statement


CONTACTS_ORDER = SortKey(columns=[col(Contact.last_name), col(Contact.id)])


async def contacts_page(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    page: PageRequest,
    contact_filter: ContactFilter,
) -> Page[Contact]:
    return await fetch_page(
        session,
        _contacts(account_id, contact_filter),
        sort=CONTACTS_ORDER,
        page=page,
        key_of=lambda c: (c.last_name, c.id),
    )


async def count_contacts(
    session: AsyncSession, *, account_id: uuid.UUID, contact_filter: ContactFilter
) -> int:
    subquery = _contacts(account_id, contact_filter).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def contact_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, contact_id: uuid.UUID
) -> Contact | None:
    statement = select(Contact).where(
        col(Contact.account_id) == account_id, col(Contact.id) == contact_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def account_of_contact(session: AsyncSession, contact_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(Contact.account_id)).where(col(Contact.id) == contact_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def contact_with_email(
    session: AsyncSession, *, account_id: uuid.UUID, email: str
) -> Contact | None:
    statement = select(Contact).where(
        col(Contact.account_id) == account_id, func.lower(col(Contact.email)) == email.lower()
    )
    return (await session.execute(statement)).scalars().first()
