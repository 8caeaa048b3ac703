"""Live-update events: the same behaviour on every backend that can run here,
in-process and the machine's sockets (an SQLite file) always, Redis on the
machine's server, PostgreSQL when the run is on PostgreSQL. Two bus instances
stand for two server processes; one test starts a real second process."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from clientzone.realtime.events import (
    POSTGRES_APPLICATION_NAME,
    EventBus,
    EventBusUnavailable,
    LocalEventBus,
    PostgresEventBus,
    RedisEventBus,
    build_event_bus,
)
from clientzone.realtime.machine_bus import MachineEventBus, events_folder

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SQLITE_URL = "sqlite+aiosqlite:///:memory:"  # chooses the in-process bus; never opened
WAIT = 2.0  # for a message that should arrive
QUIET = 0.3  # for one that should not
PROJECT = Path(__file__).resolve().parent.parent


@dataclass
class Backend:
    """How to build buses that share one backend, as the processes of one
    deployment would; every bus built is closed after the test."""

    name: str
    database_url: str
    redis_url: str | None
    prefix: str = field(default_factory=lambda: f"clientzone-test-{uuid.uuid4().hex[:12]}:")
    buses: list[EventBus] = field(default_factory=list)

    def bus(self) -> EventBus:
        bus = build_event_bus(self.database_url, self.redis_url, self.prefix)
        self.buses.append(bus)
        return bus


ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """PostgreSQL's LISTEN/NOTIFY joins the backends when the run is on PostgreSQL."""
    postgres = ["postgresql"] if ON_POSTGRES else []
    if "any_backend" in metafunc.fixturenames:
        metafunc.parametrize("any_backend", ["local", "machine", "redis", *postgres], indirect=True)
    if "shared_backend" in metafunc.fixturenames:
        metafunc.parametrize("shared_backend", ["machine", "redis", *postgres], indirect=True)


def _backend(request: pytest.FixtureRequest, name: str) -> Backend:
    if name == "local":
        return Backend(name, SQLITE_URL, None)
    if name == "redis":
        return Backend(name, SQLITE_URL, REDIS_URL)
    if name == "machine":
        folder = request.getfixturevalue("tmp_path")
        return Backend(name, f"sqlite+aiosqlite:///{folder}/events.db", None)
    database_url: str = request.getfixturevalue("database_url")
    return Backend(name, database_url, None)


@pytest.fixture
def any_backend(request: pytest.FixtureRequest) -> Backend:
    # Synchronous: an async fixture cannot ask for `database_url` on demand.
    return _backend(request, request.param)


@pytest.fixture
def shared_backend(request: pytest.FixtureRequest) -> Backend:
    return _backend(request, request.param)


@pytest.fixture
async def backend(any_backend: Backend) -> AsyncIterator[Backend]:
    """Every backend."""
    yield any_backend
    for bus in any_backend.buses:
        await bus.close()


@pytest.fixture
async def shared(shared_backend: Backend) -> AsyncIterator[Backend]:
    """The backends that cross processes."""
    yield shared_backend
    for bus in shared_backend.buses:
        await bus.close()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


@pytest.fixture
def events_log() -> Iterator[_Records]:
    """The module's log records. On the logger itself: the app's logging setup
    stops `clientzone` records from reaching the root logger (and caplog)."""
    handler = _Records()
    logger = logging.getLogger("clientzone.events")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _channel() -> str:
    return f"case:{uuid.uuid4().hex}"


async def _next(messages: AsyncIterator[str], within: float = WAIT) -> str:
    async with asyncio.timeout(within):
        return await anext(messages)


async def _nothing(messages: AsyncIterator[str]) -> None:
    with pytest.raises(TimeoutError):
        await _next(messages, QUIET)


async def _redis_subscribers(backend: Backend, channel: str) -> int:
    client = Redis.from_url(REDIS_URL)
    try:
        [(_, count)] = await client.pubsub_numsub(backend.prefix + channel)
    finally:
        await client.aclose()
    return int(count)


async def _until_redis_has(backend: Backend, channel: str, count: int) -> None:
    """Redis learns of an UNSUBSCRIBE shortly after the block is left."""
    if backend.name != "redis":
        return
    async with asyncio.timeout(WAIT):
        while True:
            if await _redis_subscribers(backend, channel) == count:
                return
            await asyncio.sleep(0.02)


def _pg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_the_backend_follows_the_settings() -> None:
    assert isinstance(build_event_bus(SQLITE_URL, None, "p:"), LocalEventBus)
    on_a_file = build_event_bus("sqlite:///./var/portal.db", None, "p:")
    assert isinstance(on_a_file, MachineEventBus)
    assert on_a_file.folder == events_folder("./var/portal.db")
    pg = "postgresql://app@db.internal:5432/portal"
    assert isinstance(build_event_bus(pg, None, "p:"), PostgresEventBus)
    # Redis wins over either database; nothing connects before first use.
    assert isinstance(build_event_bus(pg, "redis://127.0.0.1:1", "p:"), RedisEventBus)
    assert isinstance(build_event_bus(SQLITE_URL, "redis://127.0.0.1:1", "p:"), RedisEventBus)


