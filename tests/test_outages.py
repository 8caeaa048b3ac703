"""Overload and outages are answered fast and retryably (UNAVAILABLE, 503,
Retry-After), never as INTERNAL, and the service recovers by itself."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database, Timeouts
from tests.helpers import PASSWORD, GraphQLClient, http_client, login, make_user

LOGIN_DOCUMENT = (
    "mutation Login($input: LoginInput!) { login(input: $input) { userErrors { code } } }"
)


async def test_past_its_capacity_a_process_refuses_at_once(
    settings: Settings, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    busy = settings.model_copy(update={"max_concurrent_requests": 1, "max_queued_requests": 1})
    app = create_app(busy, database)

    async def attempt() -> tuple[int, float, Any]:
        async with http_client(app) as http:
            started = time.perf_counter()
            response = await login(GraphQLClient(http), "ana@example.com")
            return response.status_code, time.perf_counter() - started, response

    answers = await asyncio.gather(*(attempt() for _ in range(8)))
    await app.state.close_clients()
    refused = [(elapsed, response) for status, elapsed, response in answers if status == 503]
    served = [status for status, _, _ in answers if status == 200]
    assert len(served) >= 2  # one running, one waiting its turn
    assert len(refused) >= 4
    for elapsed, response in refused:
        assert elapsed < 1.0  # refused at once, not after a wait
        assert response.headers["retry-after"] == "1"
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert response.json()["errors"][0]["extensions"]["reason"] == "OVERLOADED"


async def test_a_locked_sqlite_database_is_unavailable_not_internal(
    settings: Settings, database: Database, database_url: str
) -> None:
    if not database.is_sqlite:
        pytest.skip("the SQLite writer's lock; PostgreSQL has its own outage test below")
    await make_user(database, "ana@example.com", password=PASSWORD)
    quick = Database(database_url, timeouts=Timeouts(statement=0.3))
    app = create_app(settings, quick)
    async with database.engine.connect() as holder:
        await holder.execute(text("BEGIN IMMEDIATE"))  # another writer holds the lock
        try:
            async with http_client(app) as http:
                response = await login(GraphQLClient(http), "ana@example.com")
        finally:
            await holder.rollback()
    await app.state.close_clients()
    await quick.dispose()
    assert response.status_code in (200, 503)
    codes = [e["extensions"]["code"] for e in response.json().get("errors", [])]
    assert codes == ["UNAVAILABLE"]
    assert int(response.headers["retry-after"]) >= 1


class SilentProxy:
    """A TCP proxy to PostgreSQL that can stop answering, like a server whose
    network died without closing the connections."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.spoken = asyncio.Event()  # set: bytes flow; clear: silence
        self.spoken.set()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []

    @property
    def silent(self) -> bool:
        return not self.spoken.is_set()

    @silent.setter
    def silent(self, value: bool) -> None:
        if value:
            self.spoken.clear()
        else:
            self.spoken.set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        await self.spoken.wait()  # a new connection during the silence never gets through
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers.append(upstream_writer)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                await self.spoken.wait()
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(
            pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True
        )


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[SilentProxy]:
    url = make_url(database_url)
    silent = SilentProxy(url.host or "127.0.0.1", url.port or 5432)
    await silent.start()
    yield silent
    silent.silent = False
    await silent.stop()


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="a network outage needs a database server"
)
async def test_a_silent_database_is_unavailable_within_the_timeouts_and_recovers(
    settings: Settings, database: Database, database_url: str, proxy: SilentProxy
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    through_proxy = Database(
        url.render_as_string(hide_password=False),
        pool_size=2,
        timeouts=Timeouts(connect=1.0, pool=1.0, statement=1.0),
    )
    app = create_app(settings, through_proxy)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        before = await login(client, "ana@example.com")
        assert before.json()["data"]["login"]["userErrors"] == []
        proxy.silent = True
        started = time.perf_counter()
        during = await client.post(LOGIN_DOCUMENT, {"input": {"email": "x@y.z", "password": "p"}})
        waited = time.perf_counter() - started
        ready = await http.get("/readyz")
        proxy.silent = False
        await asyncio.sleep(0.2)
        after = await login(client, "ana@example.com")
    await app.state.close_clients()
    await through_proxy.dispose()
    assert during.status_code == 503
    assert during.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert waited < 6  # connect, statement and pool timeouts, not the outage's length
    assert ready.status_code == 503
    assert after.json()["data"]["login"]["userErrors"] == []
