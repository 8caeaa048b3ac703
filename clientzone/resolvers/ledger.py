"""The current account: balance, movements and the consolidated balance of a
parent with its linked accounts (INVOICES_VIEW)."""

from __future__ import annotations

import uuid
from collections import defaultdict

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.models import ledger
from clientzone.models.accounts import Account
from clientzone.models.ledger import LedgerEntry
from clientzone.models.memberships import Permission, reachable_linked_account_ids
from clientzone.models.pagination import Page, PageRequest


async def balance(ctx: Context, account: Account) -> int:
    """Minor units in the account's currency; positive means the customer owes."""
    return await ctx.loaders.balance_by_account.load(account.id) or 0


async def movements(ctx: Context, account: Account, page: PageRequest) -> Page[LedgerEntry]:
    async with ctx.db.read() as session:
        return await ledger.ledger_page(session, account_id=account.id, page=page)


async def movements_count(ctx: Context, account: Account) -> int:
    async with ctx.db.read() as session:
        return await ledger.count_movements(session, account_id=account.id)


async def consolidated_balance(ctx: Context, account: Account) -> list[tuple[int, str]]:
    """The account's balance plus its linked accounts' (those where the viewer
    may see invoices), one total per currency: currencies are never mixed.
    An API client reaches no linked account (its total is the account's own)
    unless it was allowed them: then those its creator reaches."""
    children: list[uuid.UUID] = []
    user_id: uuid.UUID | None = None
    if ctx.api_client is None:
        user_id = require_viewer(ctx).user.id
    elif ctx.api_client.linked is not None:
        user_id = ctx.api_client.linked.creator_id
    if user_id is not None:
        async with ctx.db.read() as session:
            children = list(
                await reachable_linked_account_ids(session, account_id=account.id, user_id=user_id)
            )
    grants = await ctx.loaders.grant_by_account.load_many(children)
    visible = [account.id] + [
        child
        for child, grant in zip(children, grants, strict=True)
        if grant is not None and Permission.INVOICES_VIEW in grant.permissions
    ]
    rows = await ctx.loaders.account_by_id.load_many(visible)
    amounts = await ctx.loaders.balance_by_account.load_many(visible)
    totals: dict[str, int] = defaultdict(int)
    totals[account.currency] += 0
    for row, amount in zip(rows, amounts, strict=True):
        if row is not None:
            totals[row.currency] += amount or 0
    return sorted(((amount, currency) for currency, amount in totals.items()), key=lambda t: t[1])
