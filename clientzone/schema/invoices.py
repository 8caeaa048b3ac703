"""Invoices as the customer sees them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.core.money import scaled, to_minor
from clientzone.models import invoices as models
from clientzone.models.base import today
from clientzone.models.users import Locale
from clientzone.resolvers import documents as document_resolvers
from clientzone.resolvers import invoices as resolvers
from clientzone.schema.cost import ListSize
from clientzone.schema.info import Info
from clientzone.schema.node import Node
from clientzone.schema.scalars import Money

strawberry.enum(
    models.InvoiceStatus,
    description="OVERDUE: OPEN past its due date (derived). DRAFT is never shown.",
)
strawberry.enum(models.InvoiceOrder, description="How to sort invoices; ties by id.")


@strawberry.type(description="Factura A/B, CFDI de ingreso, nota de crédito...")
class DocumentType:
    code: str
    name: str = strawberry.field(description="In the request's language.")
    allows_online_payment: bool


strawberry.enum(models.DocumentKind, description="PDF, or XML (e.g. a CFDI).")


@strawberry.type(description="An electronic document of an invoice, downloadable for 10 minutes.")
class InvoiceDocument:
    kind: models.DocumentKind
    filename: str
    content_type: str
    size: int | None = strawberry.field(description="Bytes; null for a PDF rendered on download.")
    url: str = strawberry.field(
        description="A signed link valid 10 minutes; the permission is checked again on download."
    )


@strawberry.type(description="One line of an invoice.")
class InvoiceLine:
    description: str
    quantity: Decimal
    unit_price: Money
    tax_rate: Decimal = strawberry.field(description="Percent, e.g. 16 for 16%.")
    subtotal: Money
    tax: Money
    total: Money

    @classmethod
    def from_row(cls, row: models.InvoiceLine, currency: str) -> InvoiceLine:
        return cls(
            description=row.description,
            quantity=scaled(row.quantity_milli, 3),
            unit_price=Money.from_minor(row.unit_price_minor, currency),
            tax_rate=scaled(row.tax_rate_bp, 2),
            subtotal=Money.from_minor(row.subtotal_minor, currency),
            tax=Money.from_minor(row.tax_minor, currency),
            total=Money.from_minor(row.total_minor, currency),
        )


@strawberry.type(description="An invoice or credit note issued to the account.")
class Invoice(Node):
    number: str
    issued_on: date
    due_on: date
    currency: str
    status: models.InvoiceStatus
    row: strawberry.Private[models.Invoice]

    @classmethod
    def from_row(cls, row: models.Invoice) -> Invoice:
        return cls(
            id=strawberry.ID(encode_global_id("Invoice", row.id)),
            number=row.number,
            issued_on=row.issued_on,
            due_on=row.due_on,
            currency=row.currency,
            status=row.shown_status(today()),
            row=row,
        )

    # Amounts are built when asked for: a list screen usually shows one of five.
    @strawberry.field
    def subtotal(self) -> Money:
        return Money.from_minor(self.row.subtotal_minor, self.currency)

    @strawberry.field
    def taxes(self) -> Money:
        return Money.from_minor(self.row.tax_minor, self.currency)

    @strawberry.field
    def total(self) -> Money:
        return Money.from_minor(self.row.total_minor, self.currency)

    @strawberry.field
    def amount_paid(self) -> Money:
        return Money.from_minor(self.row.paid_minor, self.currency)

    @strawberry.field
    def balance_due(self) -> Money:
        return Money.from_minor(self.row.total_minor - self.row.paid_minor, self.currency)

    @strawberry.field
    async def document_type(self, info: Info) -> DocumentType:
        found = await resolvers.document_type(info.context, self.row)
        english = info.context.locale is Locale.EN
        return DocumentType(
            code=found.code,
            name=found.name_en if english else found.name_es,
            allows_online_payment=found.allows_online_payment,
        )

    @strawberry.field(
        description="Its PDF (rendered from the data when none was supplied), XML...",
        directives=[ListSize(assumed_size=3)],
    )
    async def documents(self, info: Info) -> list[InvoiceDocument]:
        links = await document_resolvers.invoice_documents(info.context, self.row)
        return [
            InvoiceDocument(
                kind=link.kind,
                filename=link.filename,
                content_type=link.content_type,
                size=link.size,
                url=link.url,
            )
            for link in links
        ]

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await resolvers.lines(info.context, self.row)
        return [InvoiceLine.from_row(line, self.currency) for line in rows]


@strawberry.input(description="Narrow the invoices; dates and totals are inclusive.")
class InvoiceFilterInput:
    status: models.InvoiceStatus | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    due_from: date | None = None
    due_to: date | None = None
    number: str | None = strawberry.field(default=None, description="The exact number.")
    min_total: Decimal | None = strawberry.field(
        default=None, description="In the account's currency."
    )
    max_total: Decimal | None = None

    def to_filter(self, currency: str) -> models.InvoiceFilter:
        return models.InvoiceFilter(
            status=self.status,
            issued_from=self.issued_from,
            issued_to=self.issued_to,
            due_from=self.due_from,
            due_to=self.due_to,
            number=self.number,
            min_total_minor=to_minor(self.min_total, currency)
            if self.min_total is not None
            else None,
            max_total_minor=to_minor(self.max_total, currency)
            if self.max_total is not None
            else None,
        )
