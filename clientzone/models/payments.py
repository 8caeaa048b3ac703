"""Payments: online ones through a provider, and offline transfers reported by
the customer for staff to confirm. Only a confirmed payment reaches the ledger.

A PENDING online payment reserves what it pays for PAYMENT_RESERVATION_MINUTES:
its invoices cannot be put in a second checkout and its amount is taken off
what a new one may pay (resolvers/payments.py holds the account's lock while it
checks and creates). An approval that finds less owed than it pays posts only
what is owed; the rest is `refund_due_minor`, unless the customer paid in
advance (`in_advance`), whose whole amount is a credit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.invoices import Invoice, InvoiceStatus
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page


class PaymentKind(StrEnum):
    ONLINE = "ONLINE"
    TRANSFER_REPORT = "TRANSFER_REPORT"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"  # sent to the provider, no answer yet
    SUCCEEDED = "SUCCEEDED"  # posted to the ledger
    FAILED = "FAILED"
    REPORTED = "REPORTED"  # an offline transfer waiting for staff
    REFUNDED = "REFUNDED"  # given back (refund or chargeback): reversed on the ledger
    EXPIRED = "EXPIRED"  # never completed at the provider within PAYMENT_EXPIRY_MINUTES


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_account_id_id", "account_id", "id"),
        Index("ix_payments_provider_ref", "provider", "provider_ref"),
        # The billing desk's queue of reported transfers, oldest first.
        Index("ix_payments_status_id", "status", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    kind: PaymentKind = Field(sa_type=StrEnumType(PaymentKind))
    provider: str | None = Field(default=None, sa_type=String(32))
    status: PaymentStatus = Field(sa_type=StrEnumType(PaymentStatus))
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(sa_type=String(3))
    invoice_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    reference: str | None = Field(default=None, sa_type=String(100))
    paid_on: date | None = Field(default=None, sa_type=Date)
    receipt_filename: str | None = Field(default=None, sa_type=String(200))
    receipt_content_type: str | None = Field(default=None, sa_type=String(100))
    receipt: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The customer asked to pay in advance: the whole amount may become a credit.
    in_advance: bool = Field(
        default=False, sa_type=Boolean, sa_column_kwargs={"server_default": false()}
    )
    # Approved but more than was owed (and not in advance): to be given back.
    refund_due_minor: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": text("0")}
    )
    # The provider's id of the payment (what a refund or a reconciliation names).
    provider_ref: str | None = Field(default=None, sa_type=String(100))
    # What a settled payment paid of each invoice (hex id: minor units), so that
    # a refund reopens exactly those.
    allocations: dict[str, int] | None = Field(default=None, sa_type=JSON)
    # What refunds (partial or whole) have given back of what reached the
    # ledger; the payment is REFUNDED once it is all of it.
    refunded_minor: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": text("0")}
    )


class PaymentEvent(SQLModel, table=True):
    """Provider events already handled: the same event twice is handled once."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    provider: str = Field(sa_type=String(32))
    event_id: str = Field(sa_type=String(100))
    payment_id: uuid.UUID | None = Field(
        default=None, foreign_key="payments.id", ondelete="SET NULL"
    )
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def event_seen(session: AsyncSession, *, provider: str, event_id: str) -> bool:
    statement = select(col(PaymentEvent.id)).where(
        col(PaymentEvent.provider) == provider, col(PaymentEvent.event_id) == event_id
    )
    return (await session.execute(statement)).first() is not None


