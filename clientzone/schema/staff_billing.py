"""The billing desk's mutations (BILLING_AGENT and up); the queue of reported
transfers is `staff.transfers` (schema/staff.py)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from clientzone.models.invoices import DocumentType as DocumentTypeRow
from clientzone.models.users import Locale
from clientzone.resolvers import staff_billing as resolvers
from clientzone.resolvers.staff_billing import StaffBillingErrorCode
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.invoices import DocumentType
from clientzone.schema.payloads import user_errors
from clientzone.schema.payments import Payment
from clientzone.schema.scalars import Money
from clientzone.schema.staff import StaffCustomer

strawberry.enum(StaffBillingErrorCode)


@strawberry.type
class StaffBillingError(UserError):
    code: StaffBillingErrorCode


@strawberry.type
class StaffPaymentPayload:
    payment: Payment | None
    user_errors: list[StaffBillingError]


def _payment_payload(info: Info, outcome: resolvers.PaymentOutcome) -> StaffPaymentPayload:
    return StaffPaymentPayload(
        payment=Payment.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(StaffBillingError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="Confirm a reported transfer: the money is in the bank.")
class StaffConfirmTransferInput:
    payment_id: strawberry.ID
    note: str | None = strawberry.field(
        default=None, description="For the audit log (e.g. the bank statement line)."
    )


async def staff_confirm_transfer(
    info: Info, input: StaffConfirmTransferInput
) -> StaffPaymentPayload:
    outcome = await resolvers.confirm_transfer(info.context, str(input.payment_id), input.note)
    return _payment_payload(info, outcome)


@strawberry.input(description="Reject a reported transfer; the customer is emailed the reason.")
class StaffRejectTransferInput:
    payment_id: strawberry.ID
    reason: str


async def staff_reject_transfer(info: Info, input: StaffRejectTransferInput) -> StaffPaymentPayload:
    outcome = await resolvers.reject_transfer(info.context, str(input.payment_id), input.reason)
    return _payment_payload(info, outcome)


@strawberry.input(description="Give a settled online payment back through its provider.")
class StaffRefundPaymentInput:
    payment_id: strawberry.ID
    reason: str
    amount: Decimal | None = strawberry.field(
        default=None,
        description="Part of it, in its currency; null: all that was not given back yet.",
    )


async def staff_refund_payment(info: Info, input: StaffRefundPaymentInput) -> StaffPaymentPayload:
    outcome = await resolvers.refund_payment(
        info.context, str(input.payment_id), input.reason, input.amount
    )
    return _payment_payload(info, outcome)


@strawberry.input(description="An account's own limit for paying online.")
class StaffSetOnlinePaymentLimitInput:
    account_id: strawberry.ID
    limit: Decimal | None = strawberry.field(
        description="In the account's currency; null: back to the currency's limit."
    )
    reason: str


@strawberry.type
class StaffSetOnlinePaymentLimitPayload:
    account: StaffCustomer | None
    online_payment_limit: Money | None = strawberry.field(
        description="The account's own limit now (null: its currency's applies)."
    )
    user_errors: list[StaffBillingError]


async def staff_set_online_payment_limit(
    info: Info, input: StaffSetOnlinePaymentLimitInput
) -> StaffSetOnlinePaymentLimitPayload:
    outcome = await resolvers.set_online_payment_limit(
        info.context, str(input.account_id), input.limit, input.reason
    )
    account = outcome.value
    limit = account.online_payment_limit_minor if account else None
    return StaffSetOnlinePaymentLimitPayload(
        account=StaffCustomer.from_row(account) if account else None,
        online_payment_limit=Money.from_minor(limit, account.currency)
        if account and limit is not None
        else None,
        user_errors=user_errors(StaffBillingError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="Whether invoices of a document type may be paid online.")
class StaffSetDocumentTypeOnlinePaymentInput:
    code: str
    allows_online_payment: bool
    reason: str


@strawberry.type
class StaffSetDocumentTypeOnlinePaymentPayload:
    document_type: DocumentType | None
    user_errors: list[StaffBillingError]


def _document_type(row: DocumentTypeRow, locale: Locale) -> DocumentType:
    return DocumentType(
        code=row.code,
        name=row.name_en if locale is Locale.EN else row.name_es,
        allows_online_payment=row.allows_online_payment,
    )


async def staff_set_document_type_online_payment(
    info: Info, input: StaffSetDocumentTypeOnlinePaymentInput
) -> StaffSetDocumentTypeOnlinePaymentPayload:
    ctx = info.context
    outcome = await resolvers.set_document_type_online_payment(
        ctx, input.code, input.allows_online_payment, input.reason
    )
    return StaffSetDocumentTypeOnlinePaymentPayload(
        document_type=_document_type(outcome.value, ctx.locale) if outcome.value else None,
        user_errors=user_errors(StaffBillingError, outcome.errors, ctx.locale),
    )
