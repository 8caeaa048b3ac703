"""A live WebSocket never outlives its session or its permissions.

Against a real server: every way a session ends (logout, logout everywhere,
revokeSession, a password change or reset, expiry) closes an open socket with
4401 at once; a removed permission or membership is enforced on the next
operation sent over a socket that stays open.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from websockets.asyncio.client import ClientConnection, connect

from clientzone.core.ids import decode_id_of
from clientzone.core.tokens import hash_token
from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.api_clients import ApiAccessToken, ApiClient
from clientzone.models.base import utcnow
from clientzone.models.memberships import Permission, Role
from clientzone.models.sessions import SessionKind, create_session
from clientzone.models.users import User
from tests.helpers import (
    NEW_USER_FIELDS,
    PASSWORD,
    closed_with,
    gid,
    make_account,
    make_membership,
    make_user,
    open_socket,
    six_digit_code,
)
from tests.smtp_server import SmtpServer, smtp_env
from tests.test_end_to_end import start_server

WAIT = 10.0
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { token session { id } userErrors { code } }
}
"""
INVOICES = "query Invoices { account { invoices(first: 1) { nodes { number } } } }"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(
    database_url: str, smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {"DATABASE_URL": database_url, **smtp_env(smtp.port), "MAIL_POLL_SECONDS": "0.2"}
    log = tmp_path_factory.mktemp("ws") / "server.log"
    with start_server(env, log) as base:
        yield base


@dataclass
class People:
    ana: User
    luis: User
    account: Account
    luis_membership_id: str


@pytest.fixture
async def people(database: Database) -> People:
    ana = await make_user(database, "ana@example.com", password=PASSWORD)
    luis = await make_user(database, "luis@example.com", password=PASSWORD)
    account = await make_account(database, number="MX-1")
    await make_membership(database, ana, account)
    membership = await make_membership(
        database, luis, account, Role.MEMBER, [Permission.INVOICES_VIEW]
    )
    return People(ana, luis, account, gid("Member", membership.id))


async def _post(server: str, token: str | None, document: str, variables: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server, timeout=WAIT) as http:
        response = await http.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _login(server: str, email: str) -> tuple[str, str]:
    """A bearer token and its session's ID."""
    data = await _post(
        server, None, LOGIN, {"input": {"email": email, "password": PASSWORD, "issueToken": True}}
    )
    return data["login"]["token"], data["login"]["session"]["id"]


_ids = iter(range(1, 1_000_000))


async def _run(socket: ClientConnection, document: str) -> dict[str, Any]:
    """One query over the socket: its `next` payload (or the `error` message)."""
    operation = str(next(_ids))
    await socket.send(
        json.dumps({"id": operation, "type": "subscribe", "payload": {"query": document}})
    )
    async with asyncio.timeout(WAIT):
        first = json.loads(await socket.recv())
        if first["type"] == "next":
            assert json.loads(await socket.recv())["type"] == "complete"
    return first


async def _end_by_logout(server: str, people: People, token: str, session_id: str) -> None:
    await _post(server, token, "mutation Out { logout { endedSessions } }")


async def _end_everywhere(server: str, people: People, token: str, session_id: str) -> None:
    other, _ = await _login(server, "ana@example.com")
    await _post(
        server, other, "mutation Out { logout(input: {everywhere: true}) { endedSessions } }"
    )


async def _end_by_revoking(server: str, people: People, token: str, session_id: str) -> None:
    other, _ = await _login(server, "ana@example.com")
    await _post(
        server,
        other,
        "mutation Revoke($id: ID!) { revokeSession(input: {sessionId: $id}) { revokedSessionId } }",
        {"id": session_id},
    )


async def _end_by_password_change(server: str, people: People, token: str, session_id: str) -> None:
    other, _ = await _login(server, "ana@example.com")
    changed = await _post(
        server,
        other,
        "mutation Change($input: ChangePasswordInput!) "
        "{ changePassword(input: $input) { userErrors { code } } }",
        {"input": {"currentPassword": PASSWORD, "newPassword": "girasol-lento-tambor-88"}},
    )
    assert changed["changePassword"]["userErrors"] == []


async def _end_by_reset(server: str, people: People, token: str, session_id: str) -> None:
    smtp: SmtpServer = people.__dict__["smtp"]
    before = len(smtp.received)
    await _post(
        server,
        None,
        'mutation Ask { requestPasswordReset(input: {login: "ana@example.com"}) { accepted } }',
    )
    async with asyncio.timeout(WAIT):
        while len(smtp.received) == before:  # noqa: ASYNC110 (the sink runs in a thread)
            await asyncio.sleep(0.05)
    code = six_digit_code(smtp.received[-1].text)
    reset = await _post(
        server,
        None,
        "mutation Reset($input: ResetPasswordInput!) "
        "{ resetPassword(input: $input) { reset userErrors { code } } }",
        {
            "input": {
                "login": "ana@example.com",
                "code": code,
                "newPassword": "girasol-lento-tambor-88",
            }
        },
    )
    assert reset["resetPassword"]["reset"] is True


@pytest.mark.parametrize(
    "end",
    [_end_by_logout, _end_everywhere, _end_by_revoking, _end_by_password_change, _end_by_reset],
)
async def test_a_session_that_ends_closes_its_sockets_at_once(
    server: str, people: People, smtp: SmtpServer, end: Any
) -> None:
    people.__dict__["smtp"] = smtp
    token, session_id = await _login(server, "ana@example.com")
    socket = await open_socket(server, token)
    assert (await _run(socket, INVOICES))["type"] == "next"
    await end(server, people, token, session_id)
    assert await closed_with(socket) == 4401


async def test_a_session_that_expires_closes_its_socket(server: str, database: Database) -> None:
    user = await make_user(database, "eva@example.com")
    async with database.session() as session, session.begin():
        token, _ = await create_session(
            session, user_id=user.id, kind=SessionKind.TOKEN, lifetime=timedelta(seconds=3)
        )
    socket = await open_socket(server, token)
    assert (await _run(socket, "query Me { viewer { user { email } } }"))["type"] == "next"
    assert await closed_with(socket) == 4401


async def test_a_removed_permission_or_membership_applies_to_the_next_operation(
    server: str, people: People
) -> None:
    owner, _ = await _login(server, "ana@example.com")
    member, _ = await _login(server, "luis@example.com")
    socket = await open_socket(server, member)
    allowed = await _run(socket, INVOICES)
    assert allowed["payload"]["data"]["account"]["invoices"]["nodes"] == []
    narrow = await _post(
        server,
        owner,
        "mutation Narrow($input: UpdateMemberPermissionsInput!) "
        "{ updateMemberPermissions(input: $input) { userErrors { code } } }",
        {"input": {"memberId": people.luis_membership_id, "permissions": ["CASES_VIEW"]}},
    )
    assert narrow["updateMemberPermissions"]["userErrors"] == []
    narrowed = await _run(socket, INVOICES)
    assert narrowed["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    remove = await _post(
        server,
        owner,
        "mutation Remove($input: RemoveMemberInput!) "
        "{ removeMember(input: $input) { userErrors { code } } }",
        {"input": {"memberId": people.luis_membership_id}},
    )
    assert remove["removeMember"]["userErrors"] == []
    removed = await _run(socket, INVOICES)
    assert removed["payload"]["data"]["account"] is None
    by_id = await _run(
        socket, f'query One {{ node(id: "{gid("Account", people.account.id)}") {{ id }} }}'
    )
    assert by_id["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await socket.close()


async def test_operations_on_a_socket_are_checked_like_http(server: str, people: People) -> None:
    token, _ = await _login(server, "ana@example.com")
    socket = await open_socket(server, token)
    several = await _run(socket, "query A { __typename } query B { __typename }")
    assert several["type"] == "error"
    assert several["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    flood = " ".join(
        f"a{i}: account {{ invoices(first: 100) {{ nodes {{ lines {{ description }} }} }} }}"
        for i in range(20)
    )
    priced = await _run(socket, f"query Flood {{ {flood} }}")
    assert priced["type"] == "error"
    assert priced["payload"][0]["extensions"]["cost"]["requestedQueryCost"] > 5000
    await socket.close()


# API clients: a key or an access token opens a socket like a person's token,
# on the client's account and permissions only, and the socket closes when the
# credential stops working.

CREATE_CLIENT = """
mutation Create($input: CreateApiClientInput!) {
  createApiClient(input: $input) { key apiClient { id } userErrors { code } }
}
"""
CLIENT_BY_ID = (
    "mutation M($input: ApiClientInput!) {{ {0}(input: $input) {{ userErrors {{ code }} }} }}"
)


@dataclass
class Partner:
    server: str
    owner: str  # the account owner's bearer token
    client_id: str
    key: str


async def _partner(server: str, permissions: list[str], **extra: Any) -> Partner:
    owner, _ = await _login(server, "ana@example.com")
    data = await _post(
        server,
        owner,
        CREATE_CLIENT,
        {"input": {"name": "ERP", "permissions": permissions, **extra}},
    )
    created = data["createApiClient"]
    assert created["userErrors"] == []
    return Partner(server, owner, created["apiClient"]["id"], created["key"])


async def _access_token(server: str, partner: Partner) -> str:
    async with httpx.AsyncClient(base_url=server, timeout=WAIT) as http:
        response = await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": partner.client_id,
                "client_secret": partner.key,
            },
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def _on_client(server: str, partner: Partner, mutation: str) -> None:
    data = await _post(
        server,
        partner.owner,
        CLIENT_BY_ID.format(mutation),
        {"input": {"apiClientId": partner.client_id}},
    )
    assert data[mutation]["userErrors"] == []


async def test_an_api_client_socket_acts_on_its_account_with_its_permissions(
    server: str, people: People, database: Database
) -> None:
    other = await make_account(database, number="MX-2")
    partner = await _partner(server, ["INVOICES_VIEW"])
    for credential in (partner.key, await _access_token(server, partner)):
        socket = await open_socket(server, credential)
        allowed = await _run(socket, INVOICES)
        assert allowed["payload"] == {"data": {"account": {"invoices": {"nodes": []}}}}
        me = await _run(socket, "query Me { viewer { user { email } } }")
        assert me["payload"]["data"] == {"viewer": None}
        contacts = await _run(socket, "query C { account { contacts { totalCount } } }")
        assert contacts["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        elsewhere = await _run(
            socket, f'query O {{ account(id: "{gid("Account", other.id)}") {{ number }} }}'
        )
        assert elsewhere["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        await socket.close()


async def test_an_api_client_key_in_the_handshake_header_works_too(
    server: str, people: People
) -> None:
    partner = await _partner(server, ["INVOICES_VIEW"])
    socket = await connect(
        server.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Bearer {partner.key}"},
    )
    await socket.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    assert (await _run(socket, INVOICES))["payload"]["data"]["account"] is not None
    await _on_client(server, partner, "revokeApiClient")
    assert await closed_with(socket) == 4401


@pytest.mark.parametrize("credential", ["key", "token"])
async def test_revoking_an_api_client_closes_its_sockets_and_subscriptions_at_once(
    server: str, people: People, credential: str
) -> None:
    partner = await _partner(server, ["CASES_VIEW"])
    owner = partner.owner
    categories = await _post(
        server, owner, "query K { caseCategories { id subcategories { id } } }"
    )
    category = categories["caseCategories"][0]
    created = await _post(
        server,
        owner,
        "mutation C($input: CreateCaseInput!) { createCase(input: $input) { case { id } } }",
        {
            "input": {
                "categoryId": category["id"],
                "subcategoryId": category["subcategories"][0]["id"],
                "subject": "Factura",
                "description": "Revisar",
                "fields": NEW_USER_FIELDS,  # the first subcategory: DATABASE_UPDATE
            }
        },
    )
    case_id = created["createCase"]["case"]["id"]
    secret = partner.key if credential == "key" else await _access_token(server, partner)
    socket = await open_socket(server, secret)
    await socket.send(
        json.dumps(
            {
                "id": "live",
                "type": "subscribe",
                "payload": {
                    "query": "subscription S($id: ID!) { caseUpdated(caseId: $id) { kind } }",
                    "variables": {"id": case_id},
                },
            }
        )
    )
    # The subscription is live: a comment reaches it.
    async with asyncio.timeout(WAIT):
        while True:
            await _post(
                server,
                owner,
                "mutation A($input: AddCaseCommentInput!) "
                "{ addCaseComment(input: $input) { userErrors { code } } }",
                {"input": {"caseId": case_id, "body": "¿Novedades?"}},
            )
            try:
                async with asyncio.timeout(1):
                    heard = json.loads(await socket.recv())
                break
            except TimeoutError:
                continue  # sent before the subscription was listening
    assert heard["payload"]["data"]["caseUpdated"]["kind"] == "COMMENT_ADDED"
    await _on_client(server, partner, "revokeApiClient")
    assert await closed_with(socket) == 4401


async def test_a_rotated_key_works_through_its_grace_and_not_after(
    server: str, people: People
) -> None:
    partner = await _partner(server, ["INVOICES_VIEW"])
    old = await open_socket(server, partner.key)
    await _on_client(server, partner, "rotateApiClientKey")
    # Within the grace period the old key's socket goes on.
    assert (await _run(old, INVOICES))["type"] == "next"
    # A second rotation ends the old key at once, and its socket with it.
    await _on_client(server, partner, "rotateApiClientKey")
    assert await closed_with(old) == 4401


async def _expiring_key(database: Database, partner: Partner) -> str:
    async with database.transaction() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.id == decode_id_of("ApiClient", partner.client_id))
            .values(expires_at=utcnow() + timedelta(seconds=3))
        )
    return partner.key


