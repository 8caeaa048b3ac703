"""Order and service mail that follows the billing import (scheduler facts,
sent exactly once each like the invoice mail, mailers/scheduler.py):

- "order_placed" once per imported order, PRODUCTS (one placed in the portal
  had its "order_confirmation" then): an order ordered in the last
  INVOICE_ISSUED_CUTOFF_DAYS (the cut-off of "invoice issued": a first import
  of years of orders tells nobody);
- "order_status" once per order and status, PRODUCTS: an import changed the
  status of an order imported before, within the same cut-off;
- "service_welcome" once per service, DOMAINS for a domain, PRODUCTS for
  anything else (as the renewal reminder): an active service that started
  (`startedOn`) within the cut-off, with its access instructions if any;
- "service_status" once per service and status: an import changed a
  service's status to SUSPENDED or EXPIRED, within the cut-off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.config import Settings
from clientzone.mailers.invoice_mail import Fact, money
from clientzone.models.contacts import EmailCategory
from clientzone.models.jobs import ScheduledJob
from clientzone.models.orders import Order, OrderOrigin, Service, ServiceKind, ServiceStatus

ORDER_PLACED = "order_placed"
ORDER_STATUS = "order_status"
SERVICE_WELCOME = "service_welcome"
SERVICE_STATUS = "service_status"

# The service statuses a change to is mailed (a template each).
MAILED_SERVICE_STATUSES = (ServiceStatus.SUSPENDED, ServiceStatus.EXPIRED)


def _cutoff(settings: Settings, today: date) -> date:
    return today - timedelta(days=settings.invoice_issued_cutoff_days)


def _since(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _done(kind: str, subject: Any, period: Any = "") -> Any:
    return exists().where(
        col(ScheduledJob.kind) == kind,
        col(ScheduledJob.subject_id) == subject,
        col(ScheduledJob.period) == period,
    )


def _order_variables(order: Order) -> dict[str, Any]:
    return {
        "order_number": order.number,
        "customer_reference": order.customer_reference,
        "ordered_on": order.ordered_on,
        "status": order.status.value,
        "total": money(order.total_minor, order.currency),
    }


async def order_facts(
    session: AsyncSession, settings: Settings, today: date, limit: int
) -> list[Fact]:
    """New orders and status changes inside the cut-off, not yet mailed."""
    cutoff = _cutoff(settings, today)
    placed = (
        select(Order)
        .where(
            col(Order.ordered_on) >= cutoff,
            col(Order.origin) == OrderOrigin.IMPORT,  # portal orders: confirmed when placed
            ~_done(ORDER_PLACED, col(Order.id)),
        )
        .order_by(col(Order.id))
        .limit(limit)
    )
    changed = (
        select(Order)
        .where(
            col(Order.status_changed_at) >= _since(cutoff),
            ~_done(ORDER_STATUS, col(Order.id), col(Order.status)),
        )
        .order_by(col(Order.id))
        .limit(limit)
    )
    facts = [
        Fact(
            ORDER_PLACED,
            o.id,
            "",
            o.account_id,
            "order_placed",
            _order_variables(o),
            EmailCategory.PRODUCTS,
        )
        for o in (await session.execute(placed)).scalars()
    ]
    facts += [
        Fact(
            ORDER_STATUS,
            o.id,
            o.status.value,
            o.account_id,
            "order_status_changed",
            _order_variables(o),
            EmailCategory.PRODUCTS,
        )
        for o in (await session.execute(changed)).scalars()
    ]
    return facts


def _service_fact(kind: str, service: Service, period: str, template: str) -> Fact:
    domain = service.kind is ServiceKind.DOMAIN
    return Fact(
        kind,
        service.id,
        period,
        service.account_id,
        template,
        {
            "service_name": service.name,
            "is_domain": domain,
            "status": service.status.value,
            "access_instructions": service.access_instructions,
            "next_due_on": service.next_due_on,
            "expires_on": service.expires_on,
        },
        EmailCategory.DOMAINS if domain else EmailCategory.PRODUCTS,
    )


async def service_facts(
    session: AsyncSession, settings: Settings, today: date, limit: int
) -> list[Fact]:
    """Welcomes and suspensions/expiries inside the cut-off, not yet mailed."""
    cutoff = _cutoff(settings, today)
    welcome = (
        select(Service)
        .where(
            col(Service.status) == ServiceStatus.ACTIVE,
            col(Service.started_on) >= cutoff,
            ~_done(SERVICE_WELCOME, col(Service.id)),
        )
        .order_by(col(Service.id))
        .limit(limit)
    )
    changed = (
        select(Service)
        .where(
            col(Service.status).in_(MAILED_SERVICE_STATUSES),
            col(Service.status_changed_at) >= _since(cutoff),
            ~_done(SERVICE_STATUS, col(Service.id), col(Service.status)),
        )
        .order_by(col(Service.id))
        .limit(limit)
    )
    facts = [
        _service_fact(SERVICE_WELCOME, s, "", "service_welcome")
        for s in (await session.execute(welcome)).scalars()
    ]
    facts += [
        _service_fact(SERVICE_STATUS, s, s.status.value, f"service_{s.status.value.lower()}")
        for s in (await session.execute(changed)).scalars()
    ]
    return facts
