"""News and announcements staff publish to the customer portal.

An announcement has Spanish text (English optional, falling back to Spanish),
stored both as the Markdown staff wrote and as the sanitized HTML it renders
to, an audience (every account, the accounts of a country or of a currency,
or an explicit list in `announcement_accounts`) and a window: visible from
`visible_from` until `visible_until` (open-ended when null) unless withdrawn.
Each user marks what they read in `announcement_reads` (one row per user and
announcement), so two people of one account keep their own unread lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import Field, SQLModel, col

from clientzone.models.accounts import Account
from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.contacts import EmailCategory
from clientzone.models.memberships import reachable_account_ids
from clientzone.models.orders import Service, ServiceStatus
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page


class AudienceKind(StrEnum):
    ALL = "ALL"
    COUNTRY = "COUNTRY"
    CURRENCY = "CURRENCY"
    SERVICE_KIND = "SERVICE_KIND"
    ACCOUNTS = "ACCOUNTS"


class Announcement(SQLModel, table=True):
    __tablename__ = "announcements"
    __table_args__ = (
        # "Visible now", newest first: the page walks this index backwards and
        # skips withdrawn or expired rows (few next to the live ones).
        Index("ix_announcements_visible_from_id", "visible_from", "id"),
        # The scheduler's look for announcements whose email is still due.
        Index("ix_announcements_email_pending", "email_category", "email_done_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title_es: str = Field(sa_type=String(200))
    title_en: str | None = Field(default=None, sa_type=String(200))
    body_es: str = Field(sa_type=Text)
    body_en: str | None = Field(default=None, sa_type=Text)
    html_es: str = Field(sa_type=Text)
    html_en: str | None = Field(default=None, sa_type=Text)
    audience: AudienceKind = Field(sa_type=StrEnumType(AudienceKind))
    # The country (ISO 3166-1 alpha-2), currency (ISO 4217) or service kind
    # of the audience.
    audience_value: str | None = Field(default=None, sa_type=String(20))
    visible_from: datetime = Field(sa_type=UTCDateTime)
    visible_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_category: EmailCategory | None = Field(default=None, sa_type=StrEnumType(EmailCategory))
    # When the scheduler finished queueing its emails (null: due or none).
    email_done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnnouncementAccount(SQLModel, table=True):
    """One account of an announcement's explicit list."""

    __tablename__ = "announcement_accounts"
    __table_args__ = (Index("ix_announcement_accounts_account_id", "account_id"),)

    announcement_id: uuid.UUID = Field(
        foreign_key="announcements.id", ondelete="CASCADE", primary_key=True
    )
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE", primary_key=True)


