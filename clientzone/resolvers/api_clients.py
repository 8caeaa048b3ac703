"""An account's API clients (INTEGRATIONS_MANAGE): create, rotate, revoke, list.

Only a person creates, rotates or revokes a client, and only with permissions
they hold themselves; the key is returned once and never stored. An API client
cannot manage clients (not even itself): a leaked key must not mint others.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlmodel import col

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.models import api_clients as models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Change, record_activity
from clientzone.models.api_clients import ApiClient
from clientzone.models.base import utcnow
from clientzone.models.memberships import Permission
from clientzone.models.pagination import Page, PageRequest
from clientzone.realtime.sessions import announce_client_changed
from clientzone.resolvers.activity import actor
from clientzone.resolvers.validation import FieldErrors, Outcome

NAME_MAX = 100


class ApiClientErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    PERMISSION_NOT_HELD = "PERMISSION_NOT_HELD"
    EXPIRES_IN_PAST = "EXPIRES_IN_PAST"


async def api_clients(ctx: Context, account: Account, page: PageRequest) -> Page[ApiClient]:
    async with ctx.db.read() as session:
        return await models.clients_page(session, account_id=account.id, page=page)


async def api_clients_count(ctx: Context, account: Account) -> int:
    async with ctx.db.read() as session:
        statement = select(func.count()).where(
            col(ApiClient.account_id) == account.id, col(ApiClient.revoked_at).is_(None)
        )
        return int((await session.execute(statement)).scalar_one())


async def account_of_api_client(ctx: Context, client_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await models.account_of_client(session, client_id)


def _names(permissions: frozenset[Permission]) -> str:
    return ",".join(sorted(permissions))


async def create_api_client(
    ctx: Context,
    account: Account,
    name: str,
    permissions: frozenset[Permission],
    expires_at: datetime | None,
    *,
    include_linked_accounts: bool = False,
) -> Outcome[tuple[str, ApiClient], ApiClientErrorCode]:
    """A client with permissions the creator holds; with `include_linked_accounts`
    it also reaches the linked accounts, there never beyond the creator's grant
    on each (checked at every request, not frozen here)."""
    viewer = require_viewer(ctx)
    code = ApiClientErrorCode
    errors: FieldErrors[ApiClientErrorCode] = FieldErrors()
    name = name.strip()
    grant = await ctx.loaders.grant_by_account.load(account.id)
    assert grant is not None, "the permission check found the viewer's grant"
    if not name:
        errors.add("name", code.REQUIRED, "field.required")
    elif len(name) > NAME_MAX:
        errors.add("name", code.TOO_LONG, "field.too_long", maximum=NAME_MAX)
    if not permissions <= grant.permissions:
        missing = ", ".join(sorted(permissions - grant.permissions))
        errors.add("permissions", code.PERMISSION_NOT_HELD, "member.not_held", permissions=missing)
    if expires_at is not None and expires_at <= utcnow():
        errors.add("expiresAt", code.EXPIRES_IN_PAST, "api_client.expires_in_past")
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        key, row = await models.create_client(
            session,
            account_id=account.id,
            name=name,
            permissions=permissions,
            created_by=viewer.user.id,
            expires_at=expires_at,
            include_linked_accounts=include_linked_accounts,
        )
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.API_CLIENT_CREATED,
            target=name,
            changes=[Change("permissions", None, _names(permissions))]
            + ([Change("includeLinkedAccounts", None, "true")] if include_linked_accounts else []),
        )
    return Outcome(value=(key, row))


async def _client(ctx: Context, client_id: uuid.UUID) -> ApiClient:
    async with ctx.db.read() as session:
        row = await session.get(ApiClient, client_id)
    assert row is not None, "the permission check found its account"
    return row


async def rotate_api_client_key(
    ctx: Context, account: Account, client_id: uuid.UUID
) -> Outcome[tuple[str, ApiClient], ApiClientErrorCode]:
    """A new key; the old one keeps working for API_KEY_GRACE_HOURS."""
    require_viewer(ctx)
    await _client(ctx, client_id)
    grace = timedelta(hours=ctx.settings.api_key_grace_hours)
    async with ctx.transaction() as session:
        row = await session.get(ApiClient, client_id)
        assert row is not None
        key = models.rotate_key(row, grace)
        session.add(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.API_CLIENT_ROTATED,
            target=row.name,
            changes=[Change("key", None, None)],
        )
        ctx.after_commit(lambda: announce_client_changed(ctx.events, client_id))
    return Outcome(value=(key, row))


async def revoke_api_client(
    ctx: Context, account: Account, client_id: uuid.UUID
) -> Outcome[uuid.UUID, ApiClientErrorCode]:
    """The client's keys and access tokens stop working at once."""
    require_viewer(ctx)
    await _client(ctx, client_id)
    async with ctx.transaction() as session:
        row = await session.get(ApiClient, client_id)
        assert row is not None
        row.revoked_at = utcnow()
        session.add(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.API_CLIENT_REVOKED,
            target=row.name,
        )
        ctx.after_commit(lambda: announce_client_changed(ctx.events, client_id))
    return Outcome(value=client_id)
