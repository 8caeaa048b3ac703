"""An account's activity history, and who the actor of a change is."""

from __future__ import annotations

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.models.accounts import Account
from clientzone.models.activity import (
    ActivityEntry,
    ActivityFilter,
    Actor,
    ActorKind,
    activity_page,
    count_activity,
)
from clientzone.models.pagination import Page, PageRequest


def actor(ctx: Context) -> Actor:
    """The signed-in person making this request (or the integration, for an
    API client), with where they came from."""
    if ctx.api_client is not None:
        return Actor(
            kind=ActorKind.INTEGRATION,
            user_id=None,
            label=ctx.api_client.label,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
        )
    user = require_viewer(ctx).user
    return Actor(
        kind=ActorKind.STAFF if user.is_staff else ActorKind.USER,
        user_id=user.id,
        label=user.email,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )


async def activity(
    ctx: Context, account: Account, page: PageRequest, activity_filter: ActivityFilter
) -> Page[ActivityEntry]:
    async with ctx.db.read() as session:
        return await activity_page(
            session, account_id=account.id, page=page, activity_filter=activity_filter
        )


async def activity_count(ctx: Context, account: Account, activity_filter: ActivityFilter) -> int:
    async with ctx.db.read() as session:
        return await count_activity(session, account_id=account.id, activity_filter=activity_filter)
