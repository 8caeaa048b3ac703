"""Outbound webhooks: an account's endpoints and the outbox of their deliveries.

An event is written here in the same transaction as the change it reports
(`emit`), one delivery row per subscribed endpoint, and sent later by the
webhook worker; a rolled-back change never announces anything.

The endpoint's signing secret is stored as is (`whsec_` + base64 of 32 random
bytes, per the Standard Webhooks specification): unlike an API key it must be
recovered to sign every delivery, so a hash would not do. Whoever reads the
database can sign as us to the partner; rotation (`rotateWebhookSecret`)
replaces it, and the partner keeps the only other copy.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
PAYLOAD_VERSION = 1
MAX_ENDPOINTS = 10
RESPONSE_PREFIX_MAX = 200

# The events an endpoint may subscribe to (docs/partners.md lists their data).
EVENT_TYPES = (
    "payment.succeeded",
    "payment.refunded",
    "case.created",
    "case.updated",
    "contact.updated",
    "member.added",
    "member.removed",
    "invoice.issued",
    "invoice.paid",
)


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # an attempt failed; another is scheduled
    DEAD = "DEAD"  # attempts exhausted (or the endpoint is gone)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return f"msg_{secrets.token_urlsafe(18)}"


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_account_id_id", "account_id", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    url: str = Field(sa_type=String(2000))
    event_types: list[str] = Field(default_factory=list, sa_type=JSON)
    secret: str = Field(sa_type=String(100))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Deliveries DEAD in a row, and since when they have been failing.
    failure_streak: int = 0
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoints.id", ondelete="CASCADE")
    # The `webhook-id`: the same for every attempt and redelivery of one event
    # to one endpoint, so the receiver can drop duplicates.
    event_id: str = Field(sa_type=String(40))
    event_type: str = Field(sa_type=String(40))
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING, sa_type=StrEnumType(DeliveryStatus)
    )
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The worker holding it, until when (a vanished worker's claim lapses).
    claimed_by: str | None = Field(default=None, sa_type=String(100))
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    response_prefix: str | None = Field(default=None, sa_type=String(RESPONSE_PREFIX_MAX))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def emit(
    session: AsyncSession, account_id: uuid.UUID, event_type: str, data: dict[str, Any]
) -> int:
    """Queue an event for the account's enabled endpoints subscribed to it, in
    the caller's transaction; returns how many deliveries were queued."""
    return await emit_many(session, [(account_id, event_type, data)])


async def emit_many(
    session: AsyncSession, events: Sequence[tuple[uuid.UUID, str, dict[str, Any]]]
) -> int:
    """`emit` for many events (a billing import batch): one query for the endpoints."""
    if not events:
        return 0
    assert all(event_type in EVENT_TYPES for _, event_type, _ in events), events
    statement = select(WebhookEndpoint).where(
        col(WebhookEndpoint.account_id).in_({account_id for account_id, _, _ in events}),
        col(WebhookEndpoint.disabled_at).is_(None),
    )
    endpoints: dict[uuid.UUID, list[WebhookEndpoint]] = {}
    for endpoint in (await session.execute(statement)).scalars():
        endpoints.setdefault(endpoint.account_id, []).append(endpoint)
    if not endpoints:
        return 0
    now = utcnow()
    queued = 0
    for account_id, event_type, data in events:
        payload = {
            "type": event_type,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "version": PAYLOAD_VERSION,
            "data": data,
        }
        for endpoint in endpoints.get(account_id, []):
            if event_type not in endpoint.event_types:
                continue
            # A microsecond apart, so the worker sends them in this order.
            at = now + timedelta(microseconds=queued)
            queued += 1
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    event_id=new_message_id(),
                    event_type=event_type,
                    payload=payload,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
    return queued


async def claim_deliveries(
    session: AsyncSession, *, worker: str, limit: int, lease: timedelta
) -> list[WebhookDelivery]:
    """Claim up to `limit` due deliveries for `worker` (SKIP LOCKED on
    PostgreSQL; SQLite has one writer), oldest first; commit to make the claim
    visible."""
    now = utcnow()
    due = (
        select(col(WebhookDelivery.id))
        .where(
            col(WebhookDelivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
            col(WebhookDelivery.next_attempt_at) <= now,
            (col(WebhookDelivery.lease_expires_at).is_(None))
            | (col(WebhookDelivery.lease_expires_at) < now),
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id).in_(due.scalar_subquery()))
        .values(claimed_by=worker, lease_expires_at=now + lease)
        .returning(WebhookDelivery)
    )
    claimed = list((await session.execute(statement)).scalars())
    # RETURNING comes in no particular order: send the oldest first (ids are
    # time-ordered), so events usually arrive in the order they happened.
    return sorted(claimed, key=lambda d: (d.next_attempt_at or now, d.id))


async def endpoint_count(session: AsyncSession, *, account_id: uuid.UUID) -> int:
    statement = select(func.count()).where(col(WebhookEndpoint.account_id) == account_id)
    return int((await session.execute(statement)).scalar_one())


ENDPOINTS_ORDER = SortKey(columns=[col(WebhookEndpoint.id)], descending=True)
DELIVERIES_ORDER = SortKey(columns=[col(WebhookDelivery.id)], descending=True)


async def endpoints_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest
) -> Page[WebhookEndpoint]:
    """The account's endpoints, newest first."""
    statement = select(WebhookEndpoint).where(col(WebhookEndpoint.account_id) == account_id)
    return await fetch_page(
        session, statement, sort=ENDPOINTS_ORDER, page=page, key_of=lambda e: (e.id,)
    )


async def deliveries_page(
    session: AsyncSession, *, account_id: uuid.UUID, endpoint_id: uuid.UUID, page: PageRequest
) -> Page[WebhookDelivery]:
    """An endpoint's delivery log, newest first."""
    statement = (
        select(WebhookDelivery)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(
            col(WebhookEndpoint.account_id) == account_id,
            col(WebhookDelivery.endpoint_id) == endpoint_id,
        )
    )
    return await fetch_page(
        session, statement, sort=DELIVERIES_ORDER, page=page, key_of=lambda d: (d.id,)
    )


async def account_of_endpoint(session: AsyncSession, endpoint_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(WebhookEndpoint.account_id)).where(
        col(WebhookEndpoint.id) == endpoint_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def account_of_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> uuid.UUID | None:
    statement = (
        select(col(WebhookEndpoint.account_id))
        .join(WebhookDelivery, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(col(WebhookDelivery.id) == delivery_id)
    )
    return (await session.execute(statement)).scalar_one_or_none()
