"""The current account (cuenta corriente): movements with running balances."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.files.documents import StatementData
from clientzone.models import ledger as models
from clientzone.schema.info import Info
from clientzone.schema.invoices import Invoice
from clientzone.schema.node import Node
from clientzone.schema.scalars import Money

strawberry.enum(
    models.MovementKind,
    description="INVOICE and REFUND are debits; PAYMENT and CREDIT_NOTE credits; "
    "ADJUSTMENT either.",
)


@strawberry.type(description="One movement of the current account; never changed once posted.")
class LedgerEntry(Node):
    posted_at: datetime
    kind: models.MovementKind
    reference: str = strawberry.field(description="Invoice, payment or note number.")
    description: str
    amount: Money = strawberry.field(
        description="Positive: the customer owes more; negative: a credit."
    )
    balance: Money = strawberry.field(description="The balance right after this movement.")
    row: strawberry.Private[models.LedgerEntry]

    @strawberry.field(
        description="For an INVOICE movement, the invoice its reference names (with its "
        "documents), when the portal has it; batched for a whole page."
    )
    async def invoice(self, info: Info) -> Invoice | None:
        if self.row.kind is not models.MovementKind.INVOICE:
            return None
        key = (self.row.account_id, self.row.reference)
        found = await info.context.loaders.invoice_by_account_number.load(key)
        return Invoice.from_row(found) if found else None

    @classmethod
    def from_row(cls, row: models.LedgerEntry) -> LedgerEntry:
        return cls(
            row=row,
            id=strawberry.ID(encode_global_id("LedgerEntry", row.id)),
            posted_at=row.posted_at,
            kind=row.kind,
            reference=row.reference,
            description=row.description,
            amount=Money.from_minor(row.amount_minor, row.currency),
            balance=Money.from_minor(row.balance_minor, row.currency),
        )


@strawberry.type(description="Estado de cuenta: a period of the current account.")
class Statement:
    from_: date = strawberry.field(name="from")
    to: date
    opening_balance: Money
    total_debits: Money
    total_credits: Money
    closing_balance: Money = strawberry.field(
        description="Opening balance + debits + credits: the balance after the last movement."
    )
    movements: list[LedgerEntry]
    csv_url: str = strawberry.field(description="Signed link, valid 10 minutes.")
    pdf_url: str = strawberry.field(description="Signed link, valid 10 minutes.")

    @classmethod
    def of(cls, data: StatementData, links: dict[str, str]) -> Statement:
        currency = data.account.currency
        return cls(
            from_=data.since,
            to=data.until,
            opening_balance=Money.from_minor(data.opening_minor, currency),
            total_debits=Money.from_minor(data.debits_minor, currency),
            total_credits=Money.from_minor(data.credits_minor, currency),
            closing_balance=Money.from_minor(data.closing_minor, currency),
            movements=[LedgerEntry.from_row(m) for m in data.movements],
            csv_url=links["csv"],
            pdf_url=links["pdf"],
        )
