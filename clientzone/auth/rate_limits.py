"""Rate limits: fixed windows for requests, growing delays after failures.

Counters live in Redis when REDIS_URL is set (shared by every server process)
or else in the database (`rate_limit_counters`, also shared). Keys hold a hash
of the subject (an email, an IP), never the subject itself.

Two shapes:
- `Limit`: at most `limit` hits per `window` (reset requests per login, ...);
- `Backoff`: after `free` failures, each further failure blocks the subject
  for `base` seconds doubled per failure, up to `cap` (logins per email/IP);
  a success clears it.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from redis.asyncio import Redis

from clientzone.core.errors import RateLimited
from clientzone.db import Database
from clientzone.models import rate_limits as counters
from clientzone.models.base import utcnow
from clientzone.observability import metrics


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: timedelta


@dataclass(frozen=True)
class Backoff:
    name: str
    free: int
    base_seconds: float
    cap_seconds: float
    memory: timedelta = timedelta(hours=1)  # failures older than this are forgotten

    def delay(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        return float(min(self.cap_seconds, self.base_seconds * 2 ** (failures - self.free - 1)))


# Logins are limited three ways (docs/authentication.md#rate-limits):
# - per address from one IP: a few tries, then growing waits;
# - per IP: a wide net for one machine trying many addresses;
# - per address from anywhere: stops slow guessing from many IPs, but does not
#   apply from an IP the person signed in from before (the caller checks), so a
#   stranger cannot lock someone out of their own networks.
LOGIN_PER_EMAIL_AND_IP = Backoff("login-email-ip", free=5, base_seconds=2, cap_seconds=900)
LOGIN_PER_IP = Backoff("login-ip", free=30, base_seconds=1, cap_seconds=900)
LOGIN_PER_EMAIL = Backoff("login-email", free=50, base_seconds=30, cap_seconds=900)
PASSWORD_CONFIRM = Backoff("password-confirm", free=5, base_seconds=2, cap_seconds=900)
LEGACY_CLAIM = Backoff("legacy-claim", free=5, base_seconds=2, cap_seconds=900)
# Adding an account with the same email: wrong customer numbers and wrong
# codes slow the person down; confirmation emails are a few per hour.
ACCOUNT_UNIFICATION = Backoff("account-unify", free=5, base_seconds=2, cap_seconds=900)
UNIFICATION_EMAIL_PER_USER = Limit("unify-email", 5, timedelta(hours=1))
SECOND_FACTOR_ATTEMPT = Backoff("second-factor", free=5, base_seconds=2, cap_seconds=900)
RESET_REQUEST_PER_LOGIN = Limit("reset-login", 3, timedelta(hours=1))
RESET_REQUEST_PER_IP = Limit("reset-ip", 20, timedelta(hours=1))
RESET_ATTEMPT_PER_IP = Limit("reset-attempt-ip", 30, timedelta(hours=1))
VERIFY_ATTEMPT_PER_IP = Limit("verify-ip", 30, timedelta(hours=1))
VERIFICATION_EMAIL_PER_USER = Limit("verification-email", 3, timedelta(hours=1))
SIGNUP_PER_IP = Limit("signup-ip", 10, timedelta(hours=1))
# Support checking an account's security PIN on the phone, per account.
STAFF_PIN_CHECK_PER_ACCOUNT = Limit("staff-pin-check", 5, timedelta(hours=1))


class CounterStore(Protocol):
    async def increment(self, key: str, window: timedelta) -> tuple[int, float]:
        """Count a hit; returns the count in the window and seconds it has left."""

    async def hold(self, key: str, seconds: float) -> None:
        """Set `key` for `seconds` (a block)."""

    async def remaining(self, key: str) -> float:
        """Seconds until `key` lapses; 0 when it is not set."""

    async def clear(self, *keys: str) -> None: ...

    async def ping(self) -> None:
        """Raise when the store cannot answer (readiness)."""

    async def close(self) -> None: ...


class DatabaseCounters:
    """Counters in the `rate_limit_counters` table, each change its own transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def increment(self, key: str, window: timedelta) -> tuple[int, float]:
        async with self.database.transaction() as session:
            count, expires_at = await counters.increment(session, key, window)
            if random.random() < 0.01:  # noqa: S311 (housekeeping, not security)
                await counters.purge_expired(session)
        return count, max(0.0, (expires_at - utcnow()).total_seconds())

    async def hold(self, key: str, seconds: float) -> None:
        async with self.database.transaction() as session:
            await counters.set_until(session, key, utcnow() + timedelta(seconds=seconds))

    async def remaining(self, key: str) -> float:
        async with self.database.session() as session:
            until = await counters.live_until(session, key)
        return 0.0 if until is None else max(0.0, (until - utcnow()).total_seconds())

    async def clear(self, *keys: str) -> None:
        async with self.database.transaction() as session:
            await counters.remove(session, *keys)

    async def ping(self) -> None:
        return None  # the database is checked on its own

    async def close(self) -> None:
        return None