class AnnouncementRead(SQLModel, table=True):
    __tablename__ = "announcement_reads"
    __table_args__ = (UniqueConstraint("user_id", "announcement_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    announcement_id: uuid.UUID = Field(foreign_key="announcements.id", ondelete="CASCADE")
    read_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


SORT = SortKey(columns=[col(Announcement.visible_from), col(Announcement.id)], descending=True)


def _key(row: Any) -> tuple[Any, ...]:
    announcement = row[0]
    return (announcement.visible_from, announcement.id)


def _visible_now() -> ColumnElement[bool]:
    now = bindparam("now", type_=UTCDateTime())
    return and_(
        col(Announcement.withdrawn_at).is_(None),
        col(Announcement.visible_from) <= now,
        or_(col(Announcement.visible_until).is_(None), col(Announcement.visible_until) > now),
    )


def _with_active_service(kind: Any) -> ColumnElement[bool]:
    """The account in the query has an ACTIVE service of `kind`."""
    return (
        exists()
        .where(
            col(Service.account_id) == col(Account.id),
            col(Service.kind) == kind,
            col(Service.status) == ServiceStatus.ACTIVE,
        )
        # Both come from the enclosing queries, two levels up for the announcement.
        .correlate(Account, Announcement)
    )


def _by_address() -> ColumnElement[bool]:
    """A COUNTRY, CURRENCY or SERVICE_KIND announcement meant for the account
    in the query."""
    return or_(
        and_(
            col(Announcement.audience) == AudienceKind.SERVICE_KIND,
            _with_active_service(col(Announcement.audience_value)),
        ),
        and_(
            col(Announcement.audience) == AudienceKind.COUNTRY,
            col(Account.country) == col(Announcement.audience_value),
        ),
        and_(
            col(Announcement.audience) == AudienceKind.CURRENCY,
            col(Account.currency) == col(Announcement.audience_value),
        ),
    )


def _for_accounts(account_ids: Any) -> ColumnElement[bool]:
    """Announcements meant for any of `account_ids` (a subquery or a list param)."""
    by_address = exists().where(col(Account.id).in_(account_ids), _by_address())
    listed = exists().where(
        col(AnnouncementAccount.announcement_id) == col(Announcement.id),
        col(AnnouncementAccount.account_id).in_(account_ids),
    )
    return or_(col(Announcement.audience) == AudienceKind.ALL, by_address, listed)


def _read_at() -> Any:
    """The `reader_id` parameter's read time of the row's announcement."""
    reader = bindparam("reader_id", type_=AnnouncementRead.user_id.type)  # type: ignore[attr-defined]
    return (
        select(col(AnnouncementRead.read_at))
        .where(
            col(AnnouncementRead.announcement_id) == col(Announcement.id),
            col(AnnouncementRead.user_id) == reader,
        )
        .scalar_subquery()
    )


def _statement(account_ids: Any, unread_only: bool) -> Any:
    read_at = _read_at()
    statement = select(Announcement, read_at.label("read_at")).where(
        _visible_now(), _for_accounts(account_ids)
    )
    if unread_only:
        statement = statement.where(read_at.is_(None))
    return statement


def _meant_for_account() -> ColumnElement[bool]:
    """The announcement (of the outer row) is meant for the joined account."""
    listed = exists().where(
        col(AnnouncementAccount.announcement_id) == col(Announcement.id),
        col(AnnouncementAccount.account_id) == col(Account.id),
    )
    return or_(
        col(Announcement.audience) == AudienceKind.ALL,
        _by_address(),
        and_(col(Announcement.audience) == AudienceKind.ACCOUNTS, listed),
    )


@cache
def _first_pages_statement(unread_only: bool) -> Any:
    """The first page of every `account_ids` account at once (ROW_NUMBER per
    account), so a list of accounts showing their news costs one statement."""
    read_at = _read_at()
    position = func.row_number().over(
        partition_by=col(Account.id),
        order_by=[col(Announcement.visible_from).desc(), col(Announcement.id).desc()],
    )
    accounts = bindparam("account_ids", type_=Account.id.type, expanding=True)  # type: ignore[attr-defined]
    inner = (
        select(
            Announcement,
            read_at.label("read_at"),
            col(Account.id).label("for_account"),
            position.label("page_position"),
        )
        .join(Account, _meant_for_account())
        .where(col(Account.id).in_(accounts), _visible_now())
    )
    if unread_only:
        inner = inner.where(read_at.is_(None))
    numbered = inner.subquery("numbered")
    row = aliased(Announcement, numbered)
    limit = bindparam("page_limit", type_=Integer())
    return select(row, numbered.c.read_at, numbered.c.for_account, numbered.c.page_position).where(
        numbered.c.page_position <= limit
    )


async def first_pages(
    session: AsyncSession,
    *,
    account_ids: list[uuid.UUID],
    reader_id: uuid.UUID,
    unread_only: bool,
    now: datetime,
    size: int,
) -> dict[uuid.UUID, Page[Any]]:
    """Each account's first page (as visible_page's), in one statement."""
    params = {
        "account_ids": account_ids,
        "reader_id": reader_id,
        "now": now,
        "page_limit": size + 1,
    }
    found = (await session.execute(_first_pages_statement(unread_only), params)).all()
    grouped: dict[uuid.UUID, list[tuple[int, Any]]] = {}
    for announcement, read_at, account_id, position in found:
        grouped.setdefault(account_id, []).append((position, (announcement, read_at)))
    pages: dict[uuid.UUID, Page[Any]] = {}
    for account_id, items in grouped.items():
        rows = [item for _, item in sorted(items, key=lambda pair: pair[0])]
        pages[account_id] = Page(
            rows[:size],
            [_key(r) for r in rows[:size]],
            has_next_page=len(rows) > size,
            has_previous_page=False,
        )
    return pages


def _viewer_accounts() -> Any:
    return reachable_account_ids()


@dataclass(frozen=True)
class Scope:
    """Whose announcements: those of every account `user_id` reaches, or of
    `account_id` alone; `reader_id`'s read marks come with them."""

    reader_id: uuid.UUID
    unread_only: bool
    now: datetime
    user_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None

    def statement(self) -> Any:
        if self.account_id is not None:
            accounts = bindparam("account_ids", type_=Account.id.type, expanding=True)  # type: ignore[attr-defined]
        else:
            accounts = _viewer_accounts()
        return _statement(accounts, self.unread_only)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"reader_id": self.reader_id, "now": self.now}
        if self.account_id is not None:
            params["account_ids"] = [self.account_id]
        else:
            params["user_id"] = self.user_id
        return params


async def visible_page(session: AsyncSession, scope: Scope, page: PageRequest) -> Page[Any]:
    """Visible now, newest first; rows of (announcement, read_at)."""
    return await fetch_page(
        session,
        scope.statement(),
        sort=SORT,
        page=page,
        key_of=_key,
        scalars=False,
        params=scope.params(),
        cache_key=("announcements", scope.account_id is None, scope.unread_only),
    )


async def count_visible(session: AsyncSession, scope: Scope) -> int:
    statement = select(func.count()).select_from(scope.statement().subquery())
    return int((await session.execute(statement, scope.params())).scalar_one())


async def visible_to_user(
    session: AsyncSession, *, announcement_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> Announcement | None:
    """The announcement when it is visible now for an account the user reaches."""
    statement = (
        select(Announcement)
        .where(col(Announcement.id) == announcement_id, _visible_now())
        .where(_for_accounts(_viewer_accounts()))
    )
    params = {"user_id": user_id, "now": now}
    return (await session.execute(statement, params)).scalar_one_or_none()


async def mark_read(
    session: AsyncSession, *, announcement_id: uuid.UUID, user_id: uuid.UUID
) -> datetime:
    """Record the read once (a second mark keeps the first time); returns it."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(AnnouncementRead)
        .values(id=new_id(), user_id=user_id, announcement_id=announcement_id, read_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "announcement_id"])
    )
    await session.execute(statement)
    found = select(col(AnnouncementRead.read_at)).where(
        col(AnnouncementRead.user_id) == user_id,
        col(AnnouncementRead.announcement_id) == announcement_id,
    )
    read_at: datetime = (await session.execute(found)).scalar_one()
    return read_at


# Staff's list: every announcement, newest first, with no audience filter.
STAFF_SORT = SortKey(columns=[col(Announcement.created_at), col(Announcement.id)], descending=True)


async def all_announcements_page(session: AsyncSession, *, page: PageRequest) -> Page[Announcement]:
    return await fetch_page(
        session,
        select(Announcement),
        sort=STAFF_SORT,
        page=page,
        key_of=lambda a: (a.created_at, a.id),
        cache_key="announcements-staff",
    )


async def count_announcements(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Announcement))).scalar_one())


async def listed_accounts(
    session: AsyncSession, *, announcement_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The customer numbers of each list audience, for staff (one statement)."""
    statement = (
        select(col(AnnouncementAccount.announcement_id), col(Account.number))
        .join(Account, col(Account.id) == col(AnnouncementAccount.account_id))
        .where(col(AnnouncementAccount.announcement_id).in_(list(announcement_ids)))
        .order_by(col(Account.number))
    )
    found: dict[uuid.UUID, list[str]] = {i: [] for i in announcement_ids}
    for announcement_id, number in (await session.execute(statement)).all():
        found[announcement_id].append(number)
    return found


async def account_ids_by_numbers(
    session: AsyncSession, numbers: Sequence[str]
) -> dict[str, uuid.UUID]:
    statement = select(col(Account.number), col(Account.id)).where(
        col(Account.number).in_(list(numbers))
    )
    return dict((await session.execute(statement)).all())


async def withdraw(session: AsyncSession, announcement_id: uuid.UUID) -> None:
    await session.execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement_id)
        .values(withdrawn_at=utcnow())
    )


