"""API clients: created by a person with permissions they hold, the key shown
once and stored hashed, rotated with a grace period, revoked; a client acts on
its one account as the integration; the OAuth client-credentials grant."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.api_clients import ApiAccessToken, ApiClient
from clientzone.models.base import utcnow
from clientzone.models.memberships import Membership, Permission, Role
from clientzone.models.users import User
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_api_client,
    make_membership,
    make_user,
)

CREATE = """
mutation($input: CreateApiClientInput!) {
  createApiClient(input: $input) {
    key
    apiClient { id name permissions keyHint expiresAt lastUsedAt lastUsedIp }
    userErrors { field code message }
  }
}
"""
ROTATE = """
mutation($input: ApiClientInput!) {
  rotateApiClientKey(input: $input) {
    key apiClient { id keyHint previousKeyValidUntil } userErrors { code }
  }
}
"""
REVOKE = """
mutation($input: ApiClientInput!) {
  revokeApiClient(input: $input) { revokedApiClientId userErrors { code } }
}
"""
ACCOUNT = "{ viewer { user { email } } account { number invoices { totalCount } } }"


@dataclass
class Partners:
    database: Database
    http: httpx.AsyncClient
    account: Account
    other: Account
    owner: GraphQLClient
    member: GraphQLClient  # INTEGRATIONS_MANAGE and INVOICES_VIEW only

    def client(self, key: str) -> GraphQLClient:
        return GraphQLClient(self.http, key)

    async def create(self, **input_: Any) -> dict[str, Any]:
        data = await self.owner.data(
            CREATE, {"input": {"name": "ERP", "permissions": ["INVOICES_VIEW"], **input_}}
        )
        result: dict[str, Any] = data["createApiClient"]
        return result


@pytest.fixture
async def partners(app: Any, database: Database) -> AsyncIterator[Partners]:
    account = await make_account(database, number="MX-7000", name="Socio")
    other = await make_account(database, number="MX-7001", name="Otra")
    owner = await make_user(database, "dueno@example.com", password=PASSWORD)
    await make_membership(database, owner, account)
    await make_membership(database, owner, other)
    member = await make_user(database, "integra@example.com", password=PASSWORD)
    await make_membership(
        database,
        member,
        account,
        Role.MEMBER,
        [Permission.INTEGRATIONS_MANAGE, Permission.INVOICES_VIEW],
    )
    headers = {"X-Account-Id": gid("Account", account.id)}
    async with http_client(app, headers=headers) as http:
        yield Partners(
            database=database,
            http=http,
            account=account,
            other=other,
            owner=GraphQLClient(http, await issue_token(database, owner)),
            member=GraphQLClient(http, await issue_token(database, member)),
        )


async def _row(database: Database, client_id: str) -> ApiClient:
    async with database.session() as session:
        rows = (await session.execute(select(ApiClient))).scalars().all()
    [row] = [r for r in rows if gid("ApiClient", r.id) == client_id]
    return row


async def test_key_is_shown_once_stored_hashed_and_acts_as_the_integration(
    partners: Partners,
) -> None:
    created = await partners.create()
    assert created["userErrors"] == []
    key = created["key"]
    assert key.startswith("czk_")
    assert len(key) > 40
    row = await _row(partners.database, created["apiClient"]["id"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(row.model_dump())
    listed = await partners.owner.data(
        "{ account { apiClients { totalCount nodes { id name keyHint permissions } } } }"
    )
    clients = listed["account"]["apiClients"]
    assert clients["totalCount"] == 1
    assert key not in str(clients)
    assert key.startswith(clients["nodes"][0]["keyHint"])

    client = partners.client(key)
    data = await client.data(ACCOUNT)
    assert data == {"viewer": None, "account": {"number": "MX-7000", "invoices": {"totalCount": 0}}}
    # Only its account and its permissions.
    assert await client.error_codes(
        "query($id: ID!) { account(id: $id) { number } }", {"id": gid("Account", partners.other.id)}
    ) == ["NOT_FOUND"]
    forbidden = await client.execute("{ account { contacts { totalCount } } }")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # It never acts as a person, nor manages clients.
    assert await client.error_codes(CREATE, {"input": {"name": "x", "permissions": []}}) == [
        "FORBIDDEN"
    ]
    row = await _row(partners.database, created["apiClient"]["id"])
    assert row.last_used_at is not None
    assert row.last_used_ip == "127.0.0.1"


async def test_activity_shows_the_integration(partners: Partners) -> None:
    key = await make_api_client(partners.database, partners.account, [Permission.CONTACTS_MANAGE])
    client = partners.client(key)
    await client.data(
        'mutation { createContact(input: {firstName: "Rosa", email: "rosa@example.com"}) '
        "{ userErrors { code } } }"
    )
    data = await partners.owner.data(
        "{ account { activity(first: 1) { nodes { action actorKind actor } } } }"
    )
    assert data["account"]["activity"]["nodes"] == [
        {"action": "CONTACT_CREATED", "actorKind": "INTEGRATION", "actor": "integration:ERP"}
    ]


async def test_a_member_grants_only_permissions_they_hold(partners: Partners) -> None:
    data = await partners.member.data(
        CREATE,
        {"input": {"name": "ERP", "permissions": ["INVOICES_VIEW", "CONTACTS_MANAGE"]}},
    )
    [error] = data["createApiClient"]["userErrors"]
    assert (error["field"], error["code"]) == ("permissions", "PERMISSION_NOT_HELD")
    assert "CONTACTS_MANAGE" in error["message"]
    ok = await partners.member.data(
        CREATE, {"input": {"name": "ERP", "permissions": ["INVOICES_VIEW"]}}
    )
    assert ok["createApiClient"]["key"].startswith("czk_")


@pytest.mark.parametrize(
    ("input_", "field", "code", "english"),
    [
        ({"name": "  "}, "name", "REQUIRED", "This field is required."),
        ({"name": "x" * 101}, "name", "TOO_LONG", "At most 100 characters."),
        (
            {"expiresAt": "2020-01-01T00:00:00Z"},
            "expiresAt",
            "EXPIRES_IN_PAST",
            "The expiry must be in the future.",
        ),
    ],
)
async def test_bad_input_is_a_user_error_in_both_languages(
    partners: Partners, input_: dict[str, Any], field: str, code: str, english: str
) -> None:
    variables = {"input": {"name": "ERP", "permissions": [], **input_}}
    for language, expected in (("es", None), ("en", english)):
        data = await partners.owner.data(CREATE, variables, {"Accept-Language": language})
        [error] = data["createApiClient"]["userErrors"]
        assert (error["field"], error["code"]) == (field, code)
        assert data["createApiClient"]["key"] is None
        if expected:
            assert error["message"] == expected
        else:
            assert error["message"]
            assert error["message"] != english


async def test_rotation_keeps_the_old_key_for_the_grace_period(partners: Partners) -> None:
    created = await partners.create()
    old = created["key"]
    rotated = await partners.owner.data(
        ROTATE, {"input": {"apiClientId": created["apiClient"]["id"]}}
    )
    new = rotated["rotateApiClientKey"]["key"]
    assert new.startswith("czk_")
    assert new != old
    assert rotated["rotateApiClientKey"]["apiClient"]["previousKeyValidUntil"] is not None
    for key in (old, new):
        assert (await partners.client(key).data(ACCOUNT))["account"]["number"] == "MX-7000"
    async with partners.database.transaction() as session:
        await session.execute(
            update(ApiClient).values(previous_valid_until=utcnow() - timedelta(seconds=1))
        )
    assert await partners.client(old).error_codes(ACCOUNT) == ["UNAUTHENTICATED"]
    assert (await partners.client(new).data(ACCOUNT))["account"]["number"] == "MX-7000"


async def test_revoked_and_expired_clients_are_anonymous(partners: Partners) -> None:
    created = await partners.create()
    key = created["key"]
    token = await _token(partners.http, created["apiClient"]["id"], key)
    revoked = await partners.owner.data(
        REVOKE, {"input": {"apiClientId": created["apiClient"]["id"]}}
    )
    assert revoked["revokeApiClient"]["revokedApiClientId"] == created["apiClient"]["id"]
    for credential in (key, token["access_token"]):
        assert await partners.client(credential).error_codes(ACCOUNT) == ["UNAUTHENTICATED"]
    listed = await partners.owner.data("{ account { apiClients { totalCount } } }")
    assert listed["account"]["apiClients"]["totalCount"] == 0

    expired = await partners.create(expiresAt=(utcnow() + timedelta(hours=1)).isoformat())
    assert (await partners.client(expired["key"]).data(ACCOUNT))["account"] is not None
    async with partners.database.transaction() as session:
        await session.execute(update(ApiClient).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await partners.client(expired["key"]).error_codes(ACCOUNT) == ["UNAUTHENTICATED"]


async def _token(
    http: httpx.AsyncClient, client_id: str, secret: str, **form: str
) -> dict[str, Any]:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **form},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def test_client_credentials_grant(partners: Partners) -> None:
    created = await partners.owner.data(
        CREATE, {"input": {"name": "ERP", "permissions": ["INVOICES_VIEW", "CONTACTS_MANAGE"]}}
    )
    client_id = created["createApiClient"]["apiClient"]["id"]
    secret = created["createApiClient"]["key"]
    token = await _token(partners.http, client_id, secret)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 900
    assert token["access_token"].startswith("cza_")
    assert token["scope"] == "CONTACTS_MANAGE INVOICES_VIEW"
    client = partners.client(token["access_token"])
    assert (await client.data("{ account { contacts { totalCount } } }"))["account"]

    # A narrower scope; credentials in the form body.
    response = await partners.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "INVOICES_VIEW",
        },
    )
    narrow = response.json()
    assert narrow["scope"] == "INVOICES_VIEW"
    body = await partners.client(narrow["access_token"]).execute(
        "{ account { contacts { totalCount } } }"
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Tokens expire.
    async with partners.database.transaction() as session:
        await session.execute(
            update(ApiAccessToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await client.error_codes(ACCOUNT) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    ("form", "basic", "status", "error"),
    [
        ({"grant_type": "password"}, True, 400, "unsupported_grant_type"),
        ({}, True, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "USERS_MANAGE"}, True, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "NOPE"}, True, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "client_id": "x"}, True, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, False, 401, "invalid_client"),
    ],
)
async def test_token_errors_follow_rfc_6749(
    partners: Partners, form: dict[str, str], basic: bool, status: int, error: str
) -> None:
    created = await partners.create()
    client_id, secret = created["apiClient"]["id"], created["key"]
    headers = {}
    if basic:
        encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        headers["Authorization"] = f"Basic {encoded}"
    else:
        form = {**form, "client_id": client_id, "client_secret": secret + "x"}
    response = await partners.http.post("/oauth/token", data=form, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


async def test_wrong_secret_by_basic_asks_for_basic(partners: Partners) -> None:
    created = await partners.create()
    encoded = base64.b64encode(f"{created['apiClient']['id']}:czk_nope".encode()).decode()
    response = await partners.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {encoded}"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"


async def test_each_client_has_its_own_request_budget(
    settings: Settings, database: Database
) -> None:
    limited = settings.model_copy(update={"api_client_requests_per_minute": 2})
    app = create_app(limited, database)
    account = await make_account(database)
    first = await make_api_client(database, account, [Permission.INVOICES_VIEW])
    second = await make_api_client(database, account, [Permission.INVOICES_VIEW])
    try:
        async with http_client(app) as http:
            for _ in range(2):
                assert (await GraphQLClient(http, first).data(ACCOUNT))["account"]
            response = await GraphQLClient(http, first).post(ACCOUNT)
            assert response.status_code == 429
            assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
            assert (await GraphQLClient(http, second).data(ACCOUNT))["account"]
    finally:
        await app.state.close_clients()


LINKED = """
query($id: ID!) {
  account(id: $id) { number invoices { totalCount } }
}
"""


async def test_linked_accounts_only_when_granted(partners: Partners) -> None:
    # given an account linked under the partner's account
    child = await make_account(
        partners.database, number="MX-7000-1", currency="ARS", parent=partners.account
    )
    child_id = gid("Account", child.id)
    plain = await partners.create()
    linked = await partners.create(includeLinkedAccounts=True)
    assert plain["userErrors"] == linked["userErrors"] == []
    listed = await partners.owner.data(
        "{ account { apiClients { nodes { name includeLinkedAccounts } } } }"
    )
    assert sorted(n["includeLinkedAccounts"] for n in listed["account"]["apiClients"]["nodes"]) == [
        False,
        True,
    ]
    # without the grant: exactly as before
    without = partners.client(plain["key"])
    assert await without.error_codes(LINKED, {"id": child_id}) == ["NOT_FOUND"]
    assert (await without.data("{ account { linkedAccounts { totalCount } } }"))["account"] == {
        "linkedAccounts": {"totalCount": 0}
    }
    consolidated = "{ account { consolidatedBalance { currency } } }"
    assert (await without.data(consolidated))["account"]["consolidatedBalance"] == [
        {"currency": "MXN"}
    ]
    response = await without.post("{ account { number } }", headers={"X-Account-Id": child_id})
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # with it: the linked account is readable, by id, in the list and as the active account
    with_ = partners.client(linked["key"])
    assert (await with_.data(LINKED, {"id": child_id}))["account"] == {
        "number": "MX-7000-1",
        "invoices": {"totalCount": 0},
    }
    tree = await with_.data(
        "query($id: ID!) { account { linkedAccounts { totalCount nodes { number } } } "
        "child: account(id: $id) { parent { number } } }",
        {"id": child_id},
    )
    assert tree["account"]["linkedAccounts"] == {
        "totalCount": 1,
        "nodes": [{"number": "MX-7000-1"}],
    }
    assert tree["child"]["parent"] == {"number": "MX-7000"}
    assert (await with_.data(consolidated))["account"]["consolidatedBalance"] == [
        {"currency": "ARS"},
        {"currency": "MXN"},
    ]
    active = await with_.post("{ account { number } }", headers={"X-Account-Id": child_id})
    assert active.json()["data"]["account"] == {"number": "MX-7000-1"}
    # the same permissions there, no more; an account not linked stays out of reach
    forbidden = await with_.execute(
        "query($id: ID!) { account(id: $id) { contacts { totalCount } } }", {"id": child_id}
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await with_.error_codes(LINKED, {"id": gid("Account", partners.other.id)}) == [
        "NOT_FOUND"
    ]
    # an access token of the client carries the grant too
    token = await _token(partners.http, linked["apiClient"]["id"], linked["key"])
    by_token = partners.client(token["access_token"])
    assert (await by_token.data(LINKED, {"id": child_id}))["account"]["number"] == "MX-7000-1"
    # unlinking takes effect at once
    async with partners.database.transaction() as session:
        await session.execute(update(Account).where(Account.id == child.id).values(parent_id=None))
    assert await with_.error_codes(LINKED, {"id": child_id}) == ["NOT_FOUND"]


async def test_on_linked_accounts_never_more_than_the_creator_holds(partners: Partners) -> None:
    # given two linked accounts: the member creating the client holds CASES_VIEW
    # on the first and nothing on the second (only the owner reaches it)
    first = await make_account(partners.database, number="MX-7000-1", parent=partners.account)
    second = await make_account(partners.database, number="MX-7000-2", parent=partners.account)
    async with partners.database.session() as session:
        member = (
            await session.execute(select(User).where(User.email == "integra@example.com"))
        ).scalar_one()
    await make_membership(partners.database, member, first, Role.MEMBER, [Permission.CASES_VIEW])
    created = await partners.member.data(
        CREATE,
        {
            "input": {
                "name": "ERP",
                "permissions": ["INVOICES_VIEW"],
                "includeLinkedAccounts": True,
            }
        },
    )
    client = partners.client(created["createApiClient"]["key"])
    # when the client reads them
    reached = await client.execute(LINKED, {"id": gid("Account", first.id)})
    # then the first is reached without invoices (the creator may not see them
    # there), the second not at all, and its own account as before
    assert reached["data"]["account"] is None
    assert reached["errors"][0]["extensions"] == {
        "code": "FORBIDDEN",
        "permission": "INVOICES_VIEW",
    }
    assert await client.error_codes(LINKED, {"id": gid("Account", second.id)}) == ["NOT_FOUND"]
    listed = await client.data("{ account { number linkedAccounts { nodes { number } } } }")
    assert listed["account"] == {
        "number": "MX-7000",
        "linkedAccounts": {"nodes": [{"number": "MX-7000-1"}]},
    }
    # the creator's access is read at every request: given INVOICES_VIEW, the client sees invoices
    async with partners.database.transaction() as session:
        await session.execute(
            update(Membership)
            .where(Membership.user_id == member.id, Membership.account_id == first.id)
            .values(permissions=frozenset({Permission.CASES_VIEW, Permission.INVOICES_VIEW}))
        )
    reached = await client.data(LINKED, {"id": gid("Account", first.id)})
    assert reached["account"] == {"number": "MX-7000-1", "invoices": {"totalCount": 0}}