# INCR, and start the window on the first hit; one round trip, atomic.
_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""


class RedisCounters:
    def __init__(self, url: str, prefix: str = "clientzone:") -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix
        self._increment = self.redis.register_script(_INCREMENT)

    async def increment(self, key: str, window: timedelta) -> tuple[int, float]:
        window_ms = max(1, int(window.total_seconds() * 1000))
        count, ttl_ms = await self._increment(keys=[self.prefix + key], args=[window_ms])
        return int(count), max(0.0, int(ttl_ms) / 1000)

    async def hold(self, key: str, seconds: float) -> None:
        await self.redis.set(self.prefix + key, 1, px=max(1, int(seconds * 1000)))

    async def remaining(self, key: str) -> float:
        ttl_ms = await self.redis.pttl(self.prefix + key)
        return max(0.0, int(ttl_ms) / 1000)

    async def clear(self, *keys: str) -> None:
        await self.redis.delete(*(self.prefix + key for key in keys))

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


def _key(name: str, subject: str, suffix: str = "") -> str:
    digest = hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:40]
    return f"rl:{name}:{digest}{suffix}"


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))


class _ReleasingCounters:
    """Database counters as one request uses them: each counter update is a
    transaction of its own, so the request's read connection goes back to the
    pool first (a request never holds a connection while it waits for another)."""

    def __init__(self, store: CounterStore, release: Callable[[], Awaitable[None]]) -> None:
        self.store = store
        self.release = release

    async def increment(self, key: str, window: timedelta) -> tuple[int, float]:
        await self.release()
        return await self.store.increment(key, window)

    async def hold(self, key: str, seconds: float) -> None:
        await self.release()
        await self.store.hold(key, seconds)

    async def remaining(self, key: str) -> float:
        await self.release()
        return await self.store.remaining(key)

    async def clear(self, *keys: str) -> None:
        await self.release()
        await self.store.clear(*keys)

    async def ping(self) -> None:
        await self.store.ping()

    async def close(self) -> None:
        return None


class RateLimiter:
    def __init__(self, store: CounterStore) -> None:
        self.store = store

    def for_request(self, release: Callable[[], Awaitable[None]]) -> RateLimiter:
        """This limiter for one request, which gives its read connection back
        (`release`) before a counter in the database is touched."""
        store = self.store.store if isinstance(self.store, _ReleasingCounters) else self.store
        if isinstance(store, DatabaseCounters):
            return RateLimiter(_ReleasingCounters(store, release))
        return self

    async def hit(self, limit: Limit, subject: str) -> None:
        """Count one request; RATE_LIMITED once the window's limit is passed."""
        count, left = await self.store.increment(_key(limit.name, subject), limit.window)
        if count > limit.limit:
            metrics.RATE_LIMITED.labels(limit.name).inc()
            raise RateLimited(_seconds(left))

    async def allowed(self, limit: Limit, subject: str) -> bool:
        """Like `hit`, for work that is skipped quietly instead of refused."""
        count, _ = await self.store.increment(_key(limit.name, subject), limit.window)
        return count <= limit.limit

    async def check(self, backoff: Backoff, subject: str) -> None:
        """RATE_LIMITED while the subject waits out its last failure's delay."""
        left = await self.blocked_for(backoff, subject)
        if left > 0:
            metrics.RATE_LIMITED.labels(backoff.name).inc()
            raise RateLimited(_seconds(left))

    async def blocked_for(self, backoff: Backoff, subject: str) -> float:
        """Seconds the subject still waits (0: not blocked)."""
        return await self.store.remaining(_key(backoff.name, subject, ":block"))

    async def failed(self, backoff: Backoff, subject: str) -> None:
        failures, _ = await self.store.increment(_key(backoff.name, subject), backoff.memory)
        delay = backoff.delay(failures)
        if delay > 0:
            await self.store.hold(_key(backoff.name, subject, ":block"), delay)

    async def succeeded(self, backoff: Backoff, subject: str) -> None:
        await self.store.clear(_key(backoff.name, subject), _key(backoff.name, subject, ":block"))

    async def ping(self) -> None:
        await self.store.ping()

    async def close(self) -> None:
        await self.store.close()


