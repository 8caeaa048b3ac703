"""Paying: starting an online payment, reporting a bank transfer, and applying
the provider's answer (INVOICES_PAY to start or report).

A confirmed payment, in ONE transaction: posts a PAYMENT credit to the ledger,
marks invoices paid oldest first (the chosen ones first), writes the activity
and queues the receipt (INVOICES category). The same provider event twice is
applied once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.brands import brand_of
from clientzone.config import Settings
from clientzone.core.errors import NotFound
from clientzone.core.i18n import translate
from clientzone.core.ids import encode_global_id
from clientzone.core.money import from_minor, minor_unit_exponent, to_minor
from clientzone.db import Database
from clientzone.files.file_types import sniff
from clientzone.mailers.outbox import notify_account
from clientzone.models import payments as models
from clientzone.models.accounts import Account, lock_account
from clientzone.models.activity import SYSTEM, ActivityAction, record_activity
from clientzone.models.base import utcnow
from clientzone.models.contacts import EmailCategory
from clientzone.models.invoices import Invoice, InvoiceStatus
from clientzone.models.ledger import MovementKind, balances, post_movement
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.payments import Payment, PaymentEvent, PaymentKind, PaymentStatus
from clientzone.models.webhooks import emit
from clientzone.payments import providers as payment_providers
from clientzone.payments.gateway import (
    CheckoutItem,
    CheckoutRequest,
    ProviderError,
    ProviderPayment,
    ProviderState,
    call,
    gateway,
    provider_name,
)
from clientzone.payments.providers import EventOutcome, ProviderEvent
from clientzone.resolvers.activity import actor
from clientzone.resolvers.payment_options import payment_options
from clientzone.resolvers.validation import FieldErrors, Outcome

logger = logging.getLogger("clientzone.payments")


class StartPaymentErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVOICE_NOT_OPEN = "INVOICE_NOT_OPEN"
    AMOUNT_ABOVE_BALANCE = "AMOUNT_ABOVE_BALANCE"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"


def _valid_amount(amount: Decimal, currency: str) -> int | None:
    exponent = minor_unit_exponent(currency)
    if not amount.is_finite() or amount <= 0 or amount != round(amount, exponent):
        return None
    return to_minor(amount, currency)


def _money(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency):,} {currency}"


async def start_payment(
    ctx: Context, account: Account, invoice_ids: list[uuid.UUID] | None, amount: Decimal | None
) -> Outcome[tuple[Payment, str], StartPaymentErrorCode]:
    """A checkout that reserves what it pays.

    Everything is decided inside the transaction that creates the payment,
    after `lock_account`: concurrent checkouts of one account queue there
    (PostgreSQL: the account row's lock; SQLite: its single writer), so each
    sees the payments the others created. A lock rather than a unique index:
    what must not overlap is a sum (the balance minus the payments in
    progress) and sets of invoices, which no index can express; the same lock
    orders checkouts with the settlements that change the balance.
    """
    code = StartPaymentErrorCode
    errors: FieldErrors[StartPaymentErrorCode] = FieldErrors()
    if not invoice_ids and amount is None:
        errors.add("invoiceIds", code.REQUIRED, "payment.required")
        return Outcome(errors=errors.errors)
    amount_minor = 0
    if not invoice_ids:
        assert amount is not None
        valid = _valid_amount(amount, account.currency)
        if valid is None:
            errors.add("amount", code.INVALID_AMOUNT, "payment.invalid_amount")
            return Outcome(errors=errors.errors)
        amount_minor = valid
    window = timedelta(minutes=ctx.settings.payment_reservation_minutes)
    async with ctx.transaction() as session:
        await lock_account(session, account.id)
        reserved = await models.reservations(session, account_id=account.id, window=window)
        chosen: list[Invoice] = []
        if invoice_ids:
            chosen = await models.invoices_to_pay(
                session, account_id=account.id, invoice_ids=invoice_ids
            )
            if len(chosen) != len(set(invoice_ids)):
                raise NotFound  # another account's invoice: as if it did not exist
            for invoice in chosen:
                if invoice.status is not InvoiceStatus.OPEN:
                    errors.add(
                        "invoiceIds",
                        code.INVOICE_NOT_OPEN,
                        "payment.invoice_not_open",
                        number=invoice.number,
                    )
                elif invoice.id.hex in reserved.invoice_ids:
                    errors.add(
                        "invoiceIds",
                        code.PAYMENT_IN_PROGRESS,
                        "payment.invoice_in_progress",
                        number=invoice.number,
                    )
            amount_minor = sum(i.total_minor - i.paid_minor for i in chosen)
        if errors:
            return Outcome(errors=errors.errors)
        owed = (await balances(session, [account.id])).get(account.id, 0)
        options = await payment_options(ctx, account, balance_minor=owed)
        online = not options.online_reasons
        in_advance = not options.advance_reasons and not invoice_ids
        field = "invoiceIds" if invoice_ids else "amount"
        if not (online or in_advance):
            # The reasons in words (the codes are in Account.paymentOptions).
            reasons = " ".join(
                translate(f"payment.{r.value.lower()}", ctx.locale) for r in options.online_reasons
            )
            errors.add(None, code.NOT_AVAILABLE, "payment.not_available", reasons=reasons)
        elif not in_advance and amount_minor > owed:
            errors.add("amount", code.AMOUNT_ABOVE_BALANCE, "payment.above_balance")
        elif not in_advance and amount_minor > owed - reserved.amount_minor:
            errors.add(
                field,
                code.PAYMENT_IN_PROGRESS,
                "payment.amount_in_progress",
                reserved=_money(reserved.amount_minor, account.currency),
                available=_money(max(owed - reserved.amount_minor, 0), account.currency),
            )
        if errors:
            return Outcome(errors=errors.errors)
        payment = Payment(
            account_id=account.id,
            kind=PaymentKind.ONLINE,
            provider=provider_name(ctx.settings, account.currency),
            status=PaymentStatus.PENDING,
            amount_minor=amount_minor,
            currency=account.currency,
            invoice_ids=[i.id.hex for i in chosen],
            in_advance=in_advance,
            created_by=require_viewer(ctx).user.id,
        )
        session.add(payment)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.PAYMENT_STARTED,
            target=f"{from_minor(amount_minor, account.currency)} {account.currency}",
        )
        items = [
            CheckoutItem(f"Factura {i.number}", i.total_minor - i.paid_minor) for i in chosen
        ] or [CheckoutItem(f"Pago a cuenta {account.number}", amount_minor)]
        # The customer comes back to their brand's portal.
        portal_url = (await brand_of(session, ctx.settings, account)).portal_url
    url = await _checkout(ctx, payment, items, portal_url)
    if url is None:
        errors.add(None, code.PROVIDER_UNAVAILABLE, "payment.provider_unavailable")
        return Outcome(errors=errors.errors)
    return Outcome(value=(payment, url))


async def _checkout(
    ctx: Context, payment: Payment, items: list[CheckoutItem], portal_url: str
) -> str | None:
    """The provider's checkout URL, asked after the payment is committed (no
    connection is held during the call); a refusal fails the payment, which
    frees what it reserved."""
    assert payment.provider is not None
    settings = ctx.settings
    if payment.provider == "sandbox":
        return payment_providers.checkout_url(settings, payment.id)
    provider = gateway(settings, payment.provider)
    await ctx.db.release()  # no pooled connection held while the provider answers
    request = CheckoutRequest(
        payment_id=payment.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        items=items,
        return_url=f"{portal_url}/payments/" + encode_global_id("Payment", payment.id),
        notification_url=f"{settings.public_base_url}/webhooks/payments/{payment.provider}",
    )
    try:
        if provider is None:
            raise ProviderError("not configured")
        checkout = await call(settings, provider.create_checkout, request)
    except Exception:
        logger.exception("payment %s: %s refused the checkout", payment.id, payment.provider)
        async with ctx.transaction() as session:
            failed = await models.payment_for_update(session, payment.id)
            if failed is not None and failed.status is PaymentStatus.PENDING:
                failed.status = PaymentStatus.FAILED
                failed.completed_at = utcnow()
                session.add(failed)
        return None
    return checkout.url


class ReportPaymentErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    TOO_LONG = "TOO_LONG"
    IN_THE_FUTURE = "IN_THE_FUTURE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"


# What a receipt may be, recognised by its content (the declared type is not trusted).
RECEIPT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


async def report_payment(
    ctx: Context,
    account: Account,
    *,
    amount: Decimal,
    paid_on: date,
    reference: str,
    receipt: tuple[str, bytes] | None,
    today: date,
) -> Outcome[Payment, ReportPaymentErrorCode]:
    """Record a bank transfer for staff to confirm: pending, not in the balance."""
    code = ReportPaymentErrorCode
    errors: FieldErrors[ReportPaymentErrorCode] = FieldErrors()
    amount_minor = _valid_amount(amount, account.currency)
    if amount_minor is None:
        errors.add("amount", code.INVALID_AMOUNT, "payment.invalid_amount")
    if paid_on > today:
        errors.add("paidOn", code.IN_THE_FUTURE, "payment.in_the_future")
    cleaned = errors.text(
        "reference", reference, maximum=100, required=code.REQUIRED, too_long=code.TOO_LONG
    )
    content_type: str | None = None
    if receipt is not None:
        if len(receipt[1]) > ctx.settings.max_receipt_bytes:
            errors.add(
                "receipt",
                code.FILE_TOO_LARGE,
                "payment.file_too_large",
                maximum=ctx.settings.max_receipt_bytes // 1000,
            )
        elif (content_type := sniff(receipt[1])) not in RECEIPT_TYPES:
            errors.add("receipt", code.FILE_TYPE_NOT_ALLOWED, "payment.file_type")
    if errors:
        return Outcome(errors=errors.errors)
    assert amount_minor is not None
    async with ctx.transaction() as session:
        payment = Payment(
            account_id=account.id,
            kind=PaymentKind.TRANSFER_REPORT,
            status=PaymentStatus.REPORTED,
            amount_minor=amount_minor,
            currency=account.currency,
            reference=cleaned,
            paid_on=paid_on,
            receipt_filename=receipt[0][:200] if receipt else None,
            receipt_content_type=content_type,
            receipt=receipt[1] if receipt else None,
            created_by=require_viewer(ctx).user.id,
        )
        session.add(payment)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.PAYMENT_REPORTED,
            target=cleaned,
        )
    return Outcome(value=payment)


async def payments(ctx: Context, account: Account, page: PageRequest) -> Page[Payment]:
    async with ctx.db.read() as session:
        return await models.payments_page(session, account_id=account.id, page=page)


async def payments_count(ctx: Context, account: Account) -> int:
    async with ctx.db.read() as session:
        return await models.count_payments(session, account_id=account.id)


OUTCOMES = {
    ProviderState.APPROVED: EventOutcome.APPROVED,
    ProviderState.DECLINED: EventOutcome.DECLINED,
    ProviderState.REFUNDED: EventOutcome.REFUNDED,
    ProviderState.CHARGED_BACK: EventOutcome.CHARGED_BACK,
}


def event_of(state: ProviderPayment) -> ProviderEvent | None:
    """The event to apply for a payment's state at its provider (None: still
    pending, or not one of ours). Its id is the state: each transition is
    applied once however many notifications announce it."""
    outcome = OUTCOMES.get(state.state)
    if outcome is None or state.payment_id is None:
        return None
    amount = state.amount_minor
    event_id = f"{state.reference}:{outcome.value}"
    if outcome is EventOutcome.APPROVED and state.refunded_minor > 0:
        outcome = EventOutcome.REFUNDED  # part of it given back, the rest kept
    if outcome is EventOutcome.REFUNDED:
        # A refund's amount is what has been given back so far, in all: each
        # new total is a new event, applied once.
        amount = min(state.refunded_minor or state.amount_minor, state.amount_minor)
        event_id = f"{state.reference}:refunded:{amount}"
    return ProviderEvent(
        event_id=event_id[:100],
        payment_id=state.payment_id,
        outcome=outcome,
        amount_minor=amount,
        currency=state.currency,
        reference=state.reference,
    )


OPEN_TO_APPROVAL = frozenset({PaymentStatus.PENDING, PaymentStatus.EXPIRED, PaymentStatus.FAILED})
REVERSALS = frozenset({EventOutcome.REFUNDED, EventOutcome.CHARGED_BACK})


class _Duplicate(Exception):
    pass


async def apply_event(
    database: Database, settings: Settings, provider: str, event: ProviderEvent
) -> str:
    """Apply a provider's answer once; returns what happened (for the log and tests)."""
    try:
        async with database.transaction() as session:
            if await models.event_seen(session, provider=provider, event_id=event.event_id):
                raise _Duplicate
            session.add(PaymentEvent(provider=provider, event_id=event.event_id))
            await session.flush()  # a concurrent copy of the event fails here
            payment = await models.payment_for_update(session, event.payment_id)
            if payment is None or payment.provider != provider:
                return "unknown payment"
            if event.outcome in REVERSALS:
                if event.reference and payment.provider_ref not in (None, event.reference):
                    return "another attempt"  # not the provider payment that settled ours
                return await _reverse(session, settings, payment, event)
            # A checkout may see a declined attempt, then a card that works; an
            # expired one paid after all is money received too.
            if payment.status not in OPEN_TO_APPROVAL:
                return "already settled"
            if event.outcome is EventOutcome.DECLINED and payment.status is PaymentStatus.FAILED:
                return "already settled"
            if event.reference:
                payment.provider_ref = event.reference[:100]
            if (
                event.outcome is EventOutcome.DECLINED
                or event.amount_minor != payment.amount_minor
                or event.currency != payment.currency
            ):
                payment.status = PaymentStatus.FAILED
                payment.completed_at = utcnow()
                record_activity(
                    session,
                    account_id=payment.account_id,
                    actor=SYSTEM,
                    action=ActivityAction.PAYMENT_FAILED,
                    target=str(payment.id),
                )
                return "declined"
            await settle(session, settings, payment)
            return "approved"
    except (_Duplicate, IntegrityError):
        return "duplicate"


