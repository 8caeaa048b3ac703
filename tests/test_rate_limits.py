"""Rate limits: growing delays after failed logins, windows for requests, shared
by every server process through the database or through Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from clientzone.app import create_app
from clientzone.auth.rate_limits import (
    LOGIN_PER_EMAIL,
    Backoff,
    DatabaseCounters,
    Limit,
    RateLimiter,
    RedisCounters,
)
from clientzone.config import Settings
from clientzone.core.errors import RateLimited
from clientzone.db import Database
from tests.helpers import PASSWORD, GraphQLClient, http_client, login, make_user

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own on the machine's Redis, removed afterwards."""
    prefix = f"clientzone-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def _login_codes(response: Any) -> list[str]:
    body = response.json()
    if "errors" in body:
        return [e["extensions"]["code"] for e in body["errors"]]
    return [e["code"] for e in body["data"]["login"]["userErrors"]]


async def test_failed_logins_slow_down_per_email_then_a_success_clears_it(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        for _ in range(6):  # five free failures, the sixth starts a 2-second delay
            wrong = await login(client, "ana@example.com", "incorrecta-123")
            assert _login_codes(wrong) == ["INVALID_CREDENTIALS"]
        blocked = await login(client, "ana@example.com")  # even the right password waits
        [error] = blocked.json()["errors"]
        assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 2}
        assert blocked.headers["retry-after"] == "2"
        assert error["message"] == "Demasiados intentos. Vuelve a intentarlo en 2 segundos."
        # Unknown emails are limited the same way: no difference to observe.
        for _ in range(6):
            await login(client, "nadie@example.com", "incorrecta-123")
        unknown = await login(client, "nadie@example.com", "incorrecta-123")
        assert unknown.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        await asyncio.sleep(2.1)  # the delay is wall-clock time
        assert _login_codes(await login(client, "ana@example.com")) == []
        # The success forgot the failures: one more failure is free again.
        assert _login_codes(await login(client, "ana@example.com", "x-incorrecta")) == [
            "INVALID_CREDENTIALS"
        ]
        assert _login_codes(await login(client, "ana@example.com")) == []


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff("test", free=2, base_seconds=1, cap_seconds=10)
    assert [backoff.delay(n) for n in range(1, 9)] == [0, 0, 1, 2, 4, 8, 10, 10]


async def _exercise(limiter: RateLimiter) -> None:
    """The same checks against any counter store."""
    window = Limit("window", 2, timedelta(seconds=30))
    await limiter.hit(window, "Subject@Example.com")
    await limiter.hit(window, "subject@example.com")  # same subject, normalized
    with pytest.raises(RateLimited) as refused:
        await limiter.hit(window, "subject@example.com")
    assert 1 <= refused.value.retry_after <= 30
    await limiter.hit(window, "other@example.com")
    backoff = Backoff("backoff", free=1, base_seconds=60, cap_seconds=600)
    await limiter.check(backoff, "1.2.3.4")
    await limiter.failed(backoff, "1.2.3.4")
    await limiter.check(backoff, "1.2.3.4")  # one free failure
    await limiter.failed(backoff, "1.2.3.4")
    with pytest.raises(RateLimited) as blocked:
        await limiter.check(backoff, "1.2.3.4")
    assert 59 <= blocked.value.retry_after <= 60
    await limiter.succeeded(backoff, "1.2.3.4")
    await limiter.check(backoff, "1.2.3.4")


async def test_database_counters(database: Database) -> None:
    await _exercise(RateLimiter(DatabaseCounters(database)))


async def test_redis_counters(redis_prefix: str) -> None:
    limiter = RateLimiter(RedisCounters(REDIS_URL, redis_prefix))
    try:
        await _exercise(limiter)
    finally:
        await limiter.close()


async def test_redis_keys_hold_no_email(redis_prefix: str) -> None:
    limiter = RateLimiter(RedisCounters(REDIS_URL, redis_prefix))
    try:
        await limiter.hit(Limit("reset-login", 3, timedelta(minutes=1)), "ana@example.com")
    finally:
        await limiter.close()
    client = Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    await client.aclose()
    assert len(keys) == 1
    assert b"ana" not in keys[0]


async def _two_instances_share_login_limits(first: Any, second: Any) -> None:
    async with http_client(first) as http_one, http_client(second) as http_two:
        one, two = GraphQLClient(http_one), GraphQLClient(http_two)
        for _ in range(6):
            await login(one, "ana@example.com", "incorrecta-123")
        blocked = await login(two, "ana@example.com")
        assert blocked.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_two_app_instances_share_limits_through_redis(
    settings: Settings, database: Database, redis_prefix: str
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    shared = settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})
    first, second = create_app(shared, database), create_app(shared, database)
    try:
        assert isinstance(first.state.limiter.store, RedisCounters)
        await _two_instances_share_login_limits(first, second)
    finally:
        await first.state.close_clients()
        await second.state.close_clients()


async def test_two_app_instances_share_limits_through_the_database(
    settings: Settings, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    first, second = create_app(settings, database), create_app(settings, database)
    assert isinstance(first.state.limiter.store, DatabaseCounters)
    await _two_instances_share_login_limits(first, second)


async def test_guessing_from_many_places_cannot_lock_the_owner_out_of_their_own(
    app: Any, database: Database
) -> None:
    """Many IPs guessing one address block it from new places, not from the
    places its owner signed in from before (docs/authentication.md)."""
    await make_user(database, "ana@example.com", password=PASSWORD)

    def client_from(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 50_000))
        return httpx.AsyncClient(transport=transport, base_url="http://clientzone.test")

    async with client_from("10.0.0.1") as home:
        assert (await login(GraphQLClient(home), "ana@example.com")).json()["data"]["login"]["user"]
    for i in range(LOGIN_PER_EMAIL.free + 1):
        async with client_from(f"10.9.{i // 250}.{i % 250 + 1}") as stranger:
            await login(GraphQLClient(stranger), "ana@example.com", "adivinanza-1234")
    async with client_from("10.7.7.7") as somewhere_new:
        blocked = await login(GraphQLClient(somewhere_new), "ana@example.com")
    async with client_from("10.0.0.1") as home:
        at_home = await login(GraphQLClient(home), "ana@example.com")
    assert blocked.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert at_home.json()["data"]["login"]["user"]["email"] == "ana@example.com"