def build_rate_limiter(database: Database, redis_url: str | None, prefix: str) -> RateLimiter:
    store: CounterStore = (
        RedisCounters(redis_url, prefix) if redis_url else DatabaseCounters(database)
    )
    return RateLimiter(store)


# Charge `cost` unless it would pass `limit`; the window starts at the first charge.
_SPEND = """
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if spent + cost > tonumber(ARGV[2]) and spent > 0 then
  return {-1, redis.call('PTTL', KEYS[1])}
end
spent = redis.call('INCRBY', KEYS[1], cost)
if spent == cost then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {spent, redis.call('PTTL', KEYS[1])}
"""

BUDGET_WINDOW_SECONDS = 60.0


class CostBudget:
    """What one client (a session, else an IP address) may spend per minute in
    query cost (schema/cost.py). Shared through Redis when REDIS_URL is set;
    otherwise each server process keeps its own (counting in the database
    would cost a write per request). A single operation is never refused by
    the budget alone when it is the first of its window."""

    def __init__(self, per_minute: int, redis_url: str | None, prefix: str) -> None:
        self.per_minute = per_minute
        self.prefix = prefix
        self.redis: Redis | None = None
        self._windows: dict[str, tuple[float, int]] = {}
        if redis_url:
            self.redis = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._spend = self.redis.register_script(_SPEND)

    async def spend(self, client: str, cost: int) -> tuple[int, int]:
        """Charge `cost`; returns (what is left, seconds until the window
        restarts); RATE_LIMITED when the client has spent its minute's budget."""
        key = _key("cost", client)
        if self.redis is not None:
            window_ms = int(BUDGET_WINDOW_SECONDS * 1000)
            spent, ttl_ms = await self._spend(
                keys=[self.prefix + key], args=[cost, self.per_minute, window_ms]
            )
            reset = _seconds(max(0, int(ttl_ms)) / 1000)
            if int(spent) < 0:
                metrics.RATE_LIMITED.labels("cost-budget").inc()
                raise RateLimited(reset)
            return max(0, self.per_minute - int(spent)), reset
        return self._spend_locally(key, cost)

    def _spend_locally(self, key: str, cost: int) -> tuple[int, int]:
        now = time.monotonic()
        started, spent = self._windows.get(key, (now, 0))
        if now - started >= BUDGET_WINDOW_SECONDS:
            started, spent = now, 0
        reset = _seconds(BUDGET_WINDOW_SECONDS - (now - started))
        if spent > 0 and spent + cost > self.per_minute:
            metrics.RATE_LIMITED.labels("cost-budget").inc()
            raise RateLimited(reset)
        self._windows[key] = (started, spent + cost)
        if len(self._windows) > 100_000:
            self._forget(now)
        return max(0, self.per_minute - spent - cost), reset

    def _forget(self, now: float) -> None:
        for key, (started, _) in list(self._windows.items()):
            if now - started >= BUDGET_WINDOW_SECONDS:
                del self._windows[key]

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
