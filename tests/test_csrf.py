"""Cookie-authenticated requests must come from script on an allowed page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from clientzone.db import Database
from tests.helpers import PASSWORD, GraphQLClient, http_client, login, make_user

QUERY = "{ viewer { user { email } } }"


@pytest.fixture
async def browser(app: Any, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client holding Ana's session cookie."""
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        await login(GraphQLClient(http), "ana@example.com")
        assert http.cookies.get("cz_session")
        yield http


def _refused(response: httpx.Response) -> bool:
    if response.status_code != 403:
        return False
    error = response.json()["errors"][0]
    return bool(error["extensions"] == {"code": "FORBIDDEN", "reason": "CSRF"})


async def test_a_json_post_from_an_allowed_origin_passes(browser: httpx.AsyncClient) -> None:
    for origin in ("https://portal.example.com", "http://clientzone.test", None):
        headers = {"Origin": origin} if origin else {}
        response = await browser.post("/graphql", json={"query": QUERY}, headers=headers)
        assert response.status_code == 200, origin
        assert response.json()["data"]["viewer"]["user"]["email"] == "ana@example.com"


async def test_a_cross_site_origin_is_refused(browser: httpx.AsyncClient) -> None:
    response = await browser.post(
        "/graphql",
        json={"query": QUERY},
        headers={"Origin": "https://evil.example", "Accept-Language": "en"},
    )
    assert _refused(response)
    assert "X-CSRF-Protection" in response.json()["errors"][0]["message"]


async def test_a_form_post_is_refused(browser: httpx.AsyncClient) -> None:
    response = await browser.post(
        "/graphql", data={"query": "mutation { logout { endedSessions } }"}
    )
    assert _refused(response)
    text_plain = await browser.post(
        "/graphql",
        content=b'{"query": "{ viewer { user { email } } }"}',
        headers={"Content-Type": "text/plain"},
    )
    assert _refused(text_plain)


async def test_multipart_needs_the_header(browser: httpx.AsyncClient) -> None:
    files = {"operations": (None, '{"query": "{ __typename }"}'), "map": (None, "{}")}
    assert _refused(await browser.post("/graphql", files=files))
    with_header = await browser.post("/graphql", files=files, headers={"X-CSRF-Protection": "1"})
    assert with_header.status_code != 403


async def test_get_queries_with_the_cookie_need_the_header(browser: httpx.AsyncClient) -> None:
    assert _refused(await browser.get("/graphql", params={"query": QUERY}))
    response = await browser.get(
        "/graphql", params={"query": QUERY}, headers={"X-CSRF-Protection": "1"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["user"]["email"] == "ana@example.com"


async def test_bearer_requests_carry_no_ambient_authority_and_are_not_checked(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        response = await login(GraphQLClient(http), "ana@example.com", issueToken=True)
        token = response.json()["data"]["login"]["token"]
    async with http_client(app) as http:
        response = await http.get(
            "/graphql",
            params={"query": QUERY},
            headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
        )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["user"]["email"] == "ana@example.com"


async def test_anonymous_requests_are_not_checked(anonymous: GraphQLClient) -> None:
    response = await anonymous.http.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 200


LOGIN_DOCUMENT = "mutation Login($input: LoginInput!) { login(input: $input) { user { email } } }"


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
async def test_a_cross_site_login_without_a_cookie_is_refused(
    app: Any, database: Database, origin: str
) -> None:
    """Login CSRF: a hostile page must not sign its visitor into another login."""
    await make_user(database, "ana@example.com", password=PASSWORD)
    variables = {"input": {"email": "ana@example.com", "password": PASSWORD}}
    operations = json.dumps({"query": LOGIN_DOCUMENT, "variables": variables})
    async with http_client(app) as http:
        attempts = [
            await http.post(
                "/graphql",
                files={"operations": (None, operations), "map": (None, "{}")},
                headers={"Origin": origin},
            ),
            await http.post(
                "/graphql",
                files={"operations": (None, operations), "map": (None, "{}")},
            ),
            await http.post("/graphql", data={"operations": operations, "map": "{}"}),
            await http.post(
                "/graphql",
                content=operations.encode(),
                headers={"Content-Type": "text/plain", "Origin": origin},
            ),
            await http.post(
                "/graphql",
                content=operations.encode(),
                headers={"Content-Type": "application/json", "Origin": origin},
            ),
        ]
        assert [_refused(response) for response in attempts] == [True] * len(attempts)
        assert not any("set-cookie" in response.headers for response in attempts)
        assert not http.cookies.get("cz_session")
        # From an allowed page, as JSON: it works and sets the cookie.
        allowed = await http.post(
            "/graphql",
            content=operations.encode(),
            headers={"Content-Type": "application/json", "Origin": "https://portal.example.com"},
        )
        assert allowed.json()["data"]["login"]["user"]["email"] == "ana@example.com"
        assert http.cookies.get("cz_session")


async def test_multipart_is_only_for_operations_that_upload(app: Any, database: Database) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    variables = {"input": {"email": "ana@example.com", "password": PASSWORD}}
    operations = json.dumps({"query": LOGIN_DOCUMENT, "variables": variables})
    async with http_client(app) as http:
        response = await http.post(
            "/graphql",
            files={"operations": (None, operations), "map": (None, "{}")},
            headers={"X-CSRF-Protection": "1"},
        )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "set-cookie" not in response.headers
