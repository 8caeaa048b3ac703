"""Service mail the scheduler sends: the renewal reminder before a service's
next due date, once per due date, in DOMAINS for a domain and PRODUCTS for
anything else. Looked for from SERVICE_RENEWAL_REMINDER_DAYS before the date
until the date itself (later it is no reminder any more).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.config import Settings
from clientzone.mailers.invoice_mail import Fact, money
from clientzone.models.contacts import EmailCategory
from clientzone.models.jobs import done_facts
from clientzone.models.orders import Service, ServiceKind, ServiceStatus

RENEWAL = "service_renewal"


async def renewal_facts(session: AsyncSession, settings: Settings, today: date) -> list[Fact]:
    days = settings.service_renewal_reminder_days
    if not days:
        return []
    statement = (
        select(Service)
        .where(
            col(Service.status) == ServiceStatus.ACTIVE,
            col(Service.next_due_on) >= today,
            col(Service.next_due_on) <= today + timedelta(days=days),
        )
        .order_by(col(Service.id))
    )
    services = list((await session.execute(statement)).scalars())
    done: set[tuple[uuid.UUID, str]] = set()
    ids = [s.id for s in services]
    for start in range(0, len(ids), 5000):
        done |= await done_facts(session, kind=RENEWAL, subject_ids=ids[start : start + 5000])
    facts: list[Fact] = []
    for service in services:
        assert service.next_due_on is not None
        period = service.next_due_on.isoformat()
        if (service.id, period) in done:
            continue
        domain = service.kind is ServiceKind.DOMAIN
        facts.append(
            Fact(
                RENEWAL,
                service.id,
                period,
                service.account_id,
                "service_renewal",
                {
                    "service_name": service.name,
                    "is_domain": domain,
                    "due_on": service.next_due_on,
                    "days_left": (service.next_due_on - today).days,
                    "amount": money(service.recurring_minor, service.currency),
                },
                EmailCategory.DOMAINS if domain else EmailCategory.PRODUCTS,
            )
        )
    return facts
