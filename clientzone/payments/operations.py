"""What staff and the worker do with online payments: refund one through its
provider, expire checkouts never completed, and reconcile with the providers.

The provider is always asked outside any transaction; what it answers is
applied with `apply_event`, so a refund started here and the webhook that
announces it post once between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import col

from clientzone.config import Settings
from clientzone.core.ids import decode_id_of
from clientzone.db import Database
from clientzone.models.activity import SYSTEM, ActivityAction, record_activity
from clientzone.models.base import utcnow
from clientzone.models.payments import Payment, PaymentKind, PaymentStatus
from clientzone.payments.gateway import (
    ProviderPayment,
    ProviderState,
    call,
    configured_gateways,
    gateway,
)
from clientzone.payments.providers import EventOutcome, ProviderEvent
from clientzone.resolvers.payments import apply_event, event_of

logger = logging.getLogger("clientzone.payments")


class PaymentError(Exception):
    """A staff action that cannot be done; the message says why."""


async def find_payment(database: Database, key: str) -> Payment:
    """A payment by its id, its GraphQL ID or its reference (PAY-...)."""
    try:
        payment_id: uuid.UUID | None = uuid.UUID(key)
    except ValueError:
        payment_id = decode_id_of("Payment", key)
    where = col(Payment.id) == payment_id if payment_id else col(Payment.reference) == key
    async with database.session() as session:
        found = (await session.execute(select(Payment).where(where))).scalars().first()
    if found is None:
        raise PaymentError(f"no payment {key}")
    return found


def refundable_minor(payment: Payment) -> int:
    """What a refund may still give back of what reached the ledger."""
    return payment.amount_minor - payment.refund_due_minor - payment.refunded_minor


async def refund(
    database: Database, settings: Settings, key: str, amount_minor: int | None = None
) -> str:
    """Give a settled online payment back through its provider (all that is
    left, or `amount_minor` of it), and post the reversal (the provider's
    webhook then changes nothing)."""
    payment = await find_payment(database, key)
    if payment.kind is not PaymentKind.ONLINE or payment.status is not PaymentStatus.SUCCEEDED:
        raise PaymentError(f"{key} is {payment.status.value}: only a settled online payment")
    left = refundable_minor(payment)
    if amount_minor is not None and not 0 < amount_minor <= left:
        raise PaymentError(f"{key}: at most {left} minor units are left to refund")
    partial = amount_minor is not None and amount_minor < left
    assert payment.provider is not None
    if payment.provider == "sandbox":
        given = payment.refund_due_minor + payment.refunded_minor + (amount_minor or left)
        event = ProviderEvent(
            event_id=f"refund-{payment.id}-{given}",
            payment_id=payment.id,
            outcome=EventOutcome.REFUNDED,
            amount_minor=given if partial else payment.amount_minor,
            currency=payment.currency,
        )
        return await apply_event(database, settings, "sandbox", event)
    provider = gateway(settings, payment.provider)
    if provider is None or not payment.provider_ref:
        raise PaymentError(f"{payment.provider} is not configured or the payment has no reference")
    asked = amount_minor if partial else None
    await call(settings, provider.refund, payment.provider_ref, asked, payment.currency)
    state = await call(settings, provider.fetch_payment, payment.provider_ref)
    found = event_of(state)
    if found is None or found.outcome is not EventOutcome.REFUNDED:
        return (
            f"refund asked; {payment.provider} says {state.state.value} (the webhook will post it)"
        )
    return await apply_event(database, settings, payment.provider, found)


async def expire_pending(database: Database, settings: Settings) -> int:
    """PENDING online payments older than PAYMENT_EXPIRY_MINUTES become EXPIRED:
    they reserve nothing and the customer can start another. Money the provider
    still reports later is applied all the same (see apply_event)."""
    if not settings.payment_expiry_minutes:
        return 0
    cutoff = utcnow() - timedelta(minutes=settings.payment_expiry_minutes)
    async with database.transaction() as session:
        expired = (
            await session.execute(
                update(Payment)
                .where(
                    col(Payment.kind) == PaymentKind.ONLINE,
                    col(Payment.status) == PaymentStatus.PENDING,
                    col(Payment.created_at) < cutoff,
                )
                .values(status=PaymentStatus.EXPIRED, completed_at=utcnow())
                .returning(col(Payment.id), col(Payment.account_id))
            )
        ).all()
        for payment_id, account_id in expired:
            record_activity(
                session,
                account_id=account_id,
                actor=SYSTEM,
                action=ActivityAction.PAYMENT_EXPIRED,
                target=str(payment_id),
            )
    if expired:
        logger.info("%d pending payments expired", len(expired))
    return len(expired)


async def expiry_loop(
    database: Database, settings: Settings, stop: asyncio.Event, every: float = 60.0
) -> None:
    """The worker's periodic expiry, until `stop` is set."""
    while not stop.is_set():
        try:
            await expire_pending(database, settings)
        except Exception:
            logger.exception("payment expiry failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


@dataclass(frozen=True)
class Difference:
    provider: str
    state: ProviderPayment
    ours: PaymentStatus | None
    fixed: str | None = None

    def __str__(self) -> str:
        ours = self.ours.value if self.ours else "unknown to us"
        line = (
            f"{self.provider} {self.state.reference} (payment {self.state.payment_id}): "
            f"provider {self.state.state.value}, ours {ours}"
        )
        return f"{line} -> {self.fixed}" if self.fixed else line


EXPECTED = {
    ProviderState.APPROVED: {PaymentStatus.SUCCEEDED},
    ProviderState.DECLINED: {PaymentStatus.FAILED, PaymentStatus.EXPIRED},
    ProviderState.REFUNDED: {PaymentStatus.REFUNDED},
    ProviderState.CHARGED_BACK: {PaymentStatus.REFUNDED},
    ProviderState.PENDING: {PaymentStatus.PENDING, PaymentStatus.EXPIRED},
}


async def reconcile(
    database: Database, settings: Settings, since: datetime, *, fix: bool
) -> list[Difference]:
    """The provider's payments since `since` whose state ours does not match
    (a missed or lost webhook); with `fix`, each is applied as a webhook would."""
    differences: list[Difference] = []
    for provider in configured_gateways(settings):
        states = await call(settings, provider.payments_since, since)
        ids = [s.payment_id for s in states if s.payment_id is not None]
        async with database.read_session() as session:
            rows = await session.execute(
                select(
                    col(Payment.id),
                    col(Payment.status),
                    col(Payment.refund_due_minor) + col(Payment.refunded_minor),
                ).where(col(Payment.id).in_(ids))
            )
            ours = {payment_id: (status, given) for payment_id, status, given in rows.all()}
        for state in states:
            if state.payment_id is None:
                continue
            status, given = ours.get(state.payment_id, (None, 0))
            partly = state.state is ProviderState.APPROVED and state.refunded_minor > given
            if status is not None and status in EXPECTED[state.state] and not partly:
                continue
            fixed = None
            event = event_of(state)
            if fix and status is not None and event is not None:
                fixed = await apply_event(database, settings, provider.name, event)
            differences.append(Difference(provider.name, state, status, fixed))
    return differences
