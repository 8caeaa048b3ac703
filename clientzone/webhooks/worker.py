"""The webhook worker: claim due deliveries, POST them, record what happened.

It runs in `clientzone worker` beside the mail worker (and inside `clientzone
serve` when MAIL_SENDER=in-process). No database connection is held during
the HTTP call: the claim is committed first, the outcome recorded in a new
transaction. A failed attempt is retried with backoff (RETRY_DELAYS, 1 min to
12 h apart) until WEBHOOK_MAX_ATTEMPTS, then DEAD. An endpoint whose
deliveries go DEAD DISABLE_AFTER_DEAD times in a row, or that has failed
without one success for DISABLE_AFTER_FAILING, is disabled and the account's
owners are told by email.

A batch's deliveries are grouped by endpoint: up to CONCURRENT_ENDPOINTS
endpoints are sent to at once, each endpoint's deliveries one after the
other, oldest first, over one client (its connection reused when the receiver
keeps it open). Every client shares the process's one TLS context.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.outbox import notify_user
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.memberships import Membership, Role
from clientzone.models.users import User
from clientzone.models.webhooks import (
    RESPONSE_PREFIX_MAX,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    claim_deliveries,
)
from clientzone.webhooks import signing
from clientzone.webhooks.addresses import AddressRefused, resolve

logger = logging.getLogger("clientzone.webhooks")

# The wait after the 1st, 2nd, ... failed attempt (the last repeats).
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=12),
)
DISABLE_AFTER_DEAD = 20
DISABLE_AFTER_FAILING = timedelta(days=3)
BATCH = 20
# Endpoints sent to at once by one worker (each endpoint's deliveries in order).
CONCURRENT_ENDPOINTS = 4


@dataclass(frozen=True)
class Attempt:
    """What one POST gave."""

    delivery_id: uuid.UUID
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    response_prefix: str | None = None


def retry_delay(attempts: int) -> timedelta:
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


@functools.cache
def tls_context(extra_ca_file: Path | None = None) -> ssl.SSLContext:
    """The process's TLS client context: the public CAs, and WEBHOOK_CA_FILE's.

    Building one (loading the CA bundle) costs milliseconds of CPU, so it is
    made once and shared: it holds no connection's state. The name checked
    against the certificate is each connection's own (the SNI host name).
    """
    context = httpx.create_ssl_context(trust_env=False)
    if extra_ca_file is not None:
        context.load_verify_locations(cafile=extra_ca_file)
    return context


def new_client(settings: Settings) -> httpx.AsyncClient:
    """A client for one endpoint's deliveries: a pooled connection is only
    ever reused for the host name it was opened (and its certificate checked)
    for."""
    return httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        verify=tls_context(settings.webhook_ca_file),
    )


async def post(
    settings: Settings,
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    client: httpx.AsyncClient,
) -> Attempt:
    """One signed POST to the endpoint's checked address; `client` is this
    endpoint's (see new_client). WEBHOOK_TIMEOUT_SECONDS bounds each of the
    client's waits and the whole attempt, the name's resolution included."""
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            return await _post(settings, endpoint, delivery, client)
    except TimeoutError:
        return Attempt(delivery.id, False, error="timed out")


async def _post(
    settings: Settings,
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    client: httpx.AsyncClient,
) -> Attempt:
    body = orjson.dumps({"id": delivery.event_id, **delivery.payload})
    try:
        target = await resolve(endpoint.url, allow_private=settings.webhook_allow_private_addresses)
    except AddressRefused as exc:
        return Attempt(delivery.id, False, error=f"address refused: {exc}")
    headers = signing.headers(endpoint.secret, delivery.event_id, int(time.time()), body)
    headers["host"] = target.host_header
    headers["user-agent"] = "clientzone-webhooks/1"
    extensions = {"sni_hostname": target.host} if target.url.startswith("https:") else {}
    try:
        async with client.stream(
            "POST", target.url, content=body, headers=headers, extensions=extensions
        ) as response:
            status = response.status_code
            prefix = await _prefix(response)
    except httpx.TimeoutException:
        return Attempt(delivery.id, False, error="timed out")
    except httpx.HTTPError as exc:
        return Attempt(delivery.id, False, error=f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= status < 300:
        return Attempt(delivery.id, True, status, response_prefix=prefix)
    return Attempt(delivery.id, False, status, error=f"HTTP {status}", response_prefix=prefix)


async def _prefix(response: httpx.Response) -> str:
    """The start of the answer, without reading a receiver's endless body."""
    received = b""
    async for chunk in response.aiter_bytes():
        received += chunk
        if len(received) >= RESPONSE_PREFIX_MAX * 4:
            break
    return received.decode("utf-8", "replace")[:RESPONSE_PREFIX_MAX]


