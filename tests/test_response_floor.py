"""Answers that must not tell whether a login exists also take the same time:
at least AUTH_RESPONSE_FLOOR_MS, whichever path they took."""

from __future__ import annotations

import time
from typing import Any

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from tests.helpers import PASSWORD, GraphQLClient, http_client, login, make_user

FLOOR = 0.3
REQUEST_RESET = "mutation($l: String!) { requestPasswordReset(input: {login: $l}) { accepted } }"


async def _timed(call: Any) -> float:
    started = time.monotonic()
    await call
    return time.monotonic() - started


async def test_failures_and_unknown_logins_take_at_least_the_floor(
    settings: Settings, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    app = create_app(settings.model_copy(update={"auth_response_floor_ms": 300}), database)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        durations = [
            await _timed(login(client, "ana@example.com", "incorrecta-123")),
            await _timed(login(client, "nadie@example.com", "incorrecta-123")),
            await _timed(client.post(REQUEST_RESET, {"l": "ana@example.com"})),
            await _timed(client.post(REQUEST_RESET, {"l": "nadie@example.com"})),
        ]
    # Only the lower bound is asserted: an upper one would measure the machine.
    assert all(d >= FLOOR for d in durations), durations
