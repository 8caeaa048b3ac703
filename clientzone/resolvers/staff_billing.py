"""The billing desk (BILLING_AGENT and up): the bank transfers customers
reported, confirmed (posted to the ledger like any payment, receipt
included) or rejected (the customer is told why); online payments refunded
through their provider; an account's own online-payment limit; which document
types may be paid online. Every action is audited and says what was wrong
with its input in userErrors.

A transfer is decided once: the account's money lock is taken first (on
SQLite the writer's lock, on PostgreSQL the account row), then the payment
is read again, so two agents confirming at the same moment post it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.auth.context import Context
from clientzone.auth.staff import StaffViewer, require_staff
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.core.money import from_minor, minor_unit_exponent
from clientzone.mailers.outbox import notify_account
from clientzone.models import payments as models
from clientzone.models.accounts import Account, lock_account, update_account
from clientzone.models.activity import ActivityAction, record_activity
from clientzone.models.base import utcnow
from clientzone.models.contacts import EmailCategory
from clientzone.models.invoices import DocumentType
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.payments import Payment, PaymentKind, PaymentStatus
from clientzone.models.staff import StaffAction, StaffRole
from clientzone.payments import operations
from clientzone.payments.gateway import ProviderError
from clientzone.resolvers.activity import actor
from clientzone.resolvers.payments import ledger_reference, settle
from clientzone.resolvers.staff_backoffice import audit_staff_action
from clientzone.resolvers.validation import FieldErrors, Outcome

REASON_MAX = 500
# No account pays online more than this in one go (minor units fit in int64).
LIMIT_MAX = Decimal("1000000000")


class StaffBillingErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    NOT_A_TRANSFER = "NOT_A_TRANSFER"
    ALREADY_DECIDED = "ALREADY_DECIDED"
    NOT_REFUNDABLE = "NOT_REFUNDABLE"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    NO_SUCH_DOCUMENT_TYPE = "NO_SUCH_DOCUMENT_TYPE"


PaymentOutcome = Outcome[Payment, StaffBillingErrorCode]


async def reported_transfers(ctx: Context, page: PageRequest) -> Page[Payment]:
    """Every account's transfers waiting for a decision, oldest first."""
    await require_staff(ctx, StaffRole.BILLING_AGENT)
    async with ctx.db.read() as session:
        return await models.reported_transfers_page(session, page=page)


async def reported_transfers_count(ctx: Context) -> int:
    async with ctx.db.read() as session:
        return await models.count_reported_transfers(session)


def _payment_id(global_id: str) -> uuid.UUID:
    payment_id = decode_id_of("Payment", global_id)
    if payment_id is None:
        raise NotFound
    return payment_id


async def _locked_transfer(
    session: AsyncSession, payment_id: uuid.UUID, errors: FieldErrors[StaffBillingErrorCode]
) -> Payment | None:
    """Inside the caller's transaction: the transfer report, read after taking
    its account's money lock; None (and the error) when it cannot be decided."""
    account_id = await models.account_of_payment(session, payment_id)
    if account_id is None:
        raise NotFound
    await lock_account(session, account_id)
    payment = await models.payment_for_update(session, payment_id)
    assert payment is not None  # payments are never deleted but with their account
    if payment.kind is not PaymentKind.TRANSFER_REPORT:
        errors.add("paymentId", StaffBillingErrorCode.NOT_A_TRANSFER, "staff.not_a_transfer")
    elif payment.status is not PaymentStatus.REPORTED:
        errors.add("paymentId", StaffBillingErrorCode.ALREADY_DECIDED, "staff.already_decided")
    return None if errors else payment


def _note(errors: FieldErrors[StaffBillingErrorCode], field: str, value: str | None) -> str | None:
    """A reason or note: trimmed; blank (when given) or too long is an error."""
    code = StaffBillingErrorCode
    return errors.text(
        field, value, maximum=REASON_MAX, required=code.REQUIRED, too_long=code.TOO_LONG
    )


