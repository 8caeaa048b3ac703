"""`GET /documents/<token>`: the file behind a signed link.

The token says what and for whom (clientzone.core.signed_links); the permission is
checked again now: the person must still be active and hold INVOICES_VIEW
(invoices, statements) or CASES_VIEW (case attachments) on the file's
account. A bad, expired or foreign link is 404, exactly like a missing file;
a person who has lost the permission gets 403.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date

import anyio
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clientzone.brands import brand_of
from clientzone.config import Settings
from clientzone.core import signed_links
from clientzone.core.i18n import negotiate_locale
from clientzone.db import Database
from clientzone.files import case_files, documents
from clientzone.models import cases, invoices, ledger, users
from clientzone.models.accounts import Account
from clientzone.models.memberships import Permission, grants_for_accounts
from clientzone.models.users import Locale, UserStatus
from clientzone.resolvers.documents import MAX_STATEMENT_DAYS

PDF = "application/pdf"
File = tuple[bytes, str, str]  # content, content type, file name
Producer = Callable[[], Awaitable[File]]


class _Missing(Exception):
    pass


def document_endpoint(
    database: Database, settings: Settings
) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        try:
            claims = signed_links.verify(
                settings.key(signed_links.KEY_PURPOSE), request.path_params["token"]
            )
            async with database.session() as session:
                user = await users.user_by_id(session, claims.user_id)
                if user is None or user.status is not UserStatus.ACTIVE:
                    raise _Missing
                locale = negotiate_locale(request.headers.get("accept-language")) or user.locale
                account_id, produce = await _locate(session, claims, settings, locale)
                needed = (
                    Permission.CASES_VIEW
                    if claims.kind == "case-attachment"
                    else Permission.INVOICES_VIEW
                )
                grants = await grants_for_accounts(
                    session, user_id=user.id, account_ids=[account_id]
                )
                grant = grants.get(account_id)
                if grant is None:
                    raise _Missing
                if needed not in grant.permissions:
                    return JSONResponse({"error": "forbidden"}, status_code=403)
                content, content_type, filename = await produce()
        except (signed_links.BadLink, _Missing, ValueError):
            return JSONResponse({"error": "not found"}, status_code=404)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:120] or "document"
        return Response(
            content,
            media_type=content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{safe}"',
                "Cache-Control": "private, no-store",
            },
        )

    return download


async def _locate(
    session: AsyncSession,
    claims: signed_links.LinkClaims,
    settings: Settings,
    locale: Locale,
) -> tuple[uuid.UUID, Producer]:
    """The account the link's object belongs to, and how to produce the file."""
    if claims.kind == "invoice-document":
        found = await invoices.document_with_invoice(session, claims.object_id)
        if found is None:
            raise _Missing
        document, invoice = found

        async def supplied() -> File:
            return document.content, document.content_type, document.filename

        return invoice.account_id, supplied
    if claims.kind == "case-attachment":
        return await _case_attachment(session, claims.object_id, settings)
    if claims.kind == "invoice-pdf":
        return await _invoice_pdf(session, claims.object_id, settings, locale)
    if claims.kind in ("statement-csv", "statement-pdf"):
        return await _statement(session, claims, settings, locale)
    raise _Missing


async def _invoice_pdf(
    session: AsyncSession, invoice_id: uuid.UUID, settings: Settings, locale: Locale
) -> tuple[uuid.UUID, Producer]:
    account_id = await invoices.account_of_invoice(session, invoice_id)
    invoice = (
        await invoices.invoice_in_account(session, account_id=account_id, invoice_id=invoice_id)
        if account_id
        else None
    )
    account = await session.get(Account, account_id) if account_id else None
    if invoice is None or account is None:
        raise _Missing
    lines = (await invoices.lines_of_invoices(session, [invoice.id])).get(invoice.id, [])
    kind = (await invoices.document_types(session, [invoice.document_type]))[invoice.document_type]
    name = kind.name_en if locale is Locale.EN else kind.name_es
    brand = await brand_of(session, settings, account)

    async def rendered() -> File:
        content = await anyio.to_thread.run_sync(
            lambda: documents.invoice_pdf(
                brand,
                invoice=invoice,
                lines=lines,
                account=account,
                document_type_name=name,
                locale=locale,
            )
        )
        return content, PDF, f"{invoice.number}.pdf"

    return account.id, rendered


async def _statement(
    session: AsyncSession, claims: signed_links.LinkClaims, settings: Settings, locale: Locale
) -> tuple[uuid.UUID, Producer]:
    account = await session.get(Account, claims.object_id)
    if account is None:
        raise _Missing
    since = date.fromisoformat(claims.extra["from"])
    until = date.fromisoformat(claims.extra["to"])
    start, end = documents.statement_period(since, until, MAX_STATEMENT_DAYS)
    opening, movements = await ledger.movements_between(
        session, account_id=account.id, since=start, until=end
    )
    data = documents.StatementData(account, since, until, opening, movements)
    stem = f"{account.number}_{since.isoformat()}_{until.isoformat()}"
    brand = await brand_of(session, settings, account)

    async def produce() -> File:
        if claims.kind == "statement-csv":
            return documents.statement_csv(data, locale), "text/csv; charset=utf-8", stem + ".csv"
        content = await anyio.to_thread.run_sync(
            lambda: documents.statement_pdf(brand, data, locale)
        )
        return content, PDF, stem + ".pdf"

    return account.id, produce


async def _case_attachment(
    session: AsyncSession, attachment_id: uuid.UUID, settings: Settings
) -> tuple[uuid.UUID, Producer]:
    found = await cases.attachment_with_case(session, attachment_id)
    if found is None:
        raise _Missing
    attachment, case = found

    async def stored() -> File:
        content = await case_files.load(session, settings, attachment.sha256)
        if content is None:
            raise _Missing
        kind = attachment.content_type
        return (
            content,
            kind + ("; charset=utf-8" if kind == "text/plain" else ""),
            attachment.filename,
        )

    return case.account_id, stored
