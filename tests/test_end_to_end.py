"""The real server: `clientzone serve` under uvicorn, queried over TCP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from clientzone.db import Database
from tests.helpers import issue_token, make_account, make_membership, make_user
from tests.smtp_server import SmtpServer, smtp_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server_log(tmp_path: Path) -> Path:
    return tmp_path / "server.log"


@contextmanager
def start_server(
    extra_env: dict[str, str],
    log_path: Path,
    *,
    port: int | None = None,
    extra_args: tuple[str, ...] = ("--workers", "1"),
) -> Iterator[str]:
    """`clientzone serve` on `port` (else a free one); yields its base URL."""
    port = port or free_port()
    env = {**os.environ, "LOG_FORMAT": "json", **extra_env}
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "clientzone", "serve", "--port", str(port), *extra_args],
            env=env,
            stdout=log_file,
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
                pytest.fail(f"server did not start: {log_path.read_text()[-2000:]}")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture
def server(database_url: str, smtp_server: SmtpServer, server_log: Path) -> Iterator[str]:
    env = {
        "DATABASE_URL": database_url,
        **smtp_env(smtp_server.port),
        "MAIL_POLL_SECONDS": "30",
    }
    with start_server(env, server_log) as base:
        yield base


async def test_a_portal_query_over_a_real_server(
    server: str, database: Database, server_log: Path
) -> None:
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
    assert response.json()["data"] == {
        "viewer": {
            "user": {"email": "ana@example.com"},
            "activeAccount": {"number": "MX-1", "name": "Ferretería"},
        }
    }
    # LOG_FORMAT=json: every line is a JSON object; the access line has the request id
    await asyncio.sleep(0.2)
    lines = (await asyncio.to_thread(server_log.read_text)).splitlines()
    entries = [json.loads(line) for line in lines if line]
    access = [e for e in entries if e["logger"] == "uvicorn.access" and "/graphql" in e["message"]]
    assert access
    assert access[-1]["request_id"] == response.headers["x-request-id"]


async def test_the_server_sends_mail_in_process_right_after_the_commit(
    server: str, database: Database, smtp_server: SmtpServer
) -> None:
    user = await make_user(database, "ana@example.com")
    token = await issue_token(database, user)
    mutation = (
        'mutation { updatePersonalDetails(input: {lastName: "García Ruiz"}) { user { lastName } } }'
    )
    async with httpx.AsyncClient(base_url=server) as client:
        response = await client.post(
            "/graphql", json={"query": mutation}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.json()["data"]["updatePersonalDetails"]["user"]["lastName"] == "García Ruiz"
    # woken by the commit, not by the 30-second poll
    deadline = time.monotonic() + 10
    while not smtp_server.received and time.monotonic() < deadline:  # noqa: ASYNC110 (another thread)
        await asyncio.sleep(0.05)
    assert [r.recipients for r in smtp_server.received] == [["ana@example.com"]]


async def test_the_websocket_route_speaks_graphql_transport_ws(server: str) -> None:
    from websockets.asyncio.client import connect

    url = server.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
        await socket.send(json.dumps({"type": "ping"}))
        assert json.loads(await socket.recv()) == {"type": "pong"}