Decision = Callable[[AsyncSession, Payment, Account, str | None], Awaitable[None]]


async def _decide(
    ctx: Context,
    payment_global_id: str,
    field: str,
    text: str | None,
    action: StaffAction,
    decision: Decision,
) -> PaymentOutcome:
    """Confirm or reject a transfer report: one transaction, audited."""
    staff = await require_staff(ctx, StaffRole.BILLING_AGENT)
    payment_id = _payment_id(payment_global_id)
    errors: FieldErrors[StaffBillingErrorCode] = FieldErrors()
    cleaned = _note(errors, field, text)
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        payment = await _locked_transfer(session, payment_id, errors)
        if payment is None:
            return Outcome(errors=errors.errors)
        account = await session.get(Account, payment.account_id)
        assert account is not None
        await decision(session, payment, account, cleaned)
        _audit(ctx, session, staff, action, payment, account, cleaned)
    return Outcome(value=payment)


async def confirm_transfer(
    ctx: Context, payment_global_id: str, note: str | None
) -> PaymentOutcome:
    """The money is in the bank: post it, mark invoices paid, send the receipt."""

    async def confirm(session: AsyncSession, payment: Payment, _: Account, __: str | None) -> None:
        await settle(session, ctx.settings, payment)

    return await _decide(
        ctx, payment_global_id, "note", note, StaffAction.TRANSFER_CONFIRMED, confirm
    )


async def reject_transfer(ctx: Context, payment_global_id: str, reason: str) -> PaymentOutcome:
    """No such money arrived (or not as reported): the report is closed as
    FAILED and the account's billing contacts are told why."""

    async def reject(
        session: AsyncSession, payment: Payment, account: Account, why: str | None
    ) -> None:
        payment.status = PaymentStatus.FAILED
        payment.completed_at = utcnow()
        session.add(payment)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.PAYMENT_REJECTED,
            target=payment.reference,
        )
        await notify_account(
            session,
            ctx.settings,
            account=account,
            category=EmailCategory.INVOICES,
            template="transfer_rejected",
            reference=payment.reference,
            amount=f"{from_minor(payment.amount_minor, payment.currency):,} {payment.currency}",
            paid_on=payment.paid_on.isoformat() if payment.paid_on else None,
            reason=why,
        )

    return await _decide(
        ctx, payment_global_id, "reason", reason, StaffAction.TRANSFER_REJECTED, reject
    )


async def refund_payment(
    ctx: Context, payment_global_id: str, reason: str, amount: Decimal | None = None
) -> PaymentOutcome:
    """Give a settled online payment back (all that is left, or `amount` of it)
    through its provider, asked outside any transaction; the reversal posts
    once, whether this or the provider's webhook applies it first."""
    staff = await require_staff(ctx, StaffRole.BILLING_AGENT)
    payment_id = _payment_id(payment_global_id)
    code = StaffBillingErrorCode
    errors: FieldErrors[StaffBillingErrorCode] = FieldErrors()
    cleaned = _note(errors, "reason", reason)
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.db.read() as session:
        payment = await session.get(Payment, payment_id)
    await ctx.db.release()
    if payment is None:
        raise NotFound
    if payment.kind is not PaymentKind.ONLINE or payment.status is not PaymentStatus.SUCCEEDED:
        errors.add("paymentId", code.NOT_REFUNDABLE, "staff.not_refundable")
        return Outcome(errors=errors.errors)
    left = operations.refundable_minor(payment)
    amount_minor = _amount_minor(errors, "amount", amount, payment.currency, maximum=left)
    if errors:
        return Outcome(errors=errors.errors)
    try:
        await operations.refund(ctx.db.database, ctx.settings, payment.id.hex, amount_minor)
    except (operations.PaymentError, ProviderError):
        errors.add("paymentId", code.PROVIDER_UNAVAILABLE, "payment.provider_unavailable")
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        fresh = await session.get(Payment, payment_id, populate_existing=True)
        account = await session.get(Account, payment.account_id)
        assert fresh is not None
        assert account is not None
        _audit(ctx, session, staff, StaffAction.PAYMENT_REFUNDED, fresh, account, cleaned)
    return Outcome(value=fresh)


