"""The current account (cuenta corriente): movements with running balances."""

from __future__ import annotations

from datetime import datetime

import strawberry

from clientzone.ids import encode_global_id
from clientzone.models import ledger as models
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

    @classmethod
    def from_row(cls, row: models.LedgerEntry) -> LedgerEntry:
        return cls(
            id=strawberry.ID(encode_global_id("LedgerEntry", row.id)),
            posted_at=row.posted_at,
            kind=row.kind,
            reference=row.reference,
            description=row.description,
            amount=Money.from_minor(row.amount_minor, row.currency),
            balance=Money.from_minor(row.balance_minor, row.currency),
        )
