"""The emails an account received: listed and read with EMAILS_VIEW."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from clientzone.auth.access import require_permission
from clientzone.auth.context import Context
from clientzone.errors import NotFound
from clientzone.models import mail
from clientzone.models.contacts import EmailCategory
from clientzone.models.memberships import Permission
from clientzone.models.pagination import Page, PageRequest


@dataclass(frozen=True)
class EmailFilter:
    category: EmailCategory | None = None
    sent_from: datetime | None = None
    sent_to: datetime | None = None


async def account_emails(
    ctx: Context, account_id: uuid.UUID, page: PageRequest, email_filter: EmailFilter
) -> Page[mail.EmailMessage]:
    await require_permission(ctx, account_id, Permission.EMAILS_VIEW)
    async with ctx.db.read() as session:
        return await mail.account_emails_page(
            session,
            account_id=account_id,
            page=page,
            category=email_filter.category,
            sent_from=email_filter.sent_from,
            sent_to=email_filter.sent_to,
        )


async def account_emails_count(
    ctx: Context, account_id: uuid.UUID, email_filter: EmailFilter
) -> int:
    await require_permission(ctx, account_id, Permission.EMAILS_VIEW)
    async with ctx.db.read() as session:
        return await mail.count_account_emails(
            session,
            account_id=account_id,
            category=email_filter.category,
            sent_from=email_filter.sent_from,
            sent_to=email_filter.sent_to,
        )


async def account_email(ctx: Context, email_id: uuid.UUID) -> mail.EmailMessage:
    async with ctx.db.read() as session:
        account_id = await mail.account_of_email(session, email_id)
    if account_id is None:
        raise NotFound
    await require_permission(ctx, account_id, Permission.EMAILS_VIEW)
    async with ctx.db.read() as session:
        found = await mail.account_email(session, account_id=account_id, email_id=email_id)
    if found is None:
        raise NotFound
    return found
