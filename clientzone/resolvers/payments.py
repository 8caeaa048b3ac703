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
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone import payment_providers
from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.errors import NotFound
from clientzone.file_types import sniff
from clientzone.i18n import translate
from clientzone.mailers.outbox import notify_account
from clientzone.models import payments as models
from clientzone.models.accounts import Account
from clientzone.models.activity import SYSTEM, ActivityAction, record_activity
from clientzone.models.base import utcnow
from clientzone.models.contacts import EmailCategory
from clientzone.models.invoices import Invoice, InvoiceStatus
from clientzone.models.ledger import MovementKind, post_movement
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.payments import Payment, PaymentEvent, PaymentKind, PaymentStatus
from clientzone.money import from_minor, minor_unit_exponent, to_minor
from clientzone.payment_providers import EventOutcome, ProviderEvent
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


def _valid_amount(amount: Decimal, currency: str) -> int | None:
    exponent = minor_unit_exponent(currency)
    if not amount.is_finite() or amount <= 0 or amount != round(amount, exponent):
        return None
    return to_minor(amount, currency)


async def start_payment(
    ctx: Context, account: Account, invoice_ids: list[uuid.UUID] | None, amount: Decimal | None
) -> Outcome[tuple[Payment, str], StartPaymentErrorCode]:
    code = StartPaymentErrorCode
    errors: FieldErrors[StartPaymentErrorCode] = FieldErrors()
    if not invoice_ids and amount is None:
        errors.add("invoiceIds", code.REQUIRED, "payment.required")
        return Outcome(errors=errors.errors)
    chosen: list[Invoice] = []
    if invoice_ids:
        async with ctx.db.read() as session:
            found = await session.execute(
                select(Invoice).where(
                    col(Invoice.account_id) == account.id,
                    col(Invoice.id).in_(invoice_ids),
                    col(Invoice.status) != InvoiceStatus.DRAFT,
                )
            )
            chosen = list(found.scalars())
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
        amount_minor = sum(i.total_minor - i.paid_minor for i in chosen)
    else:
        assert amount is not None
        valid = _valid_amount(amount, account.currency)
        if valid is None:
            errors.add("amount", code.INVALID_AMOUNT, "payment.invalid_amount")
        amount_minor = valid or 0
    if errors:
        return Outcome(errors=errors.errors)
    options = await payment_options(ctx, account)
    online = not options.online_reasons
    in_advance = not options.advance_reasons and not invoice_ids
    if not (online or in_advance):
        # The reasons in words (the codes are in Account.paymentOptions).
        reasons = " ".join(
            translate(f"payment.{r.value.lower()}", ctx.locale) for r in options.online_reasons
        )
        errors.add(None, code.NOT_AVAILABLE, "payment.not_available", reasons=reasons)
    elif online and not in_advance and amount_minor > options.balance_minor:
        errors.add("amount", code.AMOUNT_ABOVE_BALANCE, "payment.above_balance")
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        payment = Payment(
            account_id=account.id,
            kind=PaymentKind.ONLINE,
            provider=ctx.settings.payment_provider,
            status=PaymentStatus.PENDING,
            amount_minor=amount_minor,
            currency=account.currency,
            invoice_ids=[i.id.hex for i in chosen],
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
    return Outcome(value=(payment, payment_providers.checkout_url(ctx.settings, payment.id)))


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
            if payment.status is not PaymentStatus.PENDING:
                return "already settled"
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
            await _settle(session, settings, payment)
            return "approved"
    except (_Duplicate, IntegrityError):
        return "duplicate"


async def _settle(session: AsyncSession, settings: Settings, payment: Payment) -> None:
    """Ledger credit, invoices paid oldest first (the chosen ones first), activity
    and receipt, in the caller's transaction."""
    # The random end of the id: payments made in the same moment differ.
    reference = f"PAY-{payment.id.hex[-10:].upper()}"
    await post_movement(
        session,
        account_id=payment.account_id,
        kind=MovementKind.PAYMENT,
        amount_minor=-payment.amount_minor,
        currency=payment.currency,
        reference=reference,
        description="Pago en línea",
    )
    chosen = set(payment.invoice_ids)
    open_invoices = await models.open_invoices_oldest_first(session, account_id=payment.account_id)
    open_invoices.sort(key=lambda i: i.id.hex not in chosen)  # stable: keeps oldest first
    remaining, settled = payment.amount_minor, []
    for invoice in open_invoices:
        if remaining <= 0:
            break
        applied = min(remaining, invoice.total_minor - invoice.paid_minor)
        invoice.paid_minor += applied
        remaining -= applied
        if invoice.paid_minor >= invoice.total_minor:
            invoice.status = InvoiceStatus.PAID
            settled.append(invoice.number)
        session.add(invoice)
    payment.status = PaymentStatus.SUCCEEDED
    payment.reference = reference  # as on the ledger and the receipt
    payment.completed_at = utcnow()
    session.add(payment)
    record_activity(
        session,
        account_id=payment.account_id,
        actor=SYSTEM,
        action=ActivityAction.PAYMENT_RECEIVED,
        target=reference,
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
        amount=f"{from_minor(payment.amount_minor, payment.currency):,} {payment.currency}",
        invoices=settled,
    )
