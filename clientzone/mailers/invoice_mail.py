"""Invoice mail the scheduler sends (INVOICES category): an invoice issued,
due soon, overdue.

Each is a fact with a period (mailers/scheduler.py): "invoice_issued" once per
invoice, "invoice_due_soon" once per due date, "invoice_overdue" once per step
of INVOICE_OVERDUE_REMINDER_DAYS. A fact is looked for only inside its window,
so a first import of years of history, or workers stopped for a while, never
floods anyone:
- issued: invoices issued in the last INVOICE_ISSUED_CUTOFF_DAYS;
- due soon: from INVOICE_DUE_SOON_DAYS before the due date to the due date;
- overdue step d: from d days after the due date for REMINDER_CATCH_UP_DAYS,
  or until the next step begins.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.config import Settings
from clientzone.core.money import from_minor
from clientzone.models.contacts import EmailCategory
from clientzone.models.invoices import Invoice, InvoiceStatus
from clientzone.models.jobs import ScheduledJob, done_facts

ISSUED = "invoice_issued"
DUE_SOON = "invoice_due_soon"
OVERDUE = "invoice_overdue"


@dataclass(frozen=True)
class Fact:
    """One message to send at most once: its key, its account and template."""

    kind: str
    subject_id: uuid.UUID
    period: str
    account_id: uuid.UUID
    template: str
    variables: dict[str, Any]
    category: EmailCategory = EmailCategory.INVOICES
    contacts_only: bool = False  # news: not to the account's own address

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, str(self.subject_id), self.period)


def money(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency):,} {currency}"


def _variables(invoice: Invoice, today: date, **extra: Any) -> dict[str, Any]:
    return {
        "invoice_number": invoice.number,
        "issued_on": invoice.issued_on,
        "due_on": invoice.due_on,
        "total": money(invoice.total_minor, invoice.currency),
        "amount_due": money(invoice.total_minor - invoice.paid_minor, invoice.currency),
        "days_late": (today - invoice.due_on).days,
        **extra,
    }


async def issued_facts(
    session: AsyncSession, settings: Settings, today: date, limit: int
) -> list[Fact]:
    """Invoices issued inside the cut-off and never announced."""
    announced = exists().where(
        col(ScheduledJob.kind) == ISSUED, col(ScheduledJob.subject_id) == col(Invoice.id)
    )
    statement = (
        select(Invoice)
        .where(
            col(Invoice.status).in_([InvoiceStatus.OPEN, InvoiceStatus.PAID]),
            col(Invoice.issued_on) >= today - timedelta(days=settings.invoice_issued_cutoff_days),
            ~announced,
        )
        .order_by(col(Invoice.id))
        .limit(limit)
    )
    invoices = (await session.execute(statement)).scalars()
    return [
        Fact(ISSUED, i.id, "", i.account_id, "invoice_issued", _variables(i, today))
        for i in invoices
    ]


def overdue_windows(settings: Settings) -> Iterator[tuple[int, int]]:
    """(step, last day of its window), in days after the due date."""
    steps = settings.invoice_overdue_reminder_days
    for index, step in enumerate(steps):
        end = step + settings.reminder_catch_up_days - 1
        if index + 1 < len(steps):
            end = min(end, steps[index + 1] - 1)
        yield step, end


async def _unpaid_due_between(session: AsyncSession, first: date, last: date) -> list[Invoice]:
    statement = (
        select(Invoice)
        .where(
            col(Invoice.status) == InvoiceStatus.OPEN,
            col(Invoice.due_on) >= first,
            col(Invoice.due_on) <= last,
            col(Invoice.paid_minor) < col(Invoice.total_minor),
        )
        .order_by(col(Invoice.id))
    )
    return list((await session.execute(statement)).scalars())


async def reminder_facts(session: AsyncSession, settings: Settings, today: date) -> list[Fact]:
    """Due-soon and overdue reminders due today (or missed within the catch-up)
    and not yet sent."""
    facts: list[Fact] = []
    if settings.invoice_due_soon_days:
        soon = await _unpaid_due_between(
            session, today, today + timedelta(days=settings.invoice_due_soon_days)
        )
        facts += [
            Fact(
                DUE_SOON,
                i.id,
                i.due_on.isoformat(),
                i.account_id,
                "invoice_due_soon",
                _variables(i, today, days_left=(i.due_on - today).days),
            )
            for i in soon
        ]
    for step, end in overdue_windows(settings):
        late = await _unpaid_due_between(
            session, today - timedelta(days=end), today - timedelta(days=step)
        )
        facts += [
            Fact(
                OVERDUE,
                i.id,
                f"{i.due_on.isoformat()}+{step}",
                i.account_id,
                "invoice_overdue",
                _variables(i, today),
            )
            for i in late
        ]
    done: set[tuple[str, uuid.UUID, str]] = set()
    for kind in (DUE_SOON, OVERDUE):
        ids = [f.subject_id for f in facts if f.kind == kind]
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            pairs = await done_facts(session, kind=kind, subject_ids=chunk)
            done |= {(kind, subject, period) for subject, period in pairs}
    return [f for f in facts if (f.kind, f.subject_id, f.period) not in done]
