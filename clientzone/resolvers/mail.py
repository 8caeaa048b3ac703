"""The emails an account received: listed and read with EMAILS_VIEW."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clientzone.auth.context import Context
from clientzone.models import mail
from clientzone.models.accounts import Account
from clientzone.models.contacts import EmailCategory
from clientzone.models.pagination import Page, PageRequest


@dataclass(frozen=True)
class EmailFilter:
    category: EmailCategory | None = None
    sent_from: datetime | None = None
    sent_to: datetime | None = None
    search: str | None = None


async def account_emails(
    ctx: Context, account: Account, page: PageRequest, email_filter: EmailFilter
) -> Page[mail.EmailMessage]:
    async with ctx.db.read() as session:
        return await mail.account_emails_page(
            session,
            account_id=account.id,
            page=page,
            category=email_filter.category,
            sent_from=email_filter.sent_from,
            sent_to=email_filter.sent_to,
            search=email_filter.search,
        )


async def account_emails_count(ctx: Context, account: Account, email_filter: EmailFilter) -> int:
    async with ctx.db.read() as session:
        return await mail.count_account_emails(
            session,
            account_id=account.id,
            category=email_filter.category,
            sent_from=email_filter.sent_from,
            sent_to=email_filter.sent_to,
            search=email_filter.search,
        )
