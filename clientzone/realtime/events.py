"""Cross-process publish/subscribe for live updates ("case updated" and the like).

A mutation publishes a short message on a logical channel such as `case:<id>`
after its transaction has committed; GraphQL subscriptions in every server
process that hold `bus.subscribe(channel)` receive it. Messages are hints, not a
log: a process that was not listening, a dropped connection or a slow consumer
loses some, and clients re-read what they show. So `publish` never fails the
mutation that calls it, and a subscriber's full queue drops its oldest message
instead of holding up everyone else.

`build_event_bus` picks the backend from the settings:

- Redis (REDIS_URL set): Redis pub/sub, channel names behind REDIS_PREFIX (pub/sub
  ignores the database number, so the prefix is what keeps deployments apart).
  One connection per process carries all of its subscriptions.
- PostgreSQL (DATABASE_URL is PostgreSQL, no REDIS_URL): LISTEN/NOTIFY on the one
  channel `clientzone_events`, the logical channel inside the payload, since
  PostgreSQL channel names are short identifiers. One listening connection per
  process; every process receives every notification and keeps the ones its
  subscribers want.
- One machine (SQLite file without REDIS_URL): a UNIX datagram socket per
  subscribing process, in a private folder named after the database file
  (machine_bus.py). SQLite keeps a deployment on one machine anyway.
- In-process (an in-memory SQLite database, or no UNIX sockets): delivery inside
  the publishing process only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any, Protocol

import asyncpg
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy.engine import make_url

from clientzone.config import normalize_database_url

logger = logging.getLogger("clientzone.events")

MAX_MESSAGE_BYTES = 4000
MAX_CHANNEL_BYTES = 200
QUEUE_SIZE = 100
POSTGRES_CHANNEL = "clientzone_events"
POSTGRES_APPLICATION_NAME = "clientzone-events"

_POSTGRES_PAYLOAD_BYTES = 7999  # NOTIFY refuses payloads of 8000 bytes and more
_CONNECT_TIMEOUT = 2.0
_RETRY_FIRST = 0.1
_RETRY_MAX = 5.0


class EventBusUnavailable(Exception):
    """The backend did not confirm a subscription in time; the client may retry."""


class EventBus(Protocol):
    crosses_processes: bool  # whether other processes hear what this one publishes

    async def publish(self, channel: str, message: str) -> None:
        """Deliver `message` to every subscriber of `channel` in every process.

        Call it after the transaction that made the change has committed. A
        backend failure is logged and the message lost; it never raises.
        """

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """`async with bus.subscribe(channel) as messages: async for m in messages`.

        Receives everything published after `__aenter__` returns (which raises
        EventBusUnavailable when the backend cannot be reached); leaving the
        block, cancelled or not, unsubscribes. The iterator ends when the bus closes.
        """

    async def close(self) -> None:
        """Stop delivering, end subscribers' iterators and close connections."""


def build_event_bus(database_url: str, redis_url: str | None, redis_prefix: str) -> EventBus:
    """Redis when configured, else PostgreSQL's LISTEN/NOTIFY, else the machine's
    sockets for an SQLite file, else in-process."""
    if redis_url:
        return RedisEventBus(redis_url, redis_prefix)
    if normalize_database_url(database_url).startswith("postgresql"):
        return PostgresEventBus(database_url)
    from clientzone.realtime.machine_bus import MachineEventBus, events_folder

    folder = events_folder(make_url(normalize_database_url(database_url)).database or "")
    return MachineEventBus(folder) if folder is not None else LocalEventBus()


class _Inbox:
    """One subscriber's pending messages, bounded: when full the oldest goes, so a
    slow consumer never holds up the connection that feeds everyone."""

    def __init__(self, channel: str, size: int) -> None:
        self._channel = channel
        self._messages: deque[str] = deque(maxlen=size)
        self._arrived = asyncio.Event()
        self._closed = False
        self._warned = False

    def put(self, message: str) -> None:
        if self._closed:
            return
        if len(self._messages) == self._messages.maxlen and not self._warned:
            self._warned = True
            logger.warning(
                "a subscriber of %r is not keeping up; dropping its oldest messages",
                self._channel,
            )
        self._messages.append(message)
        self._arrived.set()

    def close(self) -> None:
        self._closed = True
        self._arrived.set()

    def __aiter__(self) -> _Inbox:
        return self

    async def __anext__(self) -> str:
        while not self._messages:
            if self._closed:
                raise StopAsyncIteration
            self._arrived.clear()
            await self._arrived.wait()
        return self._messages.popleft()


