"""Live case updates over graphql-transport-ws, across real server processes.

Two `clientzone serve` processes share the database (and Redis, or PostgreSQL's
LISTEN/NOTIFY): a subscription on one hears about changes made through the
other, and through the support staff's command in a third process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.memberships import Membership, Permission, Role
from tests.helpers import (
    NEW_USER_FIELDS,
    gid,
    issue_token,
    make_account,
    make_membership,
    make_user,
)
from tests.test_end_to_end import start_server

SUBSCRIBE = """
subscription($id: ID!) {
  caseUpdated(caseId: $id) {
    kind
    case { number status comments(last: 1) { nodes { body authorKind } } }
  }
}
"""
CREATE = """
mutation($input: CreateCaseInput!) {
  createCase(input: $input) { case { id number } userErrors { code } }
}
"""
COMMENT = """
mutation($input: AddCaseCommentInput!) { addCaseComment(input: $input) { userErrors { code } } }
"""
WAIT = 10.0


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Redis always; PostgreSQL's LISTEN/NOTIFY too when the run is on PostgreSQL."""
    if "backend" in metafunc.fixturenames:
        on_postgres = bool(os.environ.get("TEST_DATABASE_URL"))
        metafunc.parametrize("backend", ["redis", "postgres"] if on_postgres else ["redis"])


@dataclass
class Cluster:
    servers: list[str]
    env: dict[str, str]
    token: str
    case_id: str
    case_number: str
    database: Database
    member: Membership


@pytest.fixture
def cluster_env(database_url: str, backend: str) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "MAIL_SENDER": "off"}
    if backend == "redis":
        env |= {
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "REDIS_PREFIX": f"test-{uuid.uuid4().hex[:8]}:",
        }
    return env


@pytest.fixture
def servers(cluster_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    with (
        start_server(cluster_env, tmp_path / "a.log") as a,
        start_server(cluster_env, tmp_path / "b.log") as b,
    ):
        yield [a, b]


@pytest.fixture
async def cluster(servers: list[str], cluster_env: dict[str, str], database: Database) -> Cluster:
    user = await make_user(database, "soporte@obra.example.com")
    account = await make_account(database, number="MX-5100")
    member = await make_membership(database, user, account, Role.MEMBER, list(Permission))
    token = await issue_token(database, user)
    async with httpx.AsyncClient(base_url=servers[1]) as http:
        categories = await _post(
            http, token, "{ caseCategories { id subcategories { id code } } }", {}
        )
        other = categories["caseCategories"][0]
        created = await _post(
            http,
            token,
            CREATE,
            {
                "input": {
                    "categoryId": other["id"],
                    "subcategoryId": other["subcategories"][0]["id"],
                    "subject": "Datos fiscales",
                    "description": "Cambió el RFC",
                    "fields": NEW_USER_FIELDS,  # the first subcategory: DATABASE_UPDATE
                }
            },
        )
    case = created["createCase"]["case"]
    return Cluster(servers, cluster_env, token, case["id"], case["number"], database, member)


async def _post(
    http: httpx.AsyncClient, token: str, document: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _ws_url(server: str) -> str:
    return server.replace("http://", "ws://") + "/graphql"


async def _subscribe(
    server: str, *, token: str, case_id: str, in_payload: bool = False, origin: str | None = None
) -> ClientConnection:
    """A graphql-transport-ws subscription, signed in by header or by the
    connection_init payload (as browsers must)."""
    headers = {"Authorization": f"Bearer {token}"} if token and not in_payload else {}
    socket = await connect(
        _ws_url(server),
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
    )
    init: dict[str, Any] = {"type": "connection_init"}
    if in_payload:
        init["payload"] = {"authorization": f"Bearer {token}"}
    await socket.send(json.dumps(init))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"id": case_id}},
            }
        )
    )
    # The subscription is listening once the server has read the case; give
    # it a moment (there is no "subscribed" message in the protocol).
    await asyncio.sleep(0.5)
    return socket