class WebhookWorker:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # Long enough for one batch's calls, one after the other.
        self.lease = timedelta(seconds=settings.webhook_timeout_seconds * (BATCH + 2))
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(CONCURRENT_ENDPOINTS)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run_once(self) -> int:
        """Claim and send one batch; returns how many deliveries were claimed."""
        async with self.database.session() as session, session.begin():
            claimed = await claim_deliveries(
                session, worker=self.name, limit=BATCH, lease=self.lease
            )
            endpoint_ids = {d.endpoint_id for d in claimed}
            endpoints = {
                e.id: e
                for e in (
                    await session.execute(
                        select(WebhookEndpoint).where(col(WebhookEndpoint.id).in_(endpoint_ids))
                    )
                ).scalars()
            }
        queues: dict[uuid.UUID, list[WebhookDelivery]] = {}
        for delivery in claimed:  # oldest first
            queues.setdefault(delivery.endpoint_id, []).append(delivery)
        async with asyncio.TaskGroup() as tasks:
            for endpoint_id, deliveries in queues.items():
                tasks.create_task(self._send(endpoints.get(endpoint_id), deliveries))
        return len(claimed)

    async def _send(
        self, endpoint: WebhookEndpoint | None, deliveries: list[WebhookDelivery]
    ) -> None:
        """One endpoint's deliveries of the batch, in order, each recorded
        before the next is sent."""
        async with self._slots, new_client(self.settings) as client:
            for delivery in deliveries:
                if endpoint is None or endpoint.disabled_at is not None:
                    attempt = Attempt(delivery.id, False, error="endpoint disabled")
                else:
                    attempt = await post(self.settings, endpoint, delivery, client)
                async with self.database.session() as session, session.begin():
                    await record(session, self.settings, attempt, final=endpoint is None)

    async def drain(self) -> int:
        """Send until nothing is due; returns the number of deliveries handled."""
        total = 0
        while not self._stopping.is_set() and (handled := await self.run_once()):
            total += handled
        return total

    async def run(self) -> None:
        logger.info("webhook worker %s started", self.name)
        while not self._stopping.is_set():
            try:
                await self.drain()
            except Exception:
                logger.exception("webhook worker %s: batch failed", self.name)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=self.settings.webhook_poll_seconds
                )
        logger.info("webhook worker %s stopped", self.name)


async def record(
    session: AsyncSession, settings: Settings, attempt: Attempt, *, final: bool = False
) -> None:
    """Store one attempt's outcome and what it means for the endpoint."""
    delivery = await session.get(WebhookDelivery, attempt.delivery_id, with_for_update=True)
    if delivery is None:
        return  # its endpoint was deleted meanwhile
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id, with_for_update=True)
    now = utcnow()
    delivery.attempts += 1
    delivery.claimed_by = None
    delivery.lease_expires_at = None
    delivery.last_status_code = attempt.status_code
    delivery.last_error = attempt.error
    delivery.response_prefix = attempt.response_prefix
    if attempt.delivered:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        if endpoint is not None:
            endpoint.failure_streak = 0
            endpoint.failing_since = None
            session.add(endpoint)
        session.add(delivery)
        return
    dead = final or delivery.attempts >= settings.webhook_max_attempts
    if endpoint is not None and endpoint.disabled_at is not None:
        dead = True
    delivery.status = DeliveryStatus.DEAD if dead else DeliveryStatus.FAILED
    delivery.next_attempt_at = None if dead else now + retry_delay(delivery.attempts)
    session.add(delivery)
    logger.info(
        "webhook %s to endpoint %s: %s (attempt %d)",
        delivery.event_id,
        delivery.endpoint_id,
        attempt.error,
        delivery.attempts,
    )
    if endpoint is None or endpoint.disabled_at is not None:
        return
    endpoint.failing_since = endpoint.failing_since or now
    if dead:
        endpoint.failure_streak += 1
    session.add(endpoint)
    reason = _disable_reason(endpoint, now)
    if reason:
        await disable(session, settings, endpoint, reason)


def _disable_reason(endpoint: WebhookEndpoint, now: datetime) -> str | None:
    if endpoint.failure_streak >= DISABLE_AFTER_DEAD:
        return f"{endpoint.failure_streak} deliveries in a row failed every attempt"
    since = endpoint.failing_since
    if since is not None and now - since >= DISABLE_AFTER_FAILING:
        return f"no delivery succeeded since {since:%Y-%m-%d %H:%M} UTC"
    return None


async def disable(
    session: AsyncSession, settings: Settings, endpoint: WebhookEndpoint, reason: str
) -> None:
    """Stop the endpoint, give up its pending deliveries, tell the owners."""
    now = utcnow()
    endpoint.disabled_at = now
    session.add(endpoint)
    await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
            col(WebhookDelivery.claimed_by).is_(None),
        )
        .values(status=DeliveryStatus.DEAD, next_attempt_at=None, last_error="endpoint disabled"),
        execution_options={"synchronize_session": False},
    )
    logger.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
    account = await session.get(Account, endpoint.account_id)
    assert account is not None
    owners = await session.execute(
        select(User)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(
            col(Membership.account_id) == endpoint.account_id,
            col(Membership.role) == Role.OWNER,
        )
    )
    for owner in owners.scalars():
        await notify_user(
            session,
            settings,
            user=owner,
            template="webhook_endpoint_disabled",
            account=account,
            url=endpoint.url,
            reason=reason,
        )
