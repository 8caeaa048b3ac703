"""The current account (cuenta corriente): an account's immutable movements.

Each movement has a per-account sequence number and stores the running
balance after it, so any page of the ledger, at any depth and in either
direction, shows correct balances from one index range scan; nothing is ever
summed over the whole account. Positive amounts are debits (the customer owes
more: invoices, refunds); negative ones are credits (payments, credit notes).
Movements are never changed: a correction is a new ADJUSTMENT.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, String, UniqueConstraint, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.accounts import Account
from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page


class MovementKind(StrEnum):
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"
    CREDIT_NOTE = "CREDIT_NOTE"
    ADJUSTMENT = "ADJUSTMENT"
    REFUND = "REFUND"


class CurrencyMismatch(ValueError):
    """A movement in another currency than its account's: never mixed silently."""


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("account_id", "seq"),
        UniqueConstraint("external_id"),
        Index("ix_ledger_entries_account_id_posted_at", "account_id", "posted_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    seq: int = Field(sa_type=BigInteger)
    posted_at: datetime = Field(sa_type=UTCDateTime)
    kind: MovementKind = Field(sa_type=StrEnumType(MovementKind))
    reference: str = Field(sa_type=String(64))
    description: str = Field(default="", sa_type=String(300))
    currency: str = Field(sa_type=String(3))
    amount_minor: int = Field(sa_type=BigInteger)
    balance_minor: int = Field(sa_type=BigInteger)
    # The billing system's id of an imported movement (imports are idempotent by it).
    external_id: str | None = Field(default=None, sa_type=String(100))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def post_movement(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    kind: MovementKind,
    amount_minor: int,
    currency: str,
    reference: str,
    description: str = "",
    posted_at: datetime | None = None,
    entry_id: uuid.UUID | None = None,
    external_id: str | None = None,
) -> LedgerEntry:
    """Append a movement after the account's last one (the account row is locked
    on PostgreSQL, so concurrent postings queue instead of clashing)."""
    locked = select(Account).where(col(Account.id) == account_id).with_for_update()
    account = (await session.execute(locked)).scalar_one()
    if currency.upper() != account.currency:
        raise CurrencyMismatch(f"{currency} movement on a {account.currency} account")
    last = (
        await session.execute(
            select(col(LedgerEntry.seq), col(LedgerEntry.balance_minor))
            .where(col(LedgerEntry.account_id) == account_id)
            .order_by(col(LedgerEntry.seq).desc())
            .limit(1)
        )
    ).first()
    seq, balance = (last[0], last[1]) if last else (0, 0)
    entry = LedgerEntry(
        id=entry_id or new_id(),
        account_id=account_id,
        seq=seq + 1,
        posted_at=posted_at or utcnow(),
        kind=kind,
        reference=reference,
        description=description,
        currency=account.currency,
        amount_minor=amount_minor,
        balance_minor=balance + amount_minor,
        external_id=external_id,
    )
    session.add(entry)
    await session.flush()
    return entry


LEDGER_ORDER = SortKey(columns=[col(LedgerEntry.seq)])


async def ledger_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest
) -> Page[LedgerEntry]:
    """Oldest first; `last: N` is the newest N without reading the rest."""
    return await fetch_page(
        session,
        _LEDGER,
        sort=LEDGER_ORDER,
        page=page,
        key_of=lambda e: (e.seq,),
        params={"account_id": account_id},
        cache_key="ledger",
    )


_LEDGER = select(LedgerEntry).where(col(LedgerEntry.account_id) == bindparam("account_id"))


async def count_movements(session: AsyncSession, *, account_id: uuid.UUID) -> int:
    statement = select(func.count()).where(col(LedgerEntry.account_id) == account_id)
    return int((await session.execute(statement)).scalar_one())


def _balances_statement() -> Any:
    latest = (
        select(
            col(LedgerEntry.account_id).label("account_id"), func.max(LedgerEntry.seq).label("seq")
        )
        .where(col(LedgerEntry.account_id).in_(bindparam("account_ids", expanding=True)))
        .group_by(col(LedgerEntry.account_id))
        .subquery()
    )
    return select(col(LedgerEntry.account_id), col(LedgerEntry.balance_minor)).join(
        latest,
        and_(
            col(LedgerEntry.account_id) == latest.c.account_id,
            col(LedgerEntry.seq) == latest.c.seq,
        ),
    )


_BALANCES = _balances_statement()


async def balances(session: AsyncSession, account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The running balance after each account's last movement (absent: none yet)."""
    found = await session.execute(_BALANCES, {"account_ids": list(account_ids)})
    return {account_id: int(balance) for account_id, balance in found.all()}


async def movements_between(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    since: datetime,
    until: datetime,
) -> tuple[int, list[LedgerEntry]]:
    """For a statement: the balance before `since` and the movements posted in
    [since, until), in ledger order."""
    before: Any = (
        await session.execute(
            select(col(LedgerEntry.balance_minor))
            .where(col(LedgerEntry.account_id) == account_id, col(LedgerEntry.posted_at) < since)
            .order_by(col(LedgerEntry.seq).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    rows = await session.execute(
        select(LedgerEntry)
        .where(
            col(LedgerEntry.account_id) == account_id,
            col(LedgerEntry.posted_at) >= since,
            col(LedgerEntry.posted_at) < until,
        )
        .order_by(col(LedgerEntry.seq))
    )
    return int(before or 0), list(rows.scalars())


async def account_of_entry(session: AsyncSession, entry_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(LedgerEntry.account_id)).where(col(LedgerEntry.id) == entry_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def entry_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, entry_id: uuid.UUID
) -> LedgerEntry | None:
    statement = select(LedgerEntry).where(
        col(LedgerEntry.account_id) == account_id, col(LedgerEntry.id) == entry_id
    )
    return (await session.execute(statement)).scalar_one_or_none()
