"""No code path holds a pooled connection while it waits for another.

The app runs on a pool of exactly one connection, and concurrent requests go
through every way of authenticating and every counter a request writes: a
bearer token whose last-seen time is written on every request, a session
cookie, failed and successful logins (their rate-limit counters), password
reset requests and attempts, sign-up, verification and invitation links,
old-portal claims, logout. A request that held its connection while it waited
for a second one would wait for ever (here: until the pool timeout, answered
UNAVAILABLE). Run with counters in the database and in Redis.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database, Timeouts
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    http_client,
    issue_token,
    login,
    make_account,
    make_membership,
    make_user,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
VIEWER = "query Viewer { viewer { user { email } activeAccount { number } } }"


@pytest.fixture(params=["database-counters", "redis-counters"])
async def app_on_one_connection(
    request: pytest.FixtureRequest, settings: Settings, database_url: str
) -> AsyncIterator[Any]:
    one = Database(
        database_url,
        pool_size=1,
        max_overflow=0,
        timeouts=Timeouts(pool=8.0, statement=8.0),
    )
    changes: dict[str, Any] = {
        # Every request writes its session's last-seen time.
        "session_touch_seconds": 0,
        "max_queued_requests": 1000,
        "queue_wait_seconds": 60,
    }
    if request.param == "redis-counters":
        changes |= {"redis_url": REDIS_URL, "redis_prefix": f"pool1-{uuid.uuid4().hex[:8]}:"}
    app = create_app(settings.model_copy(update=changes), one)
    yield app
    await app.state.close_clients()
    await one.dispose()


async def _graphql(http: httpx.AsyncClient, document: str, variables: Any, **headers: str) -> Any:
    response = await http.post(
        "/graphql", json={"query": document, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    assert "UNAVAILABLE" not in codes, body
    assert "INTERNAL" not in codes, body
    return body


async def test_every_auth_path_runs_concurrently_on_a_single_connection(
    app_on_one_connection: Any, database: Database
) -> None:
    ana = await make_user(database, "ana@example.com", password=PASSWORD)
    await make_membership(database, ana, await make_account(database, number="MX-1"))
    token = await issue_token(database, ana)
    app = app_on_one_connection
    async with http_client(app) as cookie_http:
        signed_in = await login(GraphQLClient(cookie_http), "ana@example.com")
        assert signed_in.json()["data"]["login"]["user"]

        async def bearer() -> None:
            async with http_client(app) as http:
                await _graphql(http, VIEWER, {}, Authorization=f"Bearer {token}")

        async def cookie() -> None:
            await _graphql(cookie_http, VIEWER, {})

        async def failed_login() -> None:
            async with http_client(app) as http:
                wrong = f"{uuid.uuid4().hex[:10]}@example.com"
                await login(GraphQLClient(http), wrong, "no-es-la-clave-123")

        async def good_login() -> None:
            async with http_client(app) as http:
                await login(GraphQLClient(http), "ana@example.com")

        async def anonymous(document: str, variables: dict[str, Any]) -> None:
            async with http_client(app) as http:
                await _graphql(http, document, variables)

        calls = []
        for i in range(6):
            calls += [
                bearer(),
                cookie(),
                failed_login(),
                anonymous(
                    "mutation R($l: String!) { requestPasswordReset(input: {login: $l}) "
                    "{ accepted } }",
                    {"l": f"persona{i}@example.com"},
                ),
                anonymous(
                    "mutation P($i: ResetPasswordInput!) { resetPassword(input: $i) "
                    "{ reset userErrors { code } } }",
                    {"i": {"login": "ana@example.com", "code": "000000", "newPassword": "x"}},
                ),
                anonymous(
                    "mutation S($i: SignUpInput!) { signUp(input: $i) { userErrors { code } } }",
                    {
                        "i": {
                            "email": f"nueva{i}@example.com",
                            "password": "girasol-lento-tambor-88",
                            "firstName": "Nueva",
                            "lastName": "Persona",
                        }
                    },
                ),
                anonymous(
                    "mutation V($t: String!) { verifyEmail(input: {token: $t}) "
                    "{ userErrors { code } } }",
                    {"t": "no-such-token"},
                ),
                anonymous(
                    "mutation A($t: String!) { acceptInvitation(input: {token: $t}) "
                    "{ userErrors { code } } }",
                    {"t": "no-such-token"},
                ),
            ]
        calls.append(good_login())
        async with asyncio.timeout(120):
            await asyncio.gather(*calls)
        # and the session that ends at the end still does so cleanly
        out = await _graphql(cookie_http, "mutation Out { logout { endedSessions } }", {})
        assert out["data"]["logout"]["endedSessions"] == 1