def _audit(
    ctx: Context,
    session: AsyncSession,
    staff: StaffViewer,
    action: StaffAction,
    payment: Payment,
    account: Account,
    reason: str | None,
) -> None:
    target = f"{account.number} {payment.reference or ledger_reference(payment)}"
    audit_staff_action(
        ctx,
        session,
        staff,
        action,
        target=target[:200],
        account_id=account.id,
        reason=reason,
    )


def _amount_minor(
    errors: FieldErrors[StaffBillingErrorCode],
    field: str,
    amount: Decimal | None,
    currency: str,
    *,
    maximum: int,
) -> int | None:
    """A positive amount in `currency` (at most its minor unit's decimals, at
    most `maximum` minor units) as minor units; None when not given."""
    if amount is None:
        return None
    exponent = minor_unit_exponent(currency)
    if (
        not amount.is_finite()
        or amount <= 0
        or amount.scaleb(exponent) > maximum  # first: quantize overflows on huge ones
        or amount != amount.quantize(Decimal(1).scaleb(-exponent))
    ):
        errors.add(field, StaffBillingErrorCode.INVALID_AMOUNT, "payment.invalid_amount")
        return None
    return int(amount.scaleb(exponent))


async def set_online_payment_limit(
    ctx: Context, account_global_id: str, limit: Decimal | None, reason: str
) -> Outcome[Account, StaffBillingErrorCode]:
    """This account's own limit for paying online (null: its currency's)."""
    staff = await require_staff(ctx, StaffRole.BILLING_AGENT)
    account_id = decode_id_of("Account", account_global_id)
    account = await ctx.loaders.account_by_id.load(account_id) if account_id else None
    if account is None:
        raise NotFound
    errors: FieldErrors[StaffBillingErrorCode] = FieldErrors()
    maximum = int(LIMIT_MAX.scaleb(minor_unit_exponent(account.currency)))
    minor = _amount_minor(errors, "limit", limit, account.currency, maximum=maximum)
    cleaned = _note(errors, "reason", reason)
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        fresh = await update_account(session, account.id, online_payment_limit_minor=minor)
        shown = f"{limit} {account.currency}" if limit is not None else "default"
        audit_staff_action(
            ctx,
            session,
            staff,
            StaffAction.PAYMENT_LIMIT_CHANGED,
            target=f"{account.number} {shown}",
            account_id=account.id,
            reason=cleaned,
        )
    return Outcome(value=fresh)


async def set_document_type_online_payment(
    ctx: Context, code: str, allowed: bool, reason: str
) -> Outcome[DocumentType, StaffBillingErrorCode]:
    """Whether invoices of this document type may be paid online (the portal's
    rule reads the most recent invoice's type)."""
    staff = await require_staff(ctx, StaffRole.BILLING_AGENT)
    errors: FieldErrors[StaffBillingErrorCode] = FieldErrors()
    cleaned = _note(errors, "reason", reason)
    wanted = code.strip()[:32]
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        changed = await session.execute(
            update(DocumentType)
            .where(col(DocumentType.code) == wanted)
            .values(allows_online_payment=allowed)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            errors.add(
                "code", StaffBillingErrorCode.NO_SUCH_DOCUMENT_TYPE, "staff.no_such_document_type"
            )
            return Outcome(errors=errors.errors)
        found = (
            await session.execute(select(DocumentType).where(col(DocumentType.code) == wanted))
        ).scalar_one()
        audit_staff_action(
            ctx,
            session,
            staff,
            StaffAction.DOCUMENT_TYPE_CHANGED,
            target=f"{wanted} {'online' if allowed else 'offline'}",
            reason=cleaned,
        )
    return Outcome(value=found)