async def _expiring_token(database: Database, partner: Partner) -> str:
    token = await _access_token(partner.server, partner)
    async with database.transaction() as session:
        await session.execute(
            update(ApiAccessToken)
            .where(ApiAccessToken.token_hash == hash_token(token))
            .values(expires_at=utcnow() + timedelta(seconds=3))
        )
    return token


async def _key_in_its_last_seconds_of_grace(database: Database, partner: Partner) -> str:
    """The key a rotation replaced, three seconds before its grace ends."""
    async with database.transaction() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.id == decode_id_of("ApiClient", partner.client_id))
            .values(
                previous_key_hash=hash_token(partner.key),
                previous_valid_until=utcnow() + timedelta(seconds=3),
                key_hash=hash_token("czk_" + "x" * 43),
            )
        )
    return partner.key


@pytest.mark.parametrize(
    "expiring", [_expiring_key, _expiring_token, _key_in_its_last_seconds_of_grace]
)
async def test_an_api_client_socket_closes_when_its_credential_runs_out(
    server: str, people: People, database: Database, expiring: Any
) -> None:
    partner = await _partner(server, ["INVOICES_VIEW"])
    socket = await open_socket(server, await expiring(database, partner))
    assert (await _run(socket, INVOICES))["type"] == "next"
    assert await closed_with(socket) == 4401