class FanOut:
    """This process's subscribers by channel; every backend delivers through it."""

    crosses_processes = True

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._inboxes: dict[str, set[_Inbox]] = {}
        self._closed = False

    def subscriber_count(self, channel: str) -> int:
        """Subscribers of `channel` in this process (for probes and tests)."""
        return len(self._inboxes.get(channel, ()))

    def _attach(self, channel: str) -> _Inbox:
        if self._closed:
            raise RuntimeError("the event bus is closed")
        if not channel or len(channel.encode()) > MAX_CHANNEL_BYTES:
            raise ValueError(f"a channel name has 1 to {MAX_CHANNEL_BYTES} bytes")
        inbox = _Inbox(channel, self._queue_size)
        self._inboxes.setdefault(channel, set()).add(inbox)
        return inbox

    def _detach(self, channel: str, inbox: _Inbox) -> None:
        # Synchronous on purpose: it runs in `finally` of a possibly cancelled task.
        inbox.close()
        inboxes = self._inboxes.get(channel)
        if inboxes is not None:
            inboxes.discard(inbox)
            if not inboxes:
                del self._inboxes[channel]

    def _deliver(self, channel: str, message: str) -> None:
        for inbox in self._inboxes.get(channel, ()):
            inbox.put(message)

    def _close_inboxes(self) -> None:
        self._closed = True
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                inbox.close()

    def _publishable(self, channel: str, message: str) -> bool:
        """Refuse (and log) what some backend could not carry, on every backend,
        so a message that works in development also works in production."""
        if self._closed:
            logger.debug("event bus closed; not publishing to %r", channel)
            return False
        if not channel or len(channel.encode()) > MAX_CHANNEL_BYTES:
            logger.error("not publishing: channel name of %d bytes", len(channel.encode()))
            return False
        if len(message.encode()) > MAX_MESSAGE_BYTES:
            logger.error(
                "not publishing to %r: message of %d bytes (at most %d)",
                channel,
                len(message.encode()),
                MAX_MESSAGE_BYTES,
            )
            return False
        return True


def _describe(error: BaseException) -> str:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}"


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    # Cancel again if a library swallowed the first cancellation.
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1)
    with suppress(asyncio.CancelledError):
        task.result()