def audience_accounts(announcement: Announcement) -> Any:
    """The ids of the accounts an announcement targets, in id order (a select)."""
    statement = select(col(Account.id)).order_by(col(Account.id))
    value = announcement.audience_value
    if announcement.audience is AudienceKind.COUNTRY:
        statement = statement.where(col(Account.country) == value)
    elif announcement.audience is AudienceKind.CURRENCY:
        statement = statement.where(col(Account.currency) == value)
    elif announcement.audience is AudienceKind.SERVICE_KIND:
        statement = statement.where(_with_active_service(value))
    elif announcement.audience is AudienceKind.ACCOUNTS:
        statement = statement.where(
            col(Account.id).in_(
                select(col(AnnouncementAccount.account_id)).where(
                    col(AnnouncementAccount.announcement_id) == announcement.id
                )
            )
        )
    return statement


async def emails_due(session: AsyncSession, now: datetime) -> list[Announcement]:
    """Announcements visible now whose email has not been fully queued."""
    statement = (
        select(Announcement)
        .where(
            col(Announcement.email_category).is_not(None),
            col(Announcement.email_done_at).is_(None),
            _visible_now(),
        )
        .order_by(col(Announcement.id))
    )
    return list((await session.execute(statement, {"now": now})).scalars())


async def mark_email_done(session: AsyncSession, announcement_id: uuid.UUID) -> None:
    await session.execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement_id)
        .values(email_done_at=utcnow())
    )
