"""Invoice documents and statements: what they are and their signed links."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.core import signed_links
from clientzone.core.errors import BadUserInput
from clientzone.files.documents import StatementData, statement_period
from clientzone.models import ledger
from clientzone.models.accounts import Account
from clientzone.models.invoices import DocumentKind, Invoice

MAX_STATEMENT_DAYS = 366


@dataclass(frozen=True)
class DocumentLink:
    kind: DocumentKind
    filename: str
    content_type: str
    size: int | None  # None: rendered when downloaded
    url: str


def link(ctx: Context, kind: str, object_id: uuid.UUID, extra: dict[str, str] | None = None) -> str:
    token = signed_links.sign(
        ctx.settings.key(signed_links.KEY_PURPOSE),
        kind=kind,
        object_id=object_id,
        user_id=require_viewer(ctx).user.id,
        extra=extra,
    )
    return f"{ctx.settings.public_base_url}/documents/{token}"


async def invoice_documents(ctx: Context, invoice: Invoice) -> list[DocumentLink]:
    """The supplied documents, plus a PDF rendered from the data when none came."""
    supplied = await ctx.loaders.documents_by_invoice.load(invoice.id) or []
    links = [
        DocumentLink(
            d.kind, d.filename, d.content_type, d.size, link(ctx, "invoice-document", d.id)
        )
        for d in supplied
    ]
    if not any(d.kind is DocumentKind.PDF for d in supplied):
        links.insert(
            0,
            DocumentLink(
                DocumentKind.PDF,
                f"{invoice.number}.pdf",
                "application/pdf",
                None,
                link(ctx, "invoice-pdf", invoice.id),
            ),
        )
    return links


async def statement(ctx: Context, account: Account, since: date, until: date) -> StatementData:
    """Opening balance, the period's movements (both dates included), totals."""
    try:
        start, end = statement_period(since, until, MAX_STATEMENT_DAYS)
    except ValueError as exc:
        raise BadUserInput(str(exc), days=MAX_STATEMENT_DAYS) from None
    async with ctx.db.read() as session:
        opening, movements = await ledger.movements_between(
            session, account_id=account.id, since=start, until=end
        )
    return StatementData(account, since, until, opening, movements)


def statement_links(ctx: Context, account: Account, since: date, until: date) -> dict[str, str]:
    period = {"from": since.isoformat(), "to": until.isoformat()}
    return {
        "csv": link(ctx, "statement-csv", account.id, period),
        "pdf": link(ctx, "statement-pdf", account.id, period),
    }
