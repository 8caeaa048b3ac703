"""An account's webhook endpoints (INTEGRATIONS_MANAGE): create, change, delete,
rotate the secret, read the delivery log, redeliver.

Only a person manages endpoints, as with API clients: a leaked integration key
must not be able to send the account's events elsewhere. The secret is
returned once, at creation and at rotation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlmodel import col

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.models import webhooks as models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Change, record_activity
from clientzone.models.base import utcnow
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from clientzone.resolvers.activity import actor
from clientzone.resolvers.validation import FieldErrors, Outcome

URL_MAX = 2000


class WebhookErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_URL = "INVALID_URL"
    HTTPS_REQUIRED = "HTTPS_REQUIRED"
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"
    TOO_MANY_ENDPOINTS = "TOO_MANY_ENDPOINTS"
    INVALID_RANGE = "INVALID_RANGE"


Code = WebhookErrorCode


async def endpoints(ctx: Context, account: Account, page: PageRequest) -> Page[WebhookEndpoint]:
    async with ctx.db.read() as session:
        return await models.endpoints_page(session, account_id=account.id, page=page)


async def endpoints_count(ctx: Context, account: Account) -> int:
    async with ctx.db.read() as session:
        return await models.endpoint_count(session, account_id=account.id)


async def deliveries(
    ctx: Context, account_id: uuid.UUID, endpoint_id: uuid.UUID, page: PageRequest
) -> Page[WebhookDelivery]:
    async with ctx.db.read() as session:
        return await models.deliveries_page(
            session, account_id=account_id, endpoint_id=endpoint_id, page=page
        )


async def deliveries_count(ctx: Context, endpoint_id: uuid.UUID) -> int:
    async with ctx.db.read() as session:
        statement = select(func.count()).where(col(WebhookDelivery.endpoint_id) == endpoint_id)
        return int((await session.execute(statement)).scalar_one())


async def account_of_endpoint(ctx: Context, endpoint_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await models.account_of_endpoint(session, endpoint_id)


async def account_of_delivery(ctx: Context, delivery_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await models.account_of_delivery(session, delivery_id)


def _check_url(ctx: Context, errors: FieldErrors[Code], url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if not url:
        errors.add("url", Code.REQUIRED, "field.required")
    elif (
        len(url) > URL_MAX
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.fragment
    ):
        errors.add("url", Code.INVALID_URL, "webhook.invalid_url")
    elif parts.scheme != "https" and ctx.settings.is_production:
        errors.add("url", Code.HTTPS_REQUIRED, "webhook.https_required")
    return url


def _check_types(errors: FieldErrors[Code], event_types: Sequence[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(models.EVENT_TYPES))
    if not event_types:
        errors.add("eventTypes", Code.REQUIRED, "field.required")
    elif unknown:
        errors.add(
            "eventTypes",
            Code.UNKNOWN_EVENT_TYPE,
            "webhook.unknown_event_type",
            types=", ".join(unknown),
        )
    return [t for t in models.EVENT_TYPES if t in event_types]


async def create_endpoint(
    ctx: Context, account: Account, url: str, event_types: Sequence[str]
) -> Outcome[tuple[str, WebhookEndpoint], WebhookErrorCode]:
    require_viewer(ctx)
    errors: FieldErrors[Code] = FieldErrors()
    url = _check_url(ctx, errors, url)
    types = _check_types(errors, event_types)
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        if await models.endpoint_count(session, account_id=account.id) >= models.MAX_ENDPOINTS:
            errors.add(
                None,
                Code.TOO_MANY_ENDPOINTS,
                "webhook.too_many_endpoints",
                maximum=models.MAX_ENDPOINTS,
            )
            return Outcome(errors=errors.errors)
        secret = models.new_secret()
        row = WebhookEndpoint(account_id=account.id, url=url, event_types=types, secret=secret)
        session.add(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.WEBHOOK_ENDPOINT_CREATED,
            target=url[:200],
            changes=[Change("eventTypes", None, ",".join(types))],
        )
    return Outcome(value=(secret, row))


async def update_endpoint(
    ctx: Context,
    account: Account,
    endpoint_id: uuid.UUID,
    *,
    url: str | None,
    event_types: Sequence[str] | None,
    enabled: bool | None,
) -> Outcome[WebhookEndpoint, WebhookErrorCode]:
    """Change the URL or the events; `enabled: true` after a disable starts a
    fresh failure count (redeliver what was missed with redeliverWebhooks)."""
    require_viewer(ctx)
    errors: FieldErrors[Code] = FieldErrors()
    new_url = _check_url(ctx, errors, url) if url is not None else None
    types = _check_types(errors, event_types) if event_types is not None else None
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        row = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        assert row is not None, "the permission check found its account"
        changes = []
        if new_url is not None and new_url != row.url:
            changes.append(Change("url", row.url[:200], new_url[:200]))
            row.url = new_url
        if types is not None and types != row.event_types:
            changes.append(Change("eventTypes", ",".join(row.event_types), ",".join(types)))
            row.event_types = types
        if enabled is not None and enabled != (row.disabled_at is None):
            changes.append(Change("enabled", str(not enabled).lower(), str(enabled).lower()))
            row.disabled_at = None if enabled else utcnow()
            row.failure_streak = 0
            row.failing_since = None
        session.add(row)
        if changes:
            record_activity(
                session,
                account_id=account.id,
                actor=actor(ctx),
                action=ActivityAction.WEBHOOK_ENDPOINT_UPDATED,
                target=row.url[:200],
                changes=changes,
            )
    return Outcome(value=row)


async def delete_endpoint(
    ctx: Context, account: Account, endpoint_id: uuid.UUID
) -> Outcome[uuid.UUID, WebhookErrorCode]:
    """The endpoint and its delivery log go; nothing more is sent to it."""
    require_viewer(ctx)
    async with ctx.transaction() as session:
        row = await session.get(WebhookEndpoint, endpoint_id)
        assert row is not None, "the permission check found its account"
        await session.execute(
            delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id)
        )
        await session.delete(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.WEBHOOK_ENDPOINT_DELETED,
            target=row.url[:200],
        )
    return Outcome(value=endpoint_id)


async def rotate_secret(
    ctx: Context, account: Account, endpoint_id: uuid.UUID
) -> Outcome[tuple[str, WebhookEndpoint], WebhookErrorCode]:
    """A new secret, used from the next delivery on (the old one stops at once)."""
    require_viewer(ctx)
    async with ctx.transaction() as session:
        row = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
        assert row is not None, "the permission check found its account"
        secret = models.new_secret()
        row.secret = secret
        session.add(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.WEBHOOK_SECRET_ROTATED,
            target=row.url[:200],
            changes=[Change("secret", None, None)],
        )
    return Outcome(value=(secret, row))


def _again() -> dict[str, object]:
    """A delivery queued again: same event id, a fresh series of attempts."""
    return {
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "claimed_by": None,
        "lease_expires_at": None,
    }


async def redeliver(
    ctx: Context, account: Account, delivery_id: uuid.UUID
) -> Outcome[WebhookDelivery, WebhookErrorCode]:
    require_viewer(ctx)
    async with ctx.transaction() as session:
        row = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        assert row is not None, "the permission check found its account"
        for name, value in _again().items():
            setattr(row, name, value)
        session.add(row)
    return Outcome(value=row)


async def redeliver_range(
    ctx: Context,
    account: Account,
    endpoint_id: uuid.UUID,
    start: datetime,
    end: datetime,
) -> Outcome[int, WebhookErrorCode]:
    """Queue again the endpoint's deliveries created in [start, end) that
    were not delivered (FAILED or DEAD); returns how many."""
    require_viewer(ctx)
    errors: FieldErrors[Code] = FieldErrors()
    if start >= end:
        errors.add("from", Code.INVALID_RANGE, "webhook.invalid_range")
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        result = await session.execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.endpoint_id) == endpoint_id,
                col(WebhookDelivery.created_at) >= start,
                col(WebhookDelivery.created_at) < end,
                col(WebhookDelivery.status).in_([DeliveryStatus.FAILED, DeliveryStatus.DEAD]),
            )
            .values(**_again()),
            execution_options={"synchronize_session": False},
        )
    return Outcome(value=int(result.rowcount or 0))  # type: ignore[attr-defined]
