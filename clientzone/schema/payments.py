"""Paying online and reporting bank transfers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from clientzone.auth.permissions import scoped_account
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.models import payments as models
from clientzone.resolvers import payments as resolvers
from clientzone.resolvers.payments import ReportPaymentErrorCode, StartPaymentErrorCode
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.node import Node
from clientzone.schema.payloads import user_errors
from clientzone.schema.scalars import Money

strawberry.enum(
    models.PaymentKind, description="ONLINE through the provider, or a reported transfer."
)
strawberry.enum(
    models.PaymentStatus,
    description="PENDING at the provider, SUCCEEDED (in the ledger), FAILED, or REPORTED "
    "(a transfer waiting for staff, not in the balance).",
)
strawberry.enum(StartPaymentErrorCode)
strawberry.enum(ReportPaymentErrorCode)


@strawberry.type(description="A payment: online, or a bank transfer reported by the customer.")
class Payment(Node):
    kind: models.PaymentKind
    status: models.PaymentStatus
    amount: Money
    reference: str | None
    paid_on: date | None
    created_at: datetime
    completed_at: datetime | None
    in_advance: bool = strawberry.field(
        description="Paid in advance: the whole amount is a credit in the account's favour."
    )
    refund_due: Money | None = strawberry.field(
        description="Approved for more than the account owed (and not in advance): what is "
        "to be given back. Only the rest reached the ledger. Null when nothing is."
    )
    refunded: Money | None = strawberry.field(
        description="What refunds have given back so far of what reached the ledger (a "
        "partial refund keeps the payment SUCCEEDED; all of it makes it REFUNDED). Null "
        "when nothing."
    )

    @classmethod
    def from_row(cls, row: models.Payment) -> Payment:
        return cls(
            id=strawberry.ID(encode_global_id("Payment", row.id)),
            kind=row.kind,
            status=row.status,
            amount=Money.from_minor(row.amount_minor, row.currency),
            reference=row.reference,
            paid_on=row.paid_on,
            created_at=row.created_at,
            completed_at=row.completed_at,
            in_advance=row.in_advance,
            refund_due=(
                Money.from_minor(row.refund_due_minor, row.currency)
                if row.refund_due_minor
                else None
            ),
            refunded=(
                Money.from_minor(row.refunded_minor, row.currency) if row.refunded_minor else None
            ),
        )


@strawberry.input(description="Pay invoices (their balance due) or an amount.")
class StartPaymentInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    invoice_ids: list[strawberry.ID] | None = None
    amount: Decimal | None = strawberry.field(
        default=None, description="Instead of invoices: an amount in the account's currency."
    )


@strawberry.type
class StartPaymentError(UserError):
    code: StartPaymentErrorCode


@strawberry.type
class StartPaymentPayload:
    payment: Payment | None
    redirect_url: str | None = strawberry.field(
        description="Send the customer here to pay; they come back to the portal."
    )
    user_errors: list[StartPaymentError]


def _invoice_ids(ids: list[strawberry.ID] | None) -> list[uuid.UUID] | None:
    if ids is None:
        return None
    decoded = [decode_id_of("Invoice", str(i)) for i in ids]
    if any(d is None for d in decoded):
        raise NotFound
    return [d for d in decoded if d is not None]


async def start_payment(info: Info, input: StartPaymentInput) -> StartPaymentPayload:
    outcome = await resolvers.start_payment(
        info.context, scoped_account(info), _invoice_ids(input.invoice_ids), input.amount
    )
    started = outcome.value
    return StartPaymentPayload(
        payment=Payment.from_row(started[0]) if started else None,
        redirect_url=started[1] if started else None,
        user_errors=user_errors(StartPaymentError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="A bank transfer you made, for staff to confirm.")
class ReportPaymentInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    amount: Decimal
    paid_on: date
    reference: str = strawberry.field(description="The bank's reference, up to 100 characters.")
    receipt: Upload | None = strawberry.field(
        default=None, description="PDF, PNG or JPEG (multipart request)."
    )


@strawberry.type
class ReportPaymentError(UserError):
    code: ReportPaymentErrorCode


@strawberry.type
class ReportPaymentPayload:
    payment: Payment | None
    user_errors: list[ReportPaymentError]


async def report_payment(info: Info, input: ReportPaymentInput) -> ReportPaymentPayload:
    receipt = None
    if input.receipt is not None and not isinstance(input.receipt, UploadFile):
        receipt = ("receipt", b"")  # not a file part: refused as not a PDF, PNG or JPEG
    elif input.receipt is not None:
        upload: UploadFile = input.receipt
        limit = info.context.settings.max_receipt_bytes
        try:
            receipt = (str(upload.filename or "receipt"), await upload.read(limit + 1))
        finally:
            await upload.close()
    outcome = await resolvers.report_payment(
        info.context,
        scoped_account(info),
        amount=input.amount,
        paid_on=input.paid_on,
        reference=input.reference,
        receipt=receipt,
        today=datetime.now(UTC).date(),
    )
    return ReportPaymentPayload(
        payment=Payment.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(ReportPaymentError, outcome.errors, info.context.locale),
    )