async def test_a_subscriber_receives_what_is_published(backend: Backend) -> None:
    bus = backend.bus()
    channel = _channel()
    async with bus.subscribe(channel) as messages:
        await bus.publish(channel, '{"id": "abc", "status": "résolu"}')
        assert await _next(messages) == '{"id": "abc", "status": "résolu"}'
        await bus.publish(channel, "second")
        assert await _next(messages) == "second"


async def test_one_instance_delivers_to_a_subscriber_of_another(shared: Backend) -> None:
    publisher, subscriber = shared.bus(), shared.bus()
    channel = _channel()
    async with subscriber.subscribe(channel) as messages:
        await publisher.publish(channel, "updated")
        assert await _next(messages) == "updated"


async def test_in_process_buses_do_not_share_messages() -> None:
    """Why an in-memory database serves one process only."""
    first, second = LocalEventBus(), LocalEventBus()
    channel = _channel()
    async with second.subscribe(channel) as messages:
        await first.publish(channel, "updated")
        await _nothing(messages)


async def test_a_subscriber_of_another_channel_gets_nothing(backend: Backend) -> None:
    publisher, subscriber = backend.bus(), backend.bus()
    if backend.name == "local":
        publisher = subscriber
    mine, other = _channel(), _channel()
    async with subscriber.subscribe(mine) as messages:
        await publisher.publish(other, "not for you")
        await _nothing(messages)
        await publisher.publish(mine, "for you")
        assert await _next(messages) == "for you"


async def test_two_subscribers_of_one_channel_both_receive(backend: Backend) -> None:
    bus = backend.bus()
    channel = _channel()
    async with bus.subscribe(channel) as first, bus.subscribe(channel) as second:
        assert bus.subscriber_count(channel) == 2  # type: ignore[attr-defined]
        await _until_redis_has(backend, channel, 1)  # one Redis subscription for both
        await bus.publish(channel, "updated")
        assert await _next(first) == "updated"
        assert await _next(second) == "updated"


async def test_leaving_the_block_stops_delivery_and_frees_the_subscription(
    backend: Backend,
) -> None:
    bus = backend.bus()
    channel = _channel()
    async with bus.subscribe(channel) as staying:
        async with bus.subscribe(channel) as leaving:
            pass
        assert bus.subscriber_count(channel) == 1  # type: ignore[attr-defined]
        await bus.publish(channel, "after")
        assert await _next(staying) == "after"  # so it did reach this process
        assert [m async for m in leaving] == []  # ended, and got nothing
    assert bus.subscriber_count(channel) == 0  # type: ignore[attr-defined]
    await _until_redis_has(backend, channel, 0)