class LocalEventBus(FanOut):
    """Delivers inside this process only: an in-memory database, and tests."""

    crosses_processes = False

    def __init__(self, *, queue_size: int = QUEUE_SIZE) -> None:
        super().__init__(queue_size)

    async def publish(self, channel: str, message: str) -> None:
        if self._publishable(channel, message):
            self._deliver(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        inbox = self._attach(channel)
        try:
            yield inbox
        finally:
            self._detach(channel, inbox)

    async def close(self) -> None:
        self._close_inboxes()


class RedisEventBus(FanOut):
    """Redis pub/sub with one subscribing connection per process.

    A dispatcher task owns that connection: it sends SUBSCRIBE when a channel gets
    its first local subscriber and UNSUBSCRIBE when its last one leaves, reads
    messages into the subscribers' inboxes, PINGs an idle connection to notice a
    dead one, and reconnects with backoff (subscriptions are then renewed;
    messages published meanwhile are lost). Subscribers never talk to Redis
    themselves, so a cancelled subscriber cannot leave the connection half-written.
    """

    def __init__(
        self,
        url: str,
        prefix: str = "clientzone:",
        *,
        queue_size: int = QUEUE_SIZE,
        subscribe_timeout: float = 5.0,
        publish_timeout: float = 2.0,
        keepalive_seconds: float = 15.0,
    ) -> None:
        super().__init__(queue_size)
        self._prefix = prefix
        self._subscribe_timeout = subscribe_timeout
        self._publish_timeout = publish_timeout
        self._keepalive = keepalive_seconds
        name = _redis_client_name(prefix)
        # Publishes share a pool; the subscribing connection comes from a client
        # of its own without socket_timeout: its reads set their own timeouts, and
        # with a socket_timeout redis-py writes through asyncio.wait_for, which on
        # Python 3.11 can swallow a cancellation (the dispatcher would never stop).
        self._redis = Redis.from_url(
            url,
            socket_timeout=_CONNECT_TIMEOUT,
            socket_connect_timeout=_CONNECT_TIMEOUT,
            client_name=name,
        )
        self._subscriber = Redis.from_url(
            url,
            socket_timeout=None,
            socket_connect_timeout=_CONNECT_TIMEOUT,
            client_name=name,
            max_connections=1,
        )
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()  # local channels changed: sync with Redis
        self._confirmed: set[str] = set()  # channels Redis confirmed on this connection
        self._progress = asyncio.Event()  # replaced after every confirmation

    async def publish(self, channel: str, message: str) -> None:
        if not self._publishable(channel, message):
            return
        try:
            async with asyncio.timeout(self._publish_timeout):
                await self._redis.publish(self._prefix + channel, message)
        except Exception as error:  # the mutation has committed: never fail it here
            logger.warning(
                "live update to %r lost: Redis publish failed (%s)", channel, _describe(error)
            )

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        inbox = self._attach(channel)
        try:
            self._changed.set()
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="clientzone-events-redis")
            await self._confirmation(channel)
            yield inbox
        finally:
            self._detach(channel, inbox)
            self._changed.set()

    async def close(self) -> None:
        self._close_inboxes()
        task, self._task = self._task, None
        await _stop(task)
        await self._subscriber.aclose()
        await self._redis.aclose()

    async def _confirmation(self, channel: str) -> None:
        try:
            async with asyncio.timeout(self._subscribe_timeout):
                while channel not in self._confirmed:
                    await self._progress.wait()
        except TimeoutError:
            raise EventBusUnavailable(
                f"Redis did not confirm the subscription to {channel!r}"
            ) from None

    async def _run(self) -> None:
        delay = _RETRY_FIRST
        failing = False
        while True:
            pubsub = self._subscriber.pubsub()
            try:
                # The handshake's replies would otherwise wait without a limit.
                async with asyncio.timeout(2 * _CONNECT_TIMEOUT):
                    await pubsub.connect()  # type: ignore[no-untyped-call]
                if failing:
                    logger.info("Redis pub/sub connection restored")
                failing, delay = False, _RETRY_FIRST
                await self._serve(pubsub)
            except Exception as error:
                failing = True
                logger.warning(
                    "Redis pub/sub connection failed (%s); retrying in %.1f s",
                    _describe(error),
                    delay,
                )
            finally:
                self._confirmed.clear()
                with suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    async def _serve(self, pubsub: PubSub) -> None:
        """Until the connection fails: one task sends (un)subscriptions, one reads."""
        sent: set[str] = set()  # subscribed on this connection, as far as we asked
        pending: Counter[str] = Counter()  # SUBSCRIBEs sent, not yet confirmed
        self._changed.set()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._send(pubsub, sent, pending))
            group.create_task(self._receive(pubsub, sent, pending))

    async def _send(self, pubsub: PubSub, sent: set[str], pending: Counter[str]) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            _ensure_connected(pubsub)
            wanted = set(self._inboxes)
            if gone := sent - wanted:
                sent.difference_update(gone)
                self._confirmed.difference_update(gone)
                await pubsub.unsubscribe(*(self._prefix + channel for channel in gone))
            if new := wanted - sent:
                sent.update(new)
                pending.update(new)
                await pubsub.subscribe(*(self._prefix + channel for channel in new))

    async def _receive(self, pubsub: PubSub, sent: set[str], pending: Counter[str]) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            _ensure_connected(pubsub)
            message = await pubsub.get_message(timeout=self._keepalive)
            now = loop.time()
            if message is None:
                if now - heard >= 2 * self._keepalive:
                    raise ConnectionError("Redis did not answer PING")
                await pubsub.ping()
                continue
            heard = now
            kind = message["type"]
            if kind not in ("message", "subscribe"):
                continue
            channel = message["channel"].decode()[len(self._prefix) :]
            if kind == "message":
                self._deliver(channel, message["data"].decode(errors="replace"))
                continue
            # Confirmations come in the order the SUBSCRIBEs went out; the channel
            # is live once the last one sent for it is confirmed.
            pending[channel] -= 1
            if pending[channel] <= 0:
                del pending[channel]
                if channel in sent:
                    self._confirmed.add(channel)
                    self._progress.set()
                    self._progress = asyncio.Event()


def _ensure_connected(pubsub: PubSub) -> None:
    # redis-py would reconnect silently; the dispatcher starts afresh instead, so
    # its record of what is subscribed always matches the connection.
    if pubsub.connection is None or not pubsub.connection.is_connected:
        raise ConnectionError("Redis pub/sub connection closed")


def _redis_client_name(prefix: str) -> str:
    """A CLIENT SETNAME name (printable, no spaces), to spot the connections in CLIENT LIST."""
    return "".join(c if "!" <= c <= "~" else "_" for c in prefix) + "events"


