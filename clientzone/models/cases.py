"""Support cases: requests and claims in categories, with comments and attachments.

Categories and subcategories are data (seeded by a migration). A subcategory
may ask for extra fields (`field_specs`) and for an invoice or an order.
Case numbers come from `case_numbers`, an always-growing counter: a number is
never handed out twice, even after a rollback or a deletion.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_first_pages, fetch_page

NUMBER_PREFIX = "CS-"


class CaseStatus(StrEnum):
    NEW = "NEW"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_ON_CUSTOMER = "WAITING_ON_CUSTOMER"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


# Every allowed move; anything else is refused. CLOSED is final; a RESOLVED
# case can be reopened (back to IN_PROGRESS) until it is closed.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset(
        {
            CaseStatus.IN_PROGRESS,
            CaseStatus.WAITING_ON_CUSTOMER,
            CaseStatus.RESOLVED,
            CaseStatus.CLOSED,
        }
    ),
    CaseStatus.IN_PROGRESS: frozenset(
        {CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.WAITING_ON_CUSTOMER: frozenset(
        {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.RESOLVED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}


def can_move(current: CaseStatus, new: CaseStatus) -> bool:
    return new in TRANSITIONS[current]


class CaseFieldKind(StrEnum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    EMAIL = "EMAIL"  # stored normalized (lower-case)
    PHONE = "PHONE"  # stored in E.164; without `+`, read in the account's country


@dataclass(frozen=True)
class FieldSpec:
    """An extra field a subcategory asks for (stored as JSON on the subcategory)."""

    key: str
    label_es: str
    label_en: str
    kind: CaseFieldKind = CaseFieldKind.TEXT
    required: bool = True
    max_length: int = 200
    minimum: int | None = None
    maximum: int | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> FieldSpec:
        return cls(**{**data, "kind": CaseFieldKind(data.get("kind", "TEXT"))})


class CaseCategory(SQLModel, table=True):
    __tablename__ = "case_categories"

    id: uuid.UUID = Field(primary_key=True)
    code: str = Field(sa_type=String(40), unique=True)
    name_es: str = Field(sa_type=String(120))
    name_en: str = Field(sa_type=String(120))
    position: int = Field(sa_type=Integer)
    active: bool = Field(default=True, sa_type=Boolean)


class CaseSubcategory(SQLModel, table=True):
    __tablename__ = "case_subcategories"
    __table_args__ = (Index("ix_case_subcategories_category_id", "category_id"),)

    id: uuid.UUID = Field(primary_key=True)
    category_id: uuid.UUID = Field(foreign_key="case_categories.id", ondelete="CASCADE")
    code: str = Field(sa_type=String(40), unique=True)
    name_es: str = Field(sa_type=String(120))
    name_en: str = Field(sa_type=String(120))
    position: int = Field(sa_type=Integer)
    requires_invoice: bool = Field(default=False, sa_type=Boolean)
    requires_order: bool = Field(default=False, sa_type=Boolean)
    field_specs: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    active: bool = Field(default=True, sa_type=Boolean)

    @property
    def specs(self) -> list[FieldSpec]:
        return [FieldSpec.of(spec) for spec in self.field_specs]


class CaseNumber(SQLModel, table=True):
    """One row per number handed out; the database's counter never goes back."""

    __tablename__ = "case_numbers"
    __table_args__ = {"sqlite_autoincrement": True}

    number: int | None = Field(default=None, primary_key=True, sa_type=Integer)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_account_id_id", "account_id", "id"),
        Index("ix_cases_account_id_status_id", "account_id", "status", "id"),
        Index("ix_cases_service_id", "service_id"),
        # The staff desk: by status or by assignee, oldest waiting first.
        Index("ix_cases_status_updated_at_id", "status", "updated_at", "id"),
        Index("ix_cases_assignee_id_updated_at_id", "assignee_id", "updated_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    number: int = Field(sa_type=Integer, unique=True)
    category_id: uuid.UUID = Field(foreign_key="case_categories.id")
    subcategory_id: uuid.UUID = Field(foreign_key="case_subcategories.id")
    subject: str = Field(sa_type=String(255))
    description: str = Field(sa_type=Text)
    fields: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    invoice_id: uuid.UUID | None = Field(
        default=None, foreign_key="invoices.id", ondelete="SET NULL"
    )
    order_id: uuid.UUID | None = Field(default=None, foreign_key="orders.id", ondelete="SET NULL")
    # A change asked for on a contracted service (requestServiceChange).
    service_id: uuid.UUID | None = Field(
        default=None, foreign_key="services.id", ondelete="SET NULL", index=False
    )
    status: CaseStatus = Field(default=CaseStatus.NEW, sa_type=StrEnumType(CaseStatus))
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The staff member handling it (the staff desk); None: in the queue.
    assignee_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")

    @property
    def display_number(self) -> str:
        return f"{NUMBER_PREFIX}{self.number:06d}"


class AuthorKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    STAFF = "STAFF"
    SYSTEM = "SYSTEM"


class CaseComment(SQLModel, table=True):
    __tablename__ = "case_comments"
    __table_args__ = (Index("ix_case_comments_case_id_id", "case_id", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    author_kind: AuthorKind = Field(sa_type=StrEnumType(AuthorKind))
    author_user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    author_name: str = Field(sa_type=String(200))
    body: str = Field(sa_type=Text)
    # Staff notes to each other: never shown to customers, by any path.
    internal: bool = Field(default=False, sa_type=Boolean)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseAttachment(SQLModel, table=True):
    __tablename__ = "case_attachments"
    __table_args__ = (Index("ix_case_attachments_case_id_id", "case_id", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", ondelete="CASCADE")
    filename: str = Field(sa_type=String(200))
    content_type: str = Field(sa_type=String(100))
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(sa_type=String(64))
    uploaded_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    author_kind: AuthorKind = Field(default=AuthorKind.CUSTOMER, sa_type=StrEnumType(AuthorKind))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseFileContent(SQLModel, table=True):
    """An attachment's bytes, once per content (by SHA-256), when they are kept in
    the database (no CASE_ATTACHMENTS_DIR). Lists never read this table."""

    __tablename__ = "case_file_contents"

    sha256: str = Field(sa_type=String(64), primary_key=True)
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def file_content(session: AsyncSession, sha256: str) -> bytes | None:
    row = await session.get(CaseFileContent, sha256)
    return None if row is None else row.content


async def store_file_content(session: AsyncSession, sha256: str, content: bytes) -> None:
    """Keep the bytes once; the same file uploaded twice at once is not an error."""
    if await session.get(CaseFileContent, sha256) is not None:
        return
    try:
        async with session.begin_nested():
            session.add(CaseFileContent(sha256=sha256, content=content))
    except IntegrityError:
        pass


# --- categories -----------------------------------------------------------


async def categories(session: AsyncSession) -> list[CaseCategory]:
    statement = (
        select(CaseCategory)
        .where(col(CaseCategory.active))
        .order_by(col(CaseCategory.position), col(CaseCategory.code))
    )
    return list((await session.execute(statement)).scalars())


async def subcategories(session: AsyncSession) -> list[CaseSubcategory]:
    statement = (
        select(CaseSubcategory)
        .where(col(CaseSubcategory.active))
        .order_by(col(CaseSubcategory.position), col(CaseSubcategory.code))
    )
    return list((await session.execute(statement)).scalars())


async def categories_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CaseCategory]:
    statement = select(CaseCategory).where(col(CaseCategory.id).in_(ids))
    return {c.id: c for c in (await session.execute(statement)).scalars()}


async def subcategories_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CaseSubcategory]:
    statement = select(CaseSubcategory).where(col(CaseSubcategory.id).in_(ids))
    return {c.id: c for c in (await session.execute(statement)).scalars()}


# --- cases ----------------------------------------------------------------


async def next_case_number(session: AsyncSession) -> int:
    statement = insert(CaseNumber).values(created_at=utcnow()).returning(col(CaseNumber.number))
    number = (await session.execute(statement)).scalar_one()
    assert number is not None
    return number


def parse_number(text: str) -> int | None:
    """`CS-000123`, `cs-123`, `000123` or `123` -> 123; None when it is not a number."""
    cleaned = text.strip().upper().removeprefix(NUMBER_PREFIX)
    digits = cleaned.isascii() and cleaned.isdigit()
    return int(cleaned) if digits and len(cleaned) <= 9 else None


@dataclass(frozen=True)
class CaseFilter:
    number: int | None = None
    number_given: bool = False  # a number that is not one matches nothing
    category_id: uuid.UUID | None = None
    subcategory_id: uuid.UUID | None = None
    status: CaseStatus | None = None
    created_from: date | None = None
    created_to: date | None = None
    search: str | None = None  # in the subject or the description


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=utcnow().tzinfo)


def _cases(account_id: uuid.UUID, flt: CaseFilter) -> Any:
    statement = select(Case).where(col(Case.account_id) == account_id)
    if flt.number_given:
        statement = statement.where(col(Case.number) == (flt.number or -1))
    if flt.category_id is not None:
        statement = statement.where(col(Case.category_id) == flt.category_id)
    if flt.subcategory_id is not None:
        statement = statement.where(col(Case.subcategory_id) == flt.subcategory_id)
    if flt.status is not None:
        statement = statement.where(col(Case.status) == flt.status)
    if flt.created_from is not None:
        statement = statement.where(col(Case.created_at) >= _start_of(flt.created_from))
    if flt.created_to is not None and flt.created_to < date.max:
        statement = statement.where(
            col(Case.created_at) < _start_of(flt.created_to + timedelta(days=1))
        )
    if flt.search:
        needle = flt.search.lower()
        statement = statement.where(
            or_(
                func.lower(col(Case.subject)).contains(needle, autoescape=True),
                func.lower(col(Case.description)).contains(needle, autoescape=True),
            )
        )
    return statement


# Newest first: ids are time-ordered.
CASES_ORDER = SortKey(columns=[col(Case.id)], descending=True)


async def cases_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest, case_filter: CaseFilter
) -> Page[Case]:
    return await fetch_page(
        session,
        _cases(account_id, case_filter),
        sort=CASES_ORDER,
        page=page,
        key_of=lambda c: (c.id,),
    )


async def count_cases(
    session: AsyncSession, *, account_id: uuid.UUID, case_filter: CaseFilter
) -> int:
    subquery = _cases(account_id, case_filter).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def account_of_case(session: AsyncSession, case_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(Case.account_id)).where(col(Case.id) == case_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def case_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, case_id: uuid.UUID
) -> Case | None:
    statement = select(Case).where(col(Case.account_id) == account_id, col(Case.id) == case_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def lock_case(
    session: AsyncSession, *, case_id: uuid.UUID, account_id: uuid.UUID | None = None
) -> Case | None:
    """The case, locked for this transaction: a no-op write first, so that SQLite
    (which has no row locks) also makes concurrent changes of it wait."""
    touch = update(Case).where(col(Case.id) == case_id).values(updated_at=Case.updated_at)
    if account_id is not None:
        touch = touch.where(col(Case.account_id) == account_id)
    await session.execute(touch)
    statement = select(Case).where(col(Case.id) == case_id).with_for_update()
    if account_id is not None:
        statement = statement.where(col(Case.account_id) == account_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def case_by_number(session: AsyncSession, number: int) -> Case | None:
    statement = select(Case).where(col(Case.number) == number)
    return (await session.execute(statement)).scalar_one_or_none()


# --- comments and attachments ---------------------------------------------

COMMENTS_ORDER = SortKey(columns=[col(CaseComment.id)])  # oldest first, like a conversation
ATTACHMENTS_ORDER = SortKey(columns=[col(CaseAttachment.id)])


def _comments(case_ids: Sequence[uuid.UUID] | None, *, include_internal: bool) -> Any:
    """Comments of `case_ids`; of any case for fetch_first_pages, which filters per case."""
    statement = select(CaseComment)
    if case_ids is not None:
        statement = statement.where(col(CaseComment.case_id).in_(case_ids))
    if not include_internal:
        statement = statement.where(col(CaseComment.internal).is_(False))
    return statement


async def comments_page(
    session: AsyncSession, *, case_id: uuid.UUID, page: PageRequest, include_internal: bool
) -> Page[CaseComment]:
    return await fetch_page(
        session,
        _comments([case_id], include_internal=include_internal),
        sort=COMMENTS_ORDER,
        page=page,
        key_of=lambda c: (c.id,),
    )


async def comments_first_pages(
    session: AsyncSession, *, case_ids: Sequence[uuid.UUID], size: int, include_internal: bool
) -> dict[uuid.UUID, Page[CaseComment]]:
    return await fetch_first_pages(
        session,
        _comments(None, include_internal=include_internal),
        cache_key=("comments", include_internal),
        entity=CaseComment,
        partition_by=col(CaseComment.case_id),
        parent_ids=case_ids,
        parent_of=lambda c: c.case_id,
        sort=COMMENTS_ORDER,
        size=size,
        key_of=lambda c: (c.id,),
    )


async def count_comments(
    session: AsyncSession, case_ids: Sequence[uuid.UUID], *, include_internal: bool
) -> dict[uuid.UUID, int]:
    statement = select(col(CaseComment.case_id), func.count()).where(
        col(CaseComment.case_id).in_(case_ids)
    )
    if not include_internal:
        statement = statement.where(col(CaseComment.internal).is_(False))
    rows = await session.execute(statement.group_by(col(CaseComment.case_id)))
    return {case_id: int(n) for case_id, n in rows.all()}


async def comment_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, comment_id: uuid.UUID, include_internal: bool
) -> CaseComment | None:
    statement = (
        select(CaseComment)
        .join(Case, col(Case.id) == col(CaseComment.case_id))
        .where(col(Case.account_id) == account_id, col(CaseComment.id) == comment_id)
    )
    if not include_internal:
        statement = statement.where(col(CaseComment.internal).is_(False))
    return (await session.execute(statement)).scalar_one_or_none()


async def account_of_comment(session: AsyncSession, comment_id: uuid.UUID) -> uuid.UUID | None:
    statement = (
        select(col(Case.account_id))
        .join(CaseComment, col(Case.id) == col(CaseComment.case_id))
        .where(col(CaseComment.id) == comment_id, col(CaseComment.internal).is_(False))
    )
    return (await session.execute(statement)).scalar_one_or_none()


def _attachments(case_ids: Sequence[uuid.UUID] | None) -> Any:
    """Attachments of `case_ids`; of any case for fetch_first_pages (see _comments)."""
    statement = select(CaseAttachment)
    if case_ids is not None:
        statement = statement.where(col(CaseAttachment.case_id).in_(case_ids))
    return statement


async def attachments_page(
    session: AsyncSession, *, case_id: uuid.UUID, page: PageRequest
) -> Page[CaseAttachment]:
    return await fetch_page(
        session,
        _attachments([case_id]),
        sort=ATTACHMENTS_ORDER,
        page=page,
        key_of=lambda a: (a.id,),
    )


async def attachments_first_pages(
    session: AsyncSession, *, case_ids: Sequence[uuid.UUID], size: int
) -> dict[uuid.UUID, Page[CaseAttachment]]:
    return await fetch_first_pages(
        session,
        _attachments(None),
        cache_key="attachments",
        entity=CaseAttachment,
        partition_by=col(CaseAttachment.case_id),
        parent_ids=case_ids,
        parent_of=lambda a: a.case_id,
        sort=ATTACHMENTS_ORDER,
        size=size,
        key_of=lambda a: (a.id,),
    )


async def count_attachments(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    statement = (
        select(col(CaseAttachment.case_id), func.count())
        .where(col(CaseAttachment.case_id).in_(case_ids))
        .group_by(col(CaseAttachment.case_id))
    )
    return {case_id: int(n) for case_id, n in (await session.execute(statement)).all()}


async def attachment_bytes_of_case(session: AsyncSession, case_id: uuid.UUID) -> int:
    statement = select(func.coalesce(func.sum(col(CaseAttachment.size)), 0)).where(
        col(CaseAttachment.case_id) == case_id
    )
    return int((await session.execute(statement)).scalar_one())


async def attachment_with_case(
    session: AsyncSession, attachment_id: uuid.UUID
) -> tuple[CaseAttachment, Case] | None:
    statement = (
        select(CaseAttachment, Case)
        .join(Case, col(Case.id) == col(CaseAttachment.case_id))
        .where(col(CaseAttachment.id) == attachment_id)
    )
    found = (await session.execute(statement)).first()
    return None if found is None else (found[0], found[1])


async def attachment_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, attachment_id: uuid.UUID
) -> CaseAttachment | None:
    found = await attachment_with_case(session, attachment_id)
    if found is None or found[1].account_id != account_id:
        return None
    return found[0]


async def account_of_attachment(
    session: AsyncSession, attachment_id: uuid.UUID
) -> uuid.UUID | None:
    found = await attachment_with_case(session, attachment_id)
    return None if found is None else found[1].account_id


# Requests on a contracted service (resolvers/service_changes.py), in the
# order a service shows them: a change of plan before new credentials.
SERVICE_REQUEST_SUBCATEGORIES = ("SERVICE_CHANGE", "SERVICE_CREDENTIALS")
OPEN_CASE_STATUSES = (CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.WAITING_ON_CUSTOMER)


async def open_service_requests(
    session: AsyncSession, service_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Case]:
    """Each service's open request: a change first, else new credentials; the newest."""
    statement = (
        select(Case, col(CaseSubcategory.code))
        .join(CaseSubcategory, col(CaseSubcategory.id) == col(Case.subcategory_id))
        .where(
            col(Case.service_id).in_(service_ids),
            col(Case.status).in_(OPEN_CASE_STATUSES),
            col(CaseSubcategory.code).in_(SERVICE_REQUEST_SUBCATEGORIES),
        )
    )
    rows = (await session.execute(statement)).all()
    ranked = sorted(
        rows,
        key=lambda r: (SERVICE_REQUEST_SUBCATEGORIES.index(r[1]), -r[0].created_at.timestamp()),
    )
    found: dict[uuid.UUID, Case] = {}
    for case, _ in ranked:
        assert case.service_id is not None
        found.setdefault(case.service_id, case)
    return found
