"""The real server: `clientzone serve` under uvicorn, queried over TCP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from clientzone.db import Database
from tests.helpers import issue_token, make_account, make_membership, make_user


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_FORMAT": "json"}
    process = subprocess.Popen(
        [sys.executable, "-m", "clientzone", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()


async def test_a_portal_query_over_a_real_server(server: str, database: Database) -> None:
    user = await make_user(database, "ana@example.com")
    account = await make_account(database, number="MX-1", name="Ferretería")
    await make_membership(database, user, account)
    token = await issue_token(database, user)
    async with httpx.AsyncClient(base_url=server) as client:
        ready = await client.get("/readyz")
        response = await client.post(
            "/graphql",
            json={"query": "{ viewer { user { email } activeAccount { number name } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert ready.status_code == 200
    assert response.status_code == 200
    assert response.headers["x-request-id"]
    assert response.json() == {
        "data": {
            "viewer": {
                "user": {"email": "ana@example.com"},
                "activeAccount": {"number": "MX-1", "name": "Ferretería"},
            }
        }
    }