class PostgresEventBus(FanOut):
    """PostgreSQL LISTEN/NOTIFY through asyncpg, beside SQLAlchemy's pool.

    A dispatcher task keeps one connection LISTENing (created at the first
    subscription, checked every `keepalive_seconds`, reopened with backoff when it
    drops while subscribers keep waiting). NOTIFY goes through a small pool of
    its own, so publishing never waits for or disturbs the listener.
    """

    def __init__(
        self,
        database_url: str,
        *,
        queue_size: int = QUEUE_SIZE,
        subscribe_timeout: float = 5.0,
        publish_timeout: float = 2.0,
        keepalive_seconds: float = 15.0,
    ) -> None:
        super().__init__(queue_size)
        self._connect_args = _asyncpg_connect_args(database_url)
        self._subscribe_timeout = subscribe_timeout
        self._publish_timeout = publish_timeout
        self._keepalive = keepalive_seconds
        self._pool: Any = None  # asyncpg.Pool, opened by the first publish
        self._pool_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def publish(self, channel: str, message: str) -> None:
        if not self._publishable(channel, message):
            return
        payload = json.dumps({"c": channel, "m": message}, ensure_ascii=False)
        if len(payload.encode()) > _POSTGRES_PAYLOAD_BYTES:
            logger.error("not publishing to %r: NOTIFY payload over 8000 bytes", channel)
            return
        try:
            async with asyncio.timeout(self._publish_timeout):
                pool = await self._publisher()
                await pool.execute("SELECT pg_notify($1, $2)", POSTGRES_CHANNEL, payload)
        except Exception as error:  # the mutation has committed: never fail it here
            logger.warning("live update to %r lost: NOTIFY failed (%s)", channel, _describe(error))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        inbox = self._attach(channel)
        try:
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="clientzone-events-pg")
            try:
                async with asyncio.timeout(self._subscribe_timeout):
                    await self._listening.wait()
            except TimeoutError:
                raise EventBusUnavailable("PostgreSQL LISTEN connection unavailable") from None
            yield inbox
        finally:
            self._detach(channel, inbox)

    async def close(self) -> None:
        self._close_inboxes()
        task, self._task = self._task, None
        await _stop(task)
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _publisher(self) -> Any:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        **self._connect_args,
                        min_size=0,
                        max_size=4,
                        max_inactive_connection_lifetime=60,
                        timeout=_CONNECT_TIMEOUT,
                    )
        return self._pool

    async def _run(self) -> None:
        delay = _RETRY_FIRST
        failing = False
        while True:
            try:
                connection = await asyncpg.connect(
                    **self._connect_args,
                    timeout=_CONNECT_TIMEOUT,
                    server_settings={"application_name": POSTGRES_APPLICATION_NAME},
                )
            except Exception as error:
                failing = True
                logger.warning(
                    "PostgreSQL LISTEN connection failed (%s); retrying in %.1f s",
                    _describe(error),
                    delay,
                )
            else:
                if await self._listen(connection, restored=failing):
                    failing, delay = False, _RETRY_FIRST
                else:
                    failing = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    async def _listen(self, connection: Any, *, restored: bool) -> bool:
        """LISTEN on `connection` until it fails, then close it; False when LISTEN
        itself failed (the caller backs off further)."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(POSTGRES_CHANNEL, self._on_notification)
            self._listening.set()
            if restored:
                logger.info("PostgreSQL LISTEN connection restored")
            while not lost.is_set():
                try:
                    async with asyncio.timeout(self._keepalive):
                        await lost.wait()
                except TimeoutError:
                    await connection.fetchval("SELECT 1", timeout=_CONNECT_TIMEOUT)
            raise ConnectionError("the server closed the connection")
        except Exception as error:
            logger.warning(
                "PostgreSQL LISTEN connection %s (%s); reconnecting",
                "lost" if self._listening.is_set() else "failed",
                _describe(error),
            )
            return self._listening.is_set()
        finally:
            self._listening.clear()
            with suppress(Exception):
                await connection.close(timeout=_CONNECT_TIMEOUT)
            if not connection.is_closed():
                connection.terminate()

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            envelope = json.loads(payload)
            channel, message = envelope["c"], envelope["m"]
        except (ValueError, TypeError, KeyError):
            logger.warning("ignoring a malformed %s notification", POSTGRES_CHANNEL)
            return
        if isinstance(channel, str) and isinstance(message, str):
            self._deliver(channel, message)


def _asyncpg_connect_args(database_url: str) -> dict[str, Any]:
    """asyncpg.connect() arguments for DATABASE_URL, read the way SQLAlchemy reads
    it (host, port, credentials, ssl and the other query options)."""
    url = make_url(normalize_database_url(database_url))
    _, params = url.get_dialect()().create_connect_args(url)
    arguments = dict(params)
    # Options of SQLAlchemy's adapter, not of asyncpg.connect().
    for key in ("prepared_statement_cache_size", "prepared_statement_name_func"):
        arguments.pop(key, None)
    return arguments
