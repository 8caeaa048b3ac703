"""Invoices a customer sees (INVOICES_VIEW): lists with filters, one by id."""

from __future__ import annotations

import uuid

from clientzone.auth.context import Context
from clientzone.models import invoices as models
from clientzone.models.accounts import Account
from clientzone.models.base import today
from clientzone.models.invoices import Invoice, InvoiceFilter, InvoiceLine, InvoiceOrder
from clientzone.models.pagination import Page, PageRequest


async def invoices(
    ctx: Context,
    account: Account,
    page: PageRequest,
    invoice_filter: InvoiceFilter,
    order: InvoiceOrder,
) -> Page[Invoice]:
    if page.from_start and invoice_filter.is_empty and order is InvoiceOrder.ISSUED_ON_DESC:
        # The usual list: one statement for every account a screen shows.
        return await ctx.loaders.invoices_first_page.load((account.id, page.size))
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
