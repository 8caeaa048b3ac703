"""The statement of the month (INVOICES), for the accounts that asked for it
(`AccountProfile.monthlyStatement`): in the first STATEMENT_CATCH_UP_DAYS
days of a month, each such account gets the previous month's opening
balance, its movements and its closing balance, once (the fact's key is the
account and the month).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.config import Settings
from clientzone.mailers.invoice_mail import Fact, money
from clientzone.models.accounts import Account
from clientzone.models.jobs import done_facts
from clientzone.models.ledger import LedgerEntry, movements_between

STATEMENT = "monthly_statement"
# A month's statement is still sent this many days into the next (downtime).
STATEMENT_CATCH_UP_DAYS = 7
# Movements listed in the email; the rest are counted (the portal has them all).
LISTED = 60


def previous_month(today: date) -> tuple[date, date]:
    """The first day of last month and of this one."""
    first = today.replace(day=1)
    last_month = (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )
    return last_month, first


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _line(entry: LedgerEntry, currency: str) -> dict[str, Any]:
    return {
        "date": entry.posted_at.date().isoformat(),
        "description": entry.description or entry.kind.value,
        "reference": entry.reference,
        "amount": money(entry.amount_minor, currency),
        "balance": money(entry.balance_minor, currency),
    }


async def statement_facts(
    session: AsyncSession, settings: Settings, today: date, limit: int
) -> list[Fact]:
    """Last month's statements not sent yet (at most `limit` accounts a call)."""
    if today.day > STATEMENT_CATCH_UP_DAYS:
        return []
    start, end = previous_month(today)
    period = start.strftime("%Y-%m")
    accounts = list(
        (
            await session.execute(
                select(Account)
                .where(col(Account.monthly_statement).is_(True))
                .order_by(col(Account.id))
            )
        ).scalars()
    )
    done = await done_facts(session, kind=STATEMENT, subject_ids=[a.id for a in accounts])
    facts: list[Fact] = []
    for account in accounts:
        if (account.id, period) in done:
            continue
        opening, entries = await movements_between(
            session, account_id=account.id, since=_midnight(start), until=_midnight(end)
        )
        closing = entries[-1].balance_minor if entries else opening
        currency = account.currency
        facts.append(
            Fact(
                STATEMENT,
                account.id,
                period,
                account.id,
                "monthly_statement",
                {
                    "month": period,
                    "opening": money(opening, currency),
                    "closing": money(closing, currency),
                    "charges": money(
                        sum(e.amount_minor for e in entries if e.amount_minor > 0), currency
                    ),
                    "credits": money(
                        -sum(e.amount_minor for e in entries if e.amount_minor < 0), currency
                    ),
                    "lines": [_line(e, currency) for e in entries[:LISTED]],
                    "more": max(len(entries) - LISTED, 0),
                },
            )
        )
        if len(facts) >= limit:
            break
    return facts
