"""Purchase history (orders) and contracted products and services."""

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
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class OrderOrigin(StrEnum):
    IMPORT = "IMPORT"  # from the billing system
    PORTAL = "PORTAL"  # placed in the customer area (createOrder)


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "number"),
        UniqueConstraint("external_id"),
        Index("ix_orders_account_id_ordered_on_id", "account_id", "ordered_on", "id"),
        Index("ix_orders_account_id_customer_reference", "account_id", "customer_reference"),
        Index("ix_orders_ordered_on", "ordered_on"),
        Index("ix_orders_status_changed_at", "status_changed_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    external_id: str | None = Field(default=None, sa_type=String(100))
    number: str = Field(sa_type=String(40))
    customer_reference: str | None = Field(default=None, sa_type=String(80))
    ordered_on: date = Field(sa_type=Date)
    status: OrderStatus = Field(sa_type=StrEnumType(OrderStatus))
    currency: str = Field(sa_type=String(3))
    total_minor: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When an import last changed its status (None: as first imported); the
    # status mail looks for changes inside its cut-off.
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Orders placed in the portal carry who placed them and their notes; the
    # billing system takes them from there (docs/ordering.md).
    origin: OrderOrigin = Field(
        default=OrderOrigin.IMPORT,
        sa_type=StrEnumType(OrderOrigin),
        sa_column_kwargs={"server_default": OrderOrigin.IMPORT.value},
    )
    notes: str | None = Field(default=None, sa_type=Text)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_id: uuid.UUID = Field(foreign_key="orders.id", ondelete="CASCADE")
    position: int = Field(sa_type=Integer)
    sku: str | None = Field(default=None, sa_type=String(60))
    description: str = Field(sa_type=String(300))
    quantity_milli: int = Field(sa_type=BigInteger)
    unit_price_minor: int = Field(sa_type=BigInteger)
    total_minor: int = Field(sa_type=BigInteger)


@dataclass(frozen=True)
class OrderFilter:
    search: str | None = None  # the order number or the customer's reference
    ordered_from: date | None = None
    ordered_to: date | None = None
    status: OrderStatus | None = None


def _orders(account_id: uuid.UUID, flt: OrderFilter) -> Any:
    statement = select(Order).where(col(Order.account_id) == account_id)
    if flt.search:
        needle = flt.search.strip()
        statement = statement.where(
            or_(col(Order.number) == needle, col(Order.customer_reference) == needle)
        )
    if flt.ordered_from is not None:
        statement = statement.where(col(Order.ordered_on) >= flt.ordered_from)
    if flt.ordered_to is not None:
        statement = statement.where(col(Order.ordered_on) <= flt.ordered_to)
    if flt.status is not None:
        statement = statement.where(col(Order.status) == flt.status)
    return statement


ORDERS_ORDER = SortKey(columns=[col(Order.ordered_on), col(Order.id)], descending=True)


async def orders_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest, order_filter: OrderFilter
) -> Page[Order]:
    """Newest first."""
    return await fetch_page(
        session,
        _orders(account_id, order_filter),
        sort=ORDERS_ORDER,
        page=page,
        key_of=lambda o: (o.ordered_on, o.id),
    )


async def count_orders(
    session: AsyncSession, *, account_id: uuid.UUID, order_filter: OrderFilter
) -> int:
    subquery = _orders(account_id, order_filter).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def lines_of_orders(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[OrderLine]]:
    statement = (
        select(OrderLine)
        .where(col(OrderLine.order_id).in_(order_ids))
        .order_by(col(OrderLine.order_id), col(OrderLine.position))
    )
    found: dict[uuid.UUID, list[OrderLine]] = {}
    for line in (await session.execute(statement)).scalars():
        found.setdefault(line.order_id, []).append(line)
    return found


async def account_of_order(session: AsyncSession, order_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(Order.account_id)).where(col(Order.id) == order_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def order_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, order_id: uuid.UUID
) -> Order | None:
    statement = select(Order).where(col(Order.account_id) == account_id, col(Order.id) == order_id)
    return (await session.execute(statement)).scalar_one_or_none()


class ServiceKind(StrEnum):
    HOSTING = "HOSTING"
    DOMAIN = "DOMAIN"
    SUBSCRIPTION = "SUBSCRIPTION"
    SUPPORT_PLAN = "SUPPORT_PLAN"
    OTHER = "OTHER"


class ServiceStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class BillingCycle(StrEnum):
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    YEARLY = "YEARLY"
    ONE_TIME = "ONE_TIME"


class Service(SQLModel, table=True):
    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("external_id"),
        Index("ix_services_account_id_name_id", "account_id", "name", "id"),
        Index("ix_services_started_on", "started_on"),
        Index("ix_services_status_changed_at", "status_changed_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    external_id: str | None = Field(default=None, sa_type=String(100))
    name: str = Field(sa_type=String(200))
    kind: ServiceKind = Field(sa_type=StrEnumType(ServiceKind))
    status: ServiceStatus = Field(sa_type=StrEnumType(ServiceStatus))
    billing_cycle: BillingCycle = Field(sa_type=StrEnumType(BillingCycle))
    next_due_on: date | None = Field(default=None, sa_type=Date)
    expires_on: date | None = Field(default=None, sa_type=Date)
    currency: str = Field(sa_type=String(3))
    recurring_minor: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # From the billing import: when it began (the welcome is sent only for a
    # recent one), how to reach it (sent in the welcome), and when an import
    # last changed its status (None: as first imported).
    started_on: date | None = Field(default=None, sa_type=Date)
    access_instructions: str | None = Field(default=None, sa_type=Text)
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The control panel's user and password, sealed (core/credentials.py):
    # never the plain text.
    credentials_sealed: str | None = Field(default=None, sa_type=Text)


@dataclass(frozen=True)
class ServiceFilter:
    kind: ServiceKind | None = None
    status: ServiceStatus | None = None
    search: str | None = None  # part of the name


def _services(account_id: uuid.UUID, flt: ServiceFilter) -> Any:
    statement = select(Service).where(col(Service.account_id) == account_id)
    if flt.kind is not None:
        statement = statement.where(col(Service.kind) == flt.kind)
    if flt.status is not None:
        statement = statement.where(col(Service.status) == flt.status)
    if flt.search:
        needle = flt.search.strip().lower()
        statement = statement.where(func.lower(col(Service.name)).contains(needle, autoescape=True))
    return statement


SERVICES_ORDER = SortKey(columns=[col(Service.name), col(Service.id)])


async def services_page(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    page: PageRequest,
    service_filter: ServiceFilter,
) -> Page[Service]:
    return await fetch_page(
        session,
        _services(account_id, service_filter),
        sort=SERVICES_ORDER,
        page=page,
        key_of=lambda s: (s.name, s.id),
    )


async def count_services(
    session: AsyncSession, *, account_id: uuid.UUID, service_filter: ServiceFilter
) -> int:
    subquery = _services(account_id, service_filter).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def account_of_service(session: AsyncSession, service_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(Service.account_id)).where(col(Service.id) == service_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def service_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, service_id: uuid.UUID
) -> Service | None:
    statement = select(Service).where(
        col(Service.account_id) == account_id, col(Service.id) == service_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def orders_by_ids(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Order]:
    statement = select(Order).where(col(Order.id).in_(order_ids))
    return {o.id: o for o in (await session.execute(statement)).scalars()}
