"""Accounts the viewer reaches: by id, the active one, parents and linked accounts."""

from __future__ import annotations

import uuid

from clientzone.auth.access import active_grant, grant_on, reachable_account, require_viewer
from clientzone.auth.context import Context
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.models.accounts import Account
from clientzone.models.memberships import Grant, count_linked_accounts, linked_accounts_page
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.sessions import set_active_account


async def account(ctx: Context, global_id: str | None) -> tuple[Account, Grant] | None:
    """The account with that ID, or the active account when no ID is given."""
    if global_id is None:
        grant = await active_grant(ctx)
        return None if grant is None else await reachable_account(ctx, grant.account_id)
    account_id = decode_id_of("Account", global_id)
    if account_id is None:
        raise NotFound
    return await reachable_account(ctx, account_id)


async def parent(ctx: Context, child: Account) -> Account | None:
    """The parent account, when the viewer reaches it too."""
    if child.parent_id is None or await grant_on(ctx, child.parent_id) is None:
        return None
    return await ctx.loaders.account_by_id.load(child.parent_id)


async def linked_accounts(
    ctx: Context, parent_account: Account, page: PageRequest
) -> Page[Account]:
    """Linked accounts the viewer reaches (all of them for the parent's owner).

    A first page (no cursor) comes from a loader: listed under every account of
    a list, it still costs one statement. An API client reaches none, unless it
    was allowed its account's linked accounts: then those its creator reaches."""
    user_id = _lister(ctx)
    if user_id is None:
        return Page(rows=[], keys=[], has_next_page=False, has_previous_page=False)
    if page.from_start:
        return await ctx.loaders.linked_accounts_first_page.load((parent_account.id, page.size))
    async with ctx.db.read() as session:
        return await linked_accounts_page(
            session, account_id=parent_account.id, user_id=user_id, page=page
        )


async def linked_accounts_count(ctx: Context, parent_account: Account) -> int:
    user_id = _lister(ctx)
    if user_id is None:
        return 0
    async with ctx.db.read() as session:
        return await count_linked_accounts(session, account_id=parent_account.id, user_id=user_id)


def _lister(ctx: Context) -> uuid.UUID | None:
    """Whose reach lists linked accounts: the viewer's, or the creator's of an
    API client allowed linked accounts."""
    if ctx.viewer is not None:
        return ctx.viewer.user.id
    linked = ctx.api_client.linked if ctx.api_client is not None else None
    return linked.creator_id if linked is not None else None


async def switch_account(ctx: Context, target: Account) -> Account:
    """Remember `target` as this session's active account (until the next switch)."""
    viewer = require_viewer(ctx)
    async with ctx.transaction() as session:
        await set_active_account(session, session_id=viewer.session.id, account_id=target.id)
    viewer.session.active_account_id = target.id
    ctx.active_grant_known = False
    return target