async def payment_for_update(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    statement = (
        select(Payment)
        .options(defer(Payment.receipt))  # type: ignore[arg-type]
        .where(col(Payment.id) == payment_id)
        .with_for_update()
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def invoices_to_pay(
    session: AsyncSession, *, account_id: uuid.UUID, invoice_ids: Sequence[uuid.UUID]
) -> list[Invoice]:
    """The account's invoices among `invoice_ids` (drafts are as if absent)."""
    statement = select(Invoice).where(
        col(Invoice.account_id) == account_id,
        col(Invoice.id).in_(invoice_ids),
        col(Invoice.status) != InvoiceStatus.DRAFT,
    )
    return list((await session.execute(statement)).scalars())


async def open_invoices_oldest_first(
    session: AsyncSession, *, account_id: uuid.UUID
) -> list[Invoice]:
    statement = (
        select(Invoice)
        .where(col(Invoice.account_id) == account_id, col(Invoice.status) == InvoiceStatus.OPEN)
        .order_by(col(Invoice.due_on), col(Invoice.issued_on), col(Invoice.id))
        .with_for_update()
    )
    return list((await session.execute(statement)).scalars())


async def invoices_for_update(
    session: AsyncSession, invoice_ids: Sequence[uuid.UUID]
) -> list[Invoice]:
    if not invoice_ids:
        return []
    statement = select(Invoice).where(col(Invoice.id).in_(invoice_ids)).with_for_update()
    return list((await session.execute(statement)).scalars())


@dataclass(frozen=True)
class Reservation:
    """What the account's payments in progress already pay."""

    amount_minor: int
    invoice_ids: frozenset[str]


async def reservations(
    session: AsyncSession, *, account_id: uuid.UUID, window: timedelta
) -> Reservation:
    """The PENDING online payments started within `window` (older ones were
    abandoned at the provider's page; an approval still checks what is owed)."""
    statement = select(col(Payment.amount_minor), col(Payment.invoice_ids)).where(
        col(Payment.account_id) == account_id,
        col(Payment.kind) == PaymentKind.ONLINE,
        col(Payment.status) == PaymentStatus.PENDING,
        col(Payment.created_at) > utcnow() - window,
    )
    rows = (await session.execute(statement)).all()
    return Reservation(
        amount_minor=sum(int(amount) for amount, _ in rows),
        invoice_ids=frozenset(i for _, ids in rows for i in ids or ()),
    )


def _payments(account_id: uuid.UUID) -> Any:
    return (
        select(Payment)
        .options(defer(Payment.receipt))  # type: ignore[arg-type]
        .where(col(Payment.account_id) == account_id)
    )


PAYMENTS_ORDER = SortKey(columns=[col(Payment.id)], descending=True)


async def payments_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest
) -> Page[Payment]:
    return await fetch_page(
        session, _payments(account_id), sort=PAYMENTS_ORDER, page=page, key_of=lambda p: (p.id,)
    )


async def count_payments(session: AsyncSession, *, account_id: uuid.UUID) -> int:
    statement = select(func.count()).where(col(Payment.account_id) == account_id)
    return int((await session.execute(statement)).scalar_one())


def _reported_transfers() -> Any:
    return (
        select(Payment)
        .options(defer(Payment.receipt))  # type: ignore[arg-type]
        .where(
            col(Payment.status) == PaymentStatus.REPORTED,
            col(Payment.kind) == PaymentKind.TRANSFER_REPORT,
        )
    )


QUEUE_ORDER = SortKey(columns=[col(Payment.id)], descending=False)


async def reported_transfers_page(session: AsyncSession, *, page: PageRequest) -> Page[Payment]:
    """Transfers of every account waiting for staff, oldest first."""
    return await fetch_page(
        session, _reported_transfers(), sort=QUEUE_ORDER, page=page, key_of=lambda p: (p.id,)
    )


async def count_reported_transfers(session: AsyncSession) -> int:
    statement = select(func.count()).select_from(_reported_transfers().subquery())
    return int((await session.execute(statement)).scalar_one())


async def account_of_payment(session: AsyncSession, payment_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(Payment.account_id)).where(col(Payment.id) == payment_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def payment_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, payment_id: uuid.UUID
) -> Payment | None:
    statement = _payments(account_id).where(col(Payment.id) == payment_id)
    return (await session.execute(statement)).scalar_one_or_none()