def ledger_reference(payment: Payment) -> str:
    """The payment's reference on the ledger and the receipt: the random end of
    its id, so payments made in the same moment differ."""
    prefix = "TRF" if payment.kind is PaymentKind.TRANSFER_REPORT else "PAY"
    return f"{prefix}-{payment.id.hex[-10:].upper()}"


async def settle(session: AsyncSession, settings: Settings, payment: Payment) -> None:
    """Ledger credit, invoices paid oldest first (the chosen ones first), activity
    and receipt, in the caller's transaction.

    Never more than is owed, read under the account's lock: a payment in
    advance is credited whole; any other pays at most the balance, and the rest
    is flagged for refund (`refund_due_minor`, a PAYMENT_REFUND_DUE activity,
    and said in the receipt), so two checkouts of one invoice cannot both pay it.
    A bank transfer staff confirmed is money already in the bank: credited
    whole, and it keeps the reference the customer quoted.
    """
    transfer = payment.kind is PaymentKind.TRANSFER_REPORT
    await lock_account(session, payment.account_id)
    owed = (await balances(session, [payment.account_id])).get(payment.account_id, 0)
    whole = payment.in_advance or transfer
    settled = max(payment.amount_minor if whole else min(payment.amount_minor, owed), 0)
    reference = ledger_reference(payment)
    if settled:
        await post_movement(
            session,
            account_id=payment.account_id,
            kind=MovementKind.PAYMENT,
            amount_minor=-settled,
            currency=payment.currency,
            reference=reference,
            description="Transferencia bancaria" if transfer else "Pago en línea",
        )
    chosen = set(payment.invoice_ids)
    open_invoices = await models.open_invoices_oldest_first(session, account_id=payment.account_id)
    open_invoices.sort(key=lambda i: i.id.hex not in chosen)  # stable: keeps oldest first
    remaining, paid, allocations = settled, [], {}
    for invoice in open_invoices:
        if remaining <= 0:
            break
        applied = min(remaining, invoice.total_minor - invoice.paid_minor)
        invoice.paid_minor += applied
        remaining -= applied
        allocations[invoice.id.hex] = applied
        if invoice.paid_minor >= invoice.total_minor:
            invoice.status = InvoiceStatus.PAID
            paid.append(invoice.number)
            await emit(
                session,
                payment.account_id,
                "invoice.paid",
                {
                    "invoiceId": encode_global_id("Invoice", invoice.id),
                    "number": invoice.number,
                    "paymentId": encode_global_id("Payment", payment.id),
                },
            )
        session.add(invoice)
    payment.status = PaymentStatus.SUCCEEDED
    payment.allocations = allocations
    if not transfer:
        payment.reference = reference  # as on the ledger and the receipt
    payment.refund_due_minor = payment.amount_minor - settled
    payment.completed_at = utcnow()
    session.add(payment)
    record_activity(
        session,
        account_id=payment.account_id,
        actor=SYSTEM,
        action=ActivityAction.PAYMENT_RECEIVED,
        target=reference,
    )
    refund = _money(payment.refund_due_minor, payment.currency)
    if payment.refund_due_minor:
        logger.warning("payment %s: %s more than owed, to be refunded", reference, refund)
        record_activity(
            session,
            account_id=payment.account_id,
            actor=SYSTEM,
            action=ActivityAction.PAYMENT_REFUND_DUE,
            target=f"{reference} {refund}",
        )
    await emit(
        session,
        payment.account_id,
        "payment.succeeded",
        {
            **_payment_data(payment),
            "settledAmount": str(from_minor(settled, payment.currency)),
            "refundDueAmount": str(from_minor(payment.refund_due_minor, payment.currency)),
            "invoicesPaid": paid,
        },
    )
    account = await session.get(Account, payment.account_id)
    assert account is not None
    await notify_account(
        session,
        settings,
        account=account,
        category=EmailCategory.INVOICES,
        template="payment_receipt",
        reference=reference,
        amount=_money(payment.amount_minor, payment.currency),
        invoices=paid,
        refund=refund if payment.refund_due_minor else None,
    )


