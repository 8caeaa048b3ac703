"""Servers reuse a live session for a few seconds, but a session that ends, a
switched account or a changed login is seen at once, in this process and in
every other one (through Redis, PostgreSQL's LISTEN/NOTIFY, or on an SQLite
file the machine's sockets)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database, StatementCounter
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    login,
    make_account,
    make_membership,
    make_user,
)

ME = "query Me { viewer { user { email firstName } activeAccount { number } } }"


async def _eventually(check: Callable[[], Any], seconds: float = 2.0) -> Any:
    """The answer once `check` returns something true (a message between
    processes takes milliseconds, not a fixed time)."""
    async with asyncio.timeout(seconds):
        while not (answer := await check()):  # noqa: ASYNC110 (another process's news)
            await asyncio.sleep(0.02)
    return answer


@pytest.fixture(params=["redis", "database"])
def shared(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Settings for two server processes that tell each other of changes: through
    Redis, or through what the database offers (PostgreSQL's LISTEN/NOTIFY, an
    SQLite file's sockets)."""
    if request.param == "database":
        return settings
    return settings.model_copy(
        update={
            "redis_url": "redis://127.0.0.1:6379/0",
            "redis_prefix": f"sc-{uuid.uuid4().hex[:8]}:",
        }
    )


async def test_a_change_made_in_one_process_is_seen_at_once_in_another(
    shared: Settings, database: Database
) -> None:
    ana = await make_user(database, "ana@example.com", password=PASSWORD)
    first_account = await make_account(database, number="MX-1")
    second_account = await make_account(database, number="MX-2")
    await make_membership(database, ana, first_account)
    await make_membership(database, ana, second_account)
    # Each with its own database engine, as two processes have.
    other_engine = Database(database.url)
    one, two = create_app(shared, database), create_app(shared, other_engine)
    try:
        async with http_client(one) as http_one, http_client(two) as http_two:
            signed_in = await login(GraphQLClient(http_one), "ana@example.com", issueToken=True)
            token = signed_in.json()["data"]["login"]["token"]
            here, there = GraphQLClient(http_one, token), GraphQLClient(http_two, token)

            async def seen_there() -> Any:
                return (await there.data(ME))["viewer"]

            # both processes have the session in their caches

            async def listening() -> bool:
                await there.data(ME)
                return bool(two.state.sessions.live and one.state.sessions.live)

            assert await _eventually(listening)
            await _eventually(seen_there)
            assert (await here.data(ME))["viewer"]["activeAccount"]["number"] == "MX-1"
            # a switched account
            await here.data(
                "mutation S($input: SwitchAccountInput!) { switchAccount(input: $input) "
                "{ account { number } } }",
                {"input": {"accountId": gid("Account", second_account.id)}},
            )

            async def switched() -> bool:
                viewer = (await there.data(ME))["viewer"]
                return bool(viewer["activeAccount"]["number"] == "MX-2")

            assert await _eventually(switched)
            # changed details
            await here.data(
                'mutation N { updatePersonalDetails(input: {firstName: "Anabel"}) '
                "{ userErrors { code } } }"
            )

            async def renamed() -> bool:
                return bool((await there.data(ME))["viewer"]["user"]["firstName"] == "Anabel")

            assert await _eventually(renamed)
            # the session ends
            await here.data("mutation Out { logout { endedSessions } }")

            async def ended() -> bool:
                return (await there.data(ME))["viewer"] is None

            assert await _eventually(ended)
    finally:
        await one.state.close_clients()
        await two.state.close_clients()
        await other_engine.dispose()


async def test_a_cached_session_reads_no_session_row(
    settings: Settings,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    app = create_app(settings, database)
    async with http_client(app) as http:
        signed_in = await login(GraphQLClient(http), "ana@example.com", issueToken=True)
        client = GraphQLClient(http, signed_in.json()["data"]["login"]["token"])
        counts = []
        for _ in range(3):
            with sql_statements() as counted:
                await client.data("query Me { viewer { user { email } } }")
            counts.append(counted.count)
    await app.state.close_clients()
    assert counts[0] == 1  # read once, then served from the cache
    assert counts[-1] == 0


def test_without_a_shared_bus_several_processes_do_not_cache(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = settings.model_copy(update={"database_url": "sqlite+aiosqlite:///:memory:"})
    monkeypatch.setenv("CLIENTZONE_PROCESSES", "2")
    assert create_app(in_memory, database).state.sessions is None
    assert create_app(settings, database).state.sessions is not None  # a file, or PostgreSQL
    monkeypatch.setenv("CLIENTZONE_PROCESSES", "1")
    assert create_app(in_memory, database).state.sessions is not None