async def test_a_cancelled_consumer_unsubscribes(backend: Backend) -> None:
    bus = backend.bus()
    channel = _channel()
    listening = asyncio.Event()

    async def consume() -> None:
        async with bus.subscribe(channel) as messages:
            listening.set()
            async for _ in messages:  # where a GraphQL subscription waits
                pass

    task = asyncio.create_task(consume())
    async with asyncio.timeout(WAIT):
        await listening.wait()
    await _until_redis_has(backend, channel, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert bus.subscriber_count(channel) == 0  # type: ignore[attr-defined]
    await _until_redis_has(backend, channel, 0)


async def test_closing_the_bus_ends_the_subscribers(backend: Backend) -> None:
    bus = backend.bus()
    channel = _channel()
    async with bus.subscribe(channel) as messages:
        await bus.close()
        async with asyncio.timeout(WAIT):
            assert [m async for m in messages] == []
    with pytest.raises(RuntimeError):
        async with bus.subscribe(channel):
            pass
    await bus.publish(channel, "after close")  # ignored, not raised


@pytest.mark.parametrize(
    "make_bus",
    [
        pytest.param(lambda: RedisEventBus("redis://127.0.0.1:1", "p:"), id="redis"),
        pytest.param(lambda: PostgresEventBus("postgresql://nobody@127.0.0.1:1/none"), id="pg"),
    ],
)
async def test_publishing_with_the_backend_unreachable_logs_and_returns(
    make_bus: Callable[[], EventBus], events_log: _Records
) -> None:
    unreachable = make_bus()
    try:
        started = time.monotonic()
        await unreachable.publish("case:abc", "updated")  # does not raise
        assert time.monotonic() - started < WAIT
    finally:
        await unreachable.close()
    [warning] = events_log.messages()
    assert warning.startswith("live update to 'case:abc' lost")


@pytest.mark.parametrize(
    "make_bus",
    [
        pytest.param(
            lambda: RedisEventBus("redis://127.0.0.1:1", "p:", subscribe_timeout=0.3), id="redis"
        ),
        pytest.param(
            lambda: PostgresEventBus("postgresql://nobody@127.0.0.1:1/none", subscribe_timeout=0.3),
            id="pg",
        ),
    ],
)
async def test_subscribing_with_the_backend_unreachable_fails_soon(
    make_bus: Callable[[], RedisEventBus | PostgresEventBus], events_log: _Records
) -> None:
    unreachable = make_bus()
    try:
        with pytest.raises(EventBusUnavailable):
            async with unreachable.subscribe("case:abc"):
                pass
        assert unreachable.subscriber_count("case:abc") == 0
    finally:
        await unreachable.close()
    assert any("connection failed" in m for m in events_log.messages())


async def test_a_slow_subscriber_loses_its_oldest_messages(events_log: _Records) -> None:
    bus = LocalEventBus(queue_size=3)
    channel = _channel()
    async with bus.subscribe(channel) as messages:
        for n in range(1, 6):
            await bus.publish(channel, str(n))
        assert [await _next(messages) for _ in range(3)] == ["3", "4", "5"]
        await _nothing(messages)
    assert len(events_log.messages()) == 1  # warned once, not once per message


async def test_oversized_messages_are_refused_on_every_backend(
    backend: Backend, events_log: _Records
) -> None:
    """So that what works on SQLite also fits PostgreSQL's NOTIFY."""
    bus = backend.bus()
    channel = _channel()
    async with bus.subscribe(channel) as messages:
        await bus.publish(channel, "x" * 4001)
        await bus.publish(channel, "ñ" * 2000)  # 4000 bytes: the largest allowed
        assert await _next(messages) == "ñ" * 2000
    assert "message of 4001 bytes" in events_log.messages(logging.ERROR)[0]


async def test_subscribers_keep_waiting_while_the_connection_is_replaced(
    shared: Backend, events_log: _Records
) -> None:
    publisher, subscriber = shared.bus(), shared.bus()
    channel = _channel()
    if isinstance(subscriber, MachineEventBus):
        subscriber.recheck_seconds = 0.05
    async with subscriber.subscribe(channel) as messages:
        if isinstance(subscriber, MachineEventBus):
            # A cleaner of the temporary folder removes the process's socket.
            shutil.rmtree(subscriber.folder)
        elif shared.name == "redis":
            client = Redis.from_url(REDIS_URL)
            try:
                for entry in await client.client_list():
                    if entry["name"] == f"{shared.prefix}events" and "P" in entry["flags"]:
                        await client.client_kill_filter(_id=entry["id"])
            finally:
                await client.aclose()
        else:
            admin = await asyncpg.connect(_pg_dsn(shared.database_url))
            try:
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name = $1",
                    POSTGRES_APPLICATION_NAME,
                )
                # This bus's connection, and any an earlier test's server
                # process still holds on this database (they reconnect too).
                assert killed >= 1
            finally:
                await admin.close()
        # Messages sent before the new connection listens are lost (hints, not
        # a log): publish until one arrives.
        async with asyncio.timeout(WAIT):
            while True:
                await publisher.publish(channel, "again")
                try:
                    assert await _next(messages, 0.1) == "again"
                    break
                except TimeoutError:
                    continue
    assert any("lost" in m or "failed" in m or "removed" in m for m in events_log.messages())


_PUBLISH_FROM_ANOTHER_PROCESS = """
import asyncio, sys
from clientzone.realtime.events import build_event_bus

async def main() -> None:
    database_url, redis_url, prefix, channel, message = sys.argv[1:]
    bus = build_event_bus(database_url, redis_url or None, prefix)
    await bus.publish(channel, message)
    await bus.close()

asyncio.run(main())
"""


async def test_a_message_crosses_processes(shared: Backend) -> None:
    bus = shared.bus()
    channel = _channel()
    async with bus.subscribe(channel) as messages:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _PUBLISH_FROM_ANOTHER_PROCESS,
            shared.database_url,
            shared.redis_url or "",
            shared.prefix,
            channel,
            '{"case": "abc"}',
            cwd=PROJECT,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(30):  # interpreter start-up, not the bus
            _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
        assert await _next(messages) == '{"case": "abc"}'


async def test_a_process_that_is_gone_is_forgotten_by_the_next_publisher(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/gone.db"
    publisher, subscriber = build_event_bus(url, None, ""), build_event_bus(url, None, "")
    assert isinstance(subscriber, MachineEventBus)
    channel = _channel()
    try:
        async with subscriber.subscribe(channel):
            pass
        # A crashed process leaves its socket file behind, with nobody reading it.
        stale = subscriber.folder / "999999-dead.sock"
        dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        dead.bind(str(stale))
        dead.close()
        async with subscriber.subscribe(channel) as messages:
            await publisher.publish(channel, "still delivered")
            assert await _next(messages) == "still delivered"
        assert not stale.exists()
    finally:
        await publisher.close()
        await subscriber.close()
    assert not subscriber.folder.exists()  # the last one out removes the folder


async def test_a_folder_others_may_write_to_is_refused(
    tmp_path: Path, events_log: _Records
) -> None:
    bus = build_event_bus(f"sqlite+aiosqlite:///{tmp_path}/shared.db", None, "")
    assert isinstance(bus, MachineEventBus)
    bus.folder.mkdir(mode=0o700)
    bus.folder.chmod(0o777)
    try:
        with pytest.raises(EventBusUnavailable):
            async with bus.subscribe(_channel()):
                pass
    finally:
        await bus.close()
        bus.folder.rmdir()
    assert any("cannot reach this process" in m for m in events_log.messages())