async def _next(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        message: dict[str, Any] = json.loads(await socket.recv())
    return message


async def _ended_with(socket: ClientConnection) -> str:
    """The error code that ended a subscription (then `complete`)."""
    refused = await _next(socket)
    assert refused["type"] == "next"
    assert refused["payload"]["data"] is None
    code: str = refused["payload"]["errors"][0]["extensions"]["code"]
    assert (await _next(socket))["type"] == "complete"
    return code


async def _comment(cluster: Cluster, body: str) -> None:
    async with httpx.AsyncClient(base_url=cluster.servers[1]) as http:
        data = await _post(
            http, cluster.token, COMMENT, {"input": {"caseId": cluster.case_id, "body": body}}
        )
    assert data["addCaseComment"]["userErrors"] == []


def _desk(cluster: Cluster, *args: str) -> None:
    """The support staff's command, in its own process."""
    subprocess.run(
        [sys.executable, "-m", "clientzone", "case", *args],
        env={**os.environ, **cluster.env},
        check=True,
        capture_output=True,
        timeout=60,
    )


async def test_an_update_made_through_another_process_arrives(cluster: Cluster) -> None:
    socket = await _subscribe(cluster.servers[0], token=cluster.token, case_id=cluster.case_id)
    try:
        await _comment(cluster, "¿Ya quedó?")
        update_ = await _next(socket)
        assert update_["type"] == "next"
        assert update_["payload"]["data"]["caseUpdated"] == {
            "kind": "COMMENT_ADDED",
            "case": {
                "number": cluster.case_number,
                "status": "NEW",
                "comments": {"nodes": [{"body": "¿Ya quedó?", "authorKind": "CUSTOMER"}]},
            },
        }
        # Staff, from a third process: an internal note is never sent, the answer is.
        _desk(cluster, "comment", cluster.case_number, "Cliente insistente", "--internal")
        _desk(cluster, "comment", cluster.case_number, "Sí, ya quedó")
        _desk(cluster, "status", cluster.case_number, "RESOLVED")
        answered = await _next(socket)
        assert answered["payload"]["data"]["caseUpdated"]["case"]["comments"]["nodes"] == [
            {"body": "Sí, ya quedó", "authorKind": "STAFF"}
        ]
        resolved = await _next(socket)
        assert resolved["payload"]["data"]["caseUpdated"]["kind"] == "STATUS_CHANGED"
        assert resolved["payload"]["data"]["caseUpdated"]["case"]["status"] == "RESOLVED"
        # Closing is final: the last update, then the subscription completes.
        _desk(cluster, "status", cluster.case_number, "CLOSED")
        closed = await _next(socket)
        assert closed["payload"]["data"]["caseUpdated"]["case"]["status"] == "CLOSED"
        assert (await _next(socket))["type"] == "complete"
    finally:
        await socket.close()


async def test_the_permission_is_checked_again_on_every_update(cluster: Cluster) -> None:
    socket = await _subscribe(
        cluster.servers[0], token=cluster.token, case_id=cluster.case_id, in_payload=True
    )
    try:
        await _comment(cluster, "Primero")
        assert (await _next(socket))["type"] == "next"
        async with cluster.database.transaction() as session:
            await session.execute(
                update(Membership)
                .where(Membership.id == cluster.member.id)  # type: ignore[arg-type]
                .values(permissions=frozenset({Permission.CASES_CREATE}))
            )
        await _comment(cluster, "Segundo")
        assert await _ended_with(socket) == "FORBIDDEN"
    finally:
        await socket.close()


async def test_a_suspended_member_stops_receiving(cluster: Cluster) -> None:
    socket = await _subscribe(cluster.servers[0], token=cluster.token, case_id=cluster.case_id)
    try:
        async with cluster.database.transaction() as session:
            await session.execute(
                update(Membership)
                .where(Membership.id == cluster.member.id)  # type: ignore[arg-type]
                .values(suspended_at=utcnow())
            )
        _desk(cluster, "comment", cluster.case_number, "Ya lo vemos")
        refused = await _next(socket)
        [error] = refused["payload"]["errors"]
        assert error["extensions"] == {"code": "FORBIDDEN", "reason": "MEMBER_SUSPENDED"}
        assert (await _next(socket))["type"] == "complete"
    finally:
        await socket.close()


async def test_another_accounts_case_cannot_be_followed(cluster: Cluster) -> None:
    stranger = await make_user(cluster.database, "otro@example.com")
    other = await make_account(cluster.database, number="AR-5200")
    await make_membership(cluster.database, stranger, other)
    token = await issue_token(cluster.database, stranger)
    socket = await _subscribe(cluster.servers[0], token=token, case_id=cluster.case_id)
    try:
        assert await _ended_with(socket) == "NOT_FOUND"
    finally:
        await socket.close()


async def test_a_page_from_another_origin_cannot_connect(cluster: Cluster) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            _ws_url(cluster.servers[0]),
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            origin="https://evil.example.com",  # type: ignore[arg-type]
        )
    assert refused.value.response.status_code == 403


async def test_unknown_ids_are_not_found(cluster: Cluster) -> None:
    socket = await _subscribe(
        cluster.servers[0], token=cluster.token, case_id=gid("Case", uuid.uuid4())
    )
    try:
        assert await _ended_with(socket) == "NOT_FOUND"
    finally:
        await socket.close()


async def test_following_a_case_needs_a_login_and_cases_view(cluster: Cluster) -> None:
    anonymous = await _subscribe(cluster.servers[0], token="", case_id=cluster.case_id)
    writer = await make_user(cluster.database, "escribe@example.com")
    account_id = cluster.member.account_id
    async with cluster.database.session() as session:
        account = await session.get(Account, account_id)
    assert account is not None
    await make_membership(cluster.database, writer, account, Role.MEMBER, [Permission.CASES_CREATE])
    token = await issue_token(cluster.database, writer)
    forbidden = await _subscribe(cluster.servers[0], token=token, case_id=cluster.case_id)
    try:
        assert await _ended_with(anonymous) == "UNAUTHENTICATED"
        assert await _ended_with(forbidden) == "FORBIDDEN"
    finally:
        await anonymous.close()
        await forbidden.close()
