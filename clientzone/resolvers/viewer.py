"""The signed-in person: memberships and the active account's permissions."""

from __future__ import annotations

from clientzone.auth.access import active_grant, require_viewer
from clientzone.auth.context import Context
from clientzone.models.email_changes import EmailChangeRequest, pending_request
from clientzone.models.memberships import (
    Grant,
    Permission,
    count_memberships,
    memberships_page,
)
from clientzone.models.pagination import Page, PageRequest


async def memberships(ctx: Context, page: PageRequest) -> Page[Grant]:
    viewer = require_viewer(ctx)
    async with ctx.db.read() as session:
        found = await memberships_page(session, user_id=viewer.user.id, page=page)
    ctx.loaders.grant_by_account.prime_many({g.account_id: g for g in found.rows})
    return found


async def memberships_count(ctx: Context) -> int:
    viewer = require_viewer(ctx)
    async with ctx.db.read() as session:
        return await count_memberships(session, user_id=viewer.user.id)


async def active_permissions(ctx: Context) -> list[Permission]:
    grant = await active_grant(ctx)
    return [] if grant is None else sorted(grant.permissions)


async def pending_email_change(ctx: Context) -> EmailChangeRequest | None:
    user = require_viewer(ctx).user
    async with ctx.db.read() as session:
        return await pending_request(session, user.id)
