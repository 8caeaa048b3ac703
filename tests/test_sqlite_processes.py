"""Several server processes on one SQLite file, with no Redis, behave as one
service: a session that ends through one is refused by the other at once (even
from its session cache) and closes the other's sockets, a subscription on one
hears a change made through the other or by a staff command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from clientzone.db import Database
from clientzone.migrate import upgrade
from tests.helpers import (
    NEW_USER_FIELDS,
    PASSWORD,
    closed_with,
    make_account,
    make_membership,
    make_user,
    open_socket,
)
from tests.test_end_to_end import start_server

WAIT = 10.0
ME = "query Me { viewer { user { email } } }"


async def _post(server: str, document: str, variables: Any = None, token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server, timeout=WAIT) as http:
        response = await http.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
        )
    return response.json()


async def _subscribe(server: str, token: str, case_id: str) -> ClientConnection:
    socket = await open_socket(server, token)
    document = "subscription S($id: ID!) { caseUpdated(caseId: $id) { kind } }"
    await socket.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": document, "variables": {"id": case_id}},
            }
        )
    )
    await asyncio.sleep(0.5)  # the subscription is set up
    return socket


async def _heard(socket: ClientConnection) -> str:
    async with asyncio.timeout(WAIT):
        message = json.loads(await socket.recv())
    return str(message["payload"]["data"]["caseUpdated"]["kind"])


async def test_two_servers_on_one_sqlite_file_hear_each_other(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/portal.db"
    database = Database(url)
    await upgrade(database)
    ana = await make_user(database, "ana@example.com", password=PASSWORD)
    account = await make_account(database, number="MX-1")
    await make_membership(database, ana, account)
    await database.dispose()
    # Long enough that only news from the other process can explain a refusal.
    env = {"DATABASE_URL": url, "MAIL_SENDER": "off", "SESSION_CACHE_SECONDS": "300"}
    with start_server(env, tmp_path / "a.log") as a, start_server(env, tmp_path / "b.log") as b:
        signed_in = await _post(
            a,
            "mutation L($input: LoginInput!) { login(input: $input) { token } }",
            {"input": {"email": "ana@example.com", "password": PASSWORD, "issueToken": True}},
        )
        token = signed_in["data"]["login"]["token"]
        for _ in range(2):  # B reads the session once, then answers from its cache
            assert (await _post(b, ME, token=token))["data"]["viewer"]["user"]
        categories = await _post(
            a, "query C { caseCategories { id subcategories { id } } }", token=token
        )
        category = categories["data"]["caseCategories"][0]
        created = await _post(
            a,
            "mutation New($input: CreateCaseInput!) { createCase(input: $input) "
            "{ case { id number } } }",
            {
                "input": {
                    "categoryId": category["id"],
                    "subcategoryId": category["subcategories"][0]["id"],
                    "subject": "Factura duplicada",
                    "description": "Llegó dos veces",
                    "fields": NEW_USER_FIELDS,
                }
            },
            token=token,
        )
        case = created["data"]["createCase"]["case"]
        socket = await _subscribe(b, token, case["id"])
        # A comment made through A reaches the subscriber on B...
        await _post(
            a,
            "mutation Say($input: AddCaseCommentInput!) "
            "{ addCaseComment(input: $input) { userErrors { code } } }",
            {"input": {"caseId": case["id"], "body": "Adjunto el comprobante"}},
            token=token,
        )
        assert await _heard(socket) == "COMMENT_ADDED"
        # ... and so does support's answer from the command line.
        command = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "clientzone", "case", "comment"),
            *(case["number"], "Ya está corregida"),
            env={**os.environ, **env},
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):  # interpreter start-up
            _, stderr = await command.communicate()
        assert command.returncode == 0, stderr.decode()
        assert "not told live" not in stderr.decode()
        assert await _heard(socket) == "COMMENT_ADDED"
        # Logging out through A closes B's socket and B refuses the token at once.
        await _post(a, "mutation Out { logout { endedSessions } }", token=token)
        assert await closed_with(socket) == 4401
        assert (await _post(b, ME, token=token))["data"]["viewer"] is None
