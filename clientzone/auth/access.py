"""Which accounts the viewer reaches, and which one is active.

Another account's object is NOT_FOUND, never a different error: callers cannot
tell "exists but not yours" from "does not exist".
"""

from __future__ import annotations

import uuid

from clientzone.auth.context import Context, Viewer
from clientzone.core.errors import Forbidden, MemberSuspended, NotFound, Unauthenticated
from clientzone.core.ids import decode_id_of
from clientzone.models.accounts import Account
from clientzone.models.memberships import Grant, Permission, memberships_page
from clientzone.models.pagination import PageRequest

ACCOUNT_HEADER = "x-account-id"
# How many memberships are looked at to find a default account that is not suspended.
DEFAULT_SCAN = 20


def require_viewer(ctx: Context) -> Viewer:
    if ctx.viewer is None:
        raise Unauthenticated
    return ctx.viewer


async def grant_on(ctx: Context, account_id: uuid.UUID) -> Grant | None:
    """The viewer's grant on the account, or an API client's on its own one
    (and on a linked one, when the client was allowed them)."""
    client = ctx.api_client
    if client is not None:
        if account_id == client.account_id:
            return client.grant()
        if client.linked is None:
            return None
    return await ctx.loaders.grant_by_account.load(account_id)


async def reachable_account(ctx: Context, account_id: uuid.UUID) -> tuple[Account, Grant]:
    """The account and the viewer's grant on it; NOT_FOUND when out of reach,
    FORBIDDEN (reason MEMBER_SUSPENDED) when the viewer's access is off."""
    if ctx.api_client is None:
        require_viewer(ctx)
    grant = await grant_on(ctx, account_id)
    account = await ctx.loaders.account_by_id.load(account_id) if grant else None
    if grant is None or account is None:
        raise NotFound
    if grant.suspended:
        raise MemberSuspended
    return account, grant


async def require_permission(
    ctx: Context, account_id: uuid.UUID, permission: Permission
) -> tuple[Account, Grant]:
    """The account, when the viewer reaches it (else NOT_FOUND) with `permission`
    (else FORBIDDEN naming it)."""
    account, grant = await reachable_account(ctx, account_id)
    if permission not in grant.permissions:
        raise Forbidden(permission.value)
    return account, grant


async def holds_permission(ctx: Context, account_id: uuid.UUID, permission: Permission) -> bool:
    """Whether the viewer holds `permission` on the account: for parts of an
    object shown only to some (a case's invoice), not for access checks. A
    suspended grant holds nothing."""
    grant = await grant_on(ctx, account_id)
    return grant is not None and not grant.suspended and permission in grant.permissions


async def active_grant(ctx: Context) -> Grant | None:
    """The X-Account-Id header, else the session's choice, else the first membership
    (for an API client: its account, or a linked one it reaches named in the
    header; any other in the header is NOT_FOUND)."""
    if ctx.api_client is not None:
        header = ctx.request.headers.get(ACCOUNT_HEADER)
        if not header:
            return ctx.api_client.grant()
        account_id = decode_id_of("Account", header.strip())
        grant = await grant_on(ctx, account_id) if account_id else None
        if grant is None:
            raise NotFound
        return grant
    viewer = require_viewer(ctx)
    async with ctx.active_grant_lock:
        if not ctx.active_grant_known:
            ctx.active_grant = await _find_active_grant(ctx, viewer)
            ctx.active_grant_known = True
    return ctx.active_grant


async def _find_active_grant(ctx: Context, viewer: Viewer) -> Grant | None:
    grant: Grant | None = None
    header = ctx.request.headers.get(ACCOUNT_HEADER)
    if header:
        account_id = decode_id_of("Account", header.strip())
        grant = await ctx.loaders.grant_by_account.load(account_id) if account_id else None
        if grant is None:
            raise NotFound
    elif viewer.session.active_account_id is not None:
        grant = await ctx.loaders.grant_by_account.load(viewer.session.active_account_id)
    if grant is None and not header:
        async with ctx.db.read() as session:
            first = await memberships_page(
                session, user_id=viewer.user.id, page=PageRequest(first=DEFAULT_SCAN)
            )
        # The first account whose access is on (a suspended one only when all are).
        on = [g for g in first.rows if not g.suspended]
        grant = on[0] if on else (first.rows[0] if first.rows else None)
        if grant is not None:
            ctx.loaders.grant_by_account.prime(grant.account_id, grant)
    return grant
