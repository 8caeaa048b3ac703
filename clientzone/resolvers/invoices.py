"""Invoices a customer sees (INVOICES_VIEW): lists with filters, one by id."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from clientzone.auth.context import Context
from clientzone.models import invoices as models
from clientzone.models.accounts import Account
from clientzone.models.invoices import Invoice, InvoiceFilter, InvoiceLine, InvoiceOrder
from clientzone.models.pagination import Page, PageRequest


def today() -> date:
    """Due dates are compared with today's date in UTC."""
    return datetime.now(UTC).date()


async def invoices(
    ctx: Context,
    account: Account,
    page: PageRequest,
    invoice_filter: InvoiceFilter,
    order: InvoiceOrder,
) -> Page[Invoice]:
    async with ctx.db.read() as session:
        return await models.invoices_page(
            session,
            account_id=account.id,
            page=page,
            invoice_filter=invoice_filter,
            order=order,
            today=today(),
        )


async def invoices_count(ctx: Context, account: Account, invoice_filter: InvoiceFilter) -> int:
    async with ctx.db.read() as session:
        return await models.count_invoices(
            session, account_id=account.id, invoice_filter=invoice_filter, today=today()
        )


async def lines(ctx: Context, invoice: Invoice) -> list[InvoiceLine]:
    return await ctx.loaders.lines_by_invoice.load(invoice.id) or []


async def document_type(ctx: Context, invoice: Invoice) -> models.DocumentType:
    found = await ctx.loaders.document_type.load(invoice.document_type)
    assert found is not None, "a foreign key keeps every invoice's type"
    return found


async def account_of_invoice(ctx: Context, invoice_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await models.account_of_invoice(session, invoice_id)