def _payment_data(payment: Payment) -> dict[str, object]:
    """What every payment event says of the payment (webhooks)."""
    return {
        "paymentId": encode_global_id("Payment", payment.id),
        "reference": payment.reference,
        "status": payment.status.value,
        "amount": str(from_minor(payment.amount_minor, payment.currency)),
        "currency": payment.currency,
    }


def _given_back(allocations: dict[str, int], total: int) -> dict[str, int]:
    """How much of each invoice a refund of `total` gives back: the invoices
    the payment paid last are opened first."""
    given, left = {}, total
    for hex_id, applied in reversed(allocations.items()):
        given[hex_id] = min(applied, max(left, 0))
        left -= given[hex_id]
    return given


async def _reverse(
    session: AsyncSession, settings: Settings, payment: Payment, event: ProviderEvent
) -> str:
    """A refund (of all or part, `event.amount_minor` being what has been given
    back so far in all) or a chargeback (all of it): a REFUND movement gives
    back what is new of what the payment put on the ledger, the invoices it
    paid open again for as much, and the account's billing contacts are told.
    What was never posted (`refund_due_minor`) is given back first."""
    if payment.status is PaymentStatus.REFUNDED:
        return "already refunded"
    chargeback = event.outcome is EventOutcome.CHARGED_BACK
    settled = payment.amount_minor - payment.refund_due_minor
    reached = settled if chargeback else event.amount_minor - payment.refund_due_minor
    target = min(max(reached, 0), settled)
    new = target - payment.refunded_minor
    if payment.status is not PaymentStatus.SUCCEEDED:
        payment.status = PaymentStatus.REFUNDED  # never reached the ledger
        new = 0
    elif new <= 0 and target < settled:
        return "already refunded"
    elif new > 0:
        await lock_account(session, payment.account_id)
        await post_movement(
            session,
            account_id=payment.account_id,
            kind=MovementKind.REFUND,
            amount_minor=new,
            currency=payment.currency,
            reference=ledger_reference(payment),
            description="Contracargo" if chargeback else "Reembolso",
        )
        allocations = payment.allocations or {}
        before = _given_back(allocations, payment.refunded_minor)
        after = _given_back(allocations, target)
        for invoice in await models.invoices_for_update(
            session, [uuid.UUID(hex_id) for hex_id in allocations]
        ):
            reopened = after[invoice.id.hex] - before[invoice.id.hex]
            invoice.paid_minor = max(invoice.paid_minor - reopened, 0)
            if invoice.status is InvoiceStatus.PAID and invoice.paid_minor < invoice.total_minor:
                invoice.status = InvoiceStatus.OPEN
            session.add(invoice)
    if payment.status is PaymentStatus.SUCCEEDED:
        payment.refunded_minor = target
        if target >= settled:
            payment.status = PaymentStatus.REFUNDED
    session.add(payment)
    outcome = event.outcome.value if payment.status is PaymentStatus.REFUNDED else "partial refund"
    record_activity(
        session,
        account_id=payment.account_id,
        actor=SYSTEM,
        action=ActivityAction.PAYMENT_REFUNDED,
        target=f"{payment.reference or payment.id} {outcome} {_money(new, payment.currency)}",
    )
    if new > 0:
        await emit(
            session,
            payment.account_id,
            "payment.refunded",
            {
                **_payment_data(payment),
                "refundedNow": str(from_minor(new, payment.currency)),
                "refundedTotal": str(from_minor(payment.refunded_minor, payment.currency)),
                "chargeback": chargeback,
            },
        )
        account = await session.get(Account, payment.account_id)
        assert account is not None
        await notify_account(
            session,
            settings,
            account=account,
            category=EmailCategory.INVOICES,
            template="payment_refunded",
            reference=ledger_reference(payment),
            amount=_money(new, payment.currency),
            chargeback=chargeback,
        )
    logger.warning("payment %s %s", payment.reference or payment.id, outcome)
    return event.outcome.value if payment.status is PaymentStatus.REFUNDED else "partly refunded"
