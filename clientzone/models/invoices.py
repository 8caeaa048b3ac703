"""Invoices and the document types they are issued as.

Amounts are integer minor units in the invoice's currency, which is always its
account's. DRAFT invoices are never shown to customers; OVERDUE is not stored
but derived: an OPEN invoice past its due date.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    bindparam,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import (
    Page,
    PageRequest,
    SortKey,
    fetch_first_pages,
    fetch_page,
)


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PAID = "PAID"
    VOID = "VOID"
    OVERDUE = "OVERDUE"  # derived, never stored


class DocumentType(SQLModel, table=True):
    """Factura A/B, CFDI de ingreso, nota de crédito...: data, seeded by a migration."""

    __tablename__ = "document_types"

    code: str = Field(sa_type=String(32), primary_key=True)
    name_es: str = Field(sa_type=String(100))
    name_en: str = Field(sa_type=String(100))
    allows_online_payment: bool


class Invoice(SQLModel, table=True):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("account_id", "number"),
        UniqueConstraint("external_id"),
        Index("ix_invoices_account_id_issued_on_id", "account_id", "issued_on", "id"),
        Index("ix_invoices_account_id_due_on_id", "account_id", "due_on", "id"),
        Index("ix_invoices_account_id_total_minor_id", "account_id", "total_minor", "id"),
        # A status filter (OVERDUE, VOID...) in issue-date order: without it a rare
        # status walks every invoice of the account.
        Index(
            "ix_invoices_account_id_status_issued_on_id", "account_id", "status", "issued_on", "id"
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    external_id: str | None = Field(default=None, sa_type=String(100))
    number: str = Field(sa_type=String(40))
    document_type: str = Field(sa_type=String(32), foreign_key="document_types.code")
    issued_on: date = Field(sa_type=Date)
    due_on: date = Field(sa_type=Date)
    currency: str = Field(sa_type=String(3))
    subtotal_minor: int = Field(sa_type=BigInteger)
    tax_minor: int = Field(sa_type=BigInteger)
    total_minor: int = Field(sa_type=BigInteger)
    paid_minor: int = Field(default=0, sa_type=BigInteger)
    status: InvoiceStatus = Field(sa_type=StrEnumType(InvoiceStatus))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def shown_status(self, today: date) -> InvoiceStatus:
        if self.status is InvoiceStatus.OPEN and self.due_on < today:
            return InvoiceStatus.OVERDUE
        return self.status


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    invoice_id: uuid.UUID = Field(foreign_key="invoices.id", ondelete="CASCADE")
    position: int = Field(sa_type=Integer)
    description: str = Field(sa_type=String(300))
    quantity_milli: int = Field(sa_type=BigInteger)  # 1.5 units = 1500
    unit_price_minor: int = Field(sa_type=BigInteger)
    tax_rate_bp: int = Field(sa_type=Integer)  # basis points: 16% = 1600
    subtotal_minor: int = Field(sa_type=BigInteger)
    tax_minor: int = Field(sa_type=BigInteger)
    total_minor: int = Field(sa_type=BigInteger)


class InvoiceOrder(StrEnum):
    ISSUED_ON_DESC = "ISSUED_ON_DESC"
    ISSUED_ON_ASC = "ISSUED_ON_ASC"
    DUE_ON_ASC = "DUE_ON_ASC"
    DUE_ON_DESC = "DUE_ON_DESC"
    TOTAL_DESC = "TOTAL_DESC"
    TOTAL_ASC = "TOTAL_ASC"


_ORDERS = {
    InvoiceOrder.ISSUED_ON_DESC: SortKey([col(Invoice.issued_on), col(Invoice.id)], True),
    InvoiceOrder.ISSUED_ON_ASC: SortKey([col(Invoice.issued_on), col(Invoice.id)]),
    InvoiceOrder.DUE_ON_ASC: SortKey([col(Invoice.due_on), col(Invoice.id)]),
    InvoiceOrder.DUE_ON_DESC: SortKey([col(Invoice.due_on), col(Invoice.id)], True),
    InvoiceOrder.TOTAL_DESC: SortKey([col(Invoice.total_minor), col(Invoice.id)], True),
    InvoiceOrder.TOTAL_ASC: SortKey([col(Invoice.total_minor), col(Invoice.id)]),
}
_KEYS = {
    InvoiceOrder.ISSUED_ON_DESC: lambda i: (i.issued_on, i.id),
    InvoiceOrder.ISSUED_ON_ASC: lambda i: (i.issued_on, i.id),
    InvoiceOrder.DUE_ON_ASC: lambda i: (i.due_on, i.id),
    InvoiceOrder.DUE_ON_DESC: lambda i: (i.due_on, i.id),
    InvoiceOrder.TOTAL_DESC: lambda i: (i.total_minor, i.id),
    InvoiceOrder.TOTAL_ASC: lambda i: (i.total_minor, i.id),
}


@dataclass(frozen=True)
class InvoiceFilter:
    """Every field None: all the invoices a customer sees."""

    status: InvoiceStatus | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    due_from: date | None = None
    due_to: date | None = None
    number: str | None = None
    min_total_minor: int | None = None
    max_total_minor: int | None = None

    @property
    def is_empty(self) -> bool:
        return self == NO_FILTER


NO_FILTER = InvoiceFilter()


def _visible(account_id: uuid.UUID, flt: InvoiceFilter, today: date) -> Any:
    """The account's invoices a customer may see (never DRAFT), filtered.
    Date ranges are inclusive on both ends."""
    statement = select(Invoice).where(
        col(Invoice.account_id) == account_id, col(Invoice.status) != InvoiceStatus.DRAFT
    )
    if flt.status is InvoiceStatus.OVERDUE:
        statement = statement.where(
            col(Invoice.status) == InvoiceStatus.OPEN, col(Invoice.due_on) < today
        )
    elif flt.status is InvoiceStatus.OPEN:
        statement = statement.where(
            col(Invoice.status) == InvoiceStatus.OPEN, col(Invoice.due_on) >= today
        )
    elif flt.status is not None:
        statement = statement.where(col(Invoice.status) == flt.status)
    for column, low, high in (
        (col(Invoice.issued_on), flt.issued_from, flt.issued_to),
        (col(Invoice.due_on), flt.due_from, flt.due_to),
        (col(Invoice.total_minor), flt.min_total_minor, flt.max_total_minor),
    ):
        if low is not None:
            statement = statement.where(column >= low)
        if high is not None:
            statement = statement.where(column <= high)
    if flt.number:
        statement = statement.where(col(Invoice.number) == flt.number.strip())
    return statement


async def invoices_page(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    page: PageRequest,
    invoice_filter: InvoiceFilter,
    order: InvoiceOrder,
    today: date,
) -> Page[Invoice]:
    return await fetch_page(
        session,
        _visible(account_id, invoice_filter, today),
        sort=_ORDERS[order],
        page=page,
        key_of=_KEYS[order],
    )


# Filtered per account by fetch_first_pages.
_OF_ACCOUNTS = select(Invoice).where(col(Invoice.status) != InvoiceStatus.DRAFT)


async def first_invoice_pages(
    session: AsyncSession, *, account_ids: Sequence[uuid.UUID], size: int, today: date
) -> dict[uuid.UUID, Page[Invoice]]:
    """The newest `size` invoices of each account, in one statement (the list
    under each account of a screen that shows several)."""
    return await fetch_first_pages(
        session,
        _OF_ACCOUNTS,
        cache_key="invoices-of-accounts",
        entity=Invoice,
        partition_by=col(Invoice.account_id),
        parent_ids=account_ids,
        parent_of=lambda invoice: invoice.account_id,
        sort=_ORDERS[InvoiceOrder.ISSUED_ON_DESC],
        size=size,
        key_of=_KEYS[InvoiceOrder.ISSUED_ON_DESC],
    )


async def count_invoices(
    session: AsyncSession, *, account_id: uuid.UUID, invoice_filter: InvoiceFilter, today: date
) -> int:
    subquery = _visible(account_id, invoice_filter, today).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def invoice_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, invoice_id: uuid.UUID
) -> Invoice | None:
    statement = select(Invoice).where(
        col(Invoice.account_id) == account_id,
        col(Invoice.id) == invoice_id,
        col(Invoice.status) != InvoiceStatus.DRAFT,
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def account_of_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(Invoice.account_id)).where(
        col(Invoice.id) == invoice_id, col(Invoice.status) != InvoiceStatus.DRAFT
    )
    return (await session.execute(statement)).scalar_one_or_none()


_LINES = (
    select(InvoiceLine)
    .where(col(InvoiceLine.invoice_id).in_(bindparam("invoice_ids", expanding=True)))
    .order_by(col(InvoiceLine.invoice_id), col(InvoiceLine.position))
)


async def lines_of_invoices(
    session: AsyncSession, invoice_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[InvoiceLine]]:
    found: dict[uuid.UUID, list[InvoiceLine]] = {}
    rows = await session.execute(_LINES, {"invoice_ids": list(invoice_ids)})
    for line in rows.scalars():
        found.setdefault(line.invoice_id, []).append(line)
    return found


_DOCUMENT_TYPES = select(DocumentType).where(
    col(DocumentType.code).in_(bindparam("codes", expanding=True))
)


async def document_types(session: AsyncSession, codes: Sequence[str]) -> dict[str, DocumentType]:
    found = await session.execute(_DOCUMENT_TYPES, {"codes": list(codes)})
    return {t.code: t for t in found.scalars()}


async def latest_invoice(session: AsyncSession, *, account_id: uuid.UUID) -> Invoice | None:
    """The most recently issued invoice a customer sees (for the payment rules)."""
    statement = (
        select(Invoice)
        .where(col(Invoice.account_id) == account_id, col(Invoice.status) != InvoiceStatus.DRAFT)
        .order_by(col(Invoice.issued_on).desc(), col(Invoice.id).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


class DocumentKind(StrEnum):
    PDF = "PDF"
    XML = "XML"


class InvoiceDocument(SQLModel, table=True):
    """An electronic document supplied with an invoice (its PDF, a CFDI XML)."""

    __tablename__ = "invoice_documents"
    __table_args__ = (Index("ix_invoice_documents_invoice_id", "invoice_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    invoice_id: uuid.UUID = Field(foreign_key="invoices.id", ondelete="CASCADE")
    kind: DocumentKind = Field(sa_type=StrEnumType(DocumentKind))
    filename: str = Field(sa_type=String(200))
    content_type: str = Field(sa_type=String(100))
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(sa_type=String(64))
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_DOCUMENTS = (
    select(InvoiceDocument)
    .options(defer(InvoiceDocument.content))  # type: ignore[arg-type]
    .where(col(InvoiceDocument.invoice_id).in_(bindparam("invoice_ids", expanding=True)))
    .order_by(col(InvoiceDocument.invoice_id), col(InvoiceDocument.kind))
)


async def documents_of_invoices(
    session: AsyncSession, invoice_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[InvoiceDocument]]:
    """The documents' descriptions (not their content), by invoice."""
    found: dict[uuid.UUID, list[InvoiceDocument]] = {}
    rows = await session.execute(_DOCUMENTS, {"invoice_ids": list(invoice_ids)})
    for document in rows.scalars():
        found.setdefault(document.invoice_id, []).append(document)
    return found


async def document_with_invoice(
    session: AsyncSession, document_id: uuid.UUID
) -> tuple[InvoiceDocument, Invoice] | None:
    statement = (
        select(InvoiceDocument, Invoice)
        .join(Invoice, col(Invoice.id) == col(InvoiceDocument.invoice_id))
        .where(col(InvoiceDocument.id) == document_id, col(Invoice.status) != InvoiceStatus.DRAFT)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1])


async def invoices_by_account_number(
    session: AsyncSession, keys: Sequence[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], Invoice]:
    """Invoices by (account, number): what a ledger movement's reference names."""
    if not keys:
        return {}
    statement = select(Invoice).where(
        col(Invoice.account_id).in_({a for a, _ in keys}),
        col(Invoice.number).in_({n for _, n in keys}),
    )
    wanted = set(keys)
    rows = {(i.account_id, i.number): i for i in (await session.execute(statement)).scalars()}
    return {key: row for key, row in rows.items() if key in wanted}


async def invoices_by_ids(
    session: AsyncSession, invoice_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Invoice]:
    statement = select(Invoice).where(col(Invoice.id).in_(invoice_ids))
    return {i.id: i for i in (await session.execute(statement)).scalars()}
