"""GraphQL over HTTP: POST and GET, introspection, limits (the explorer: test_explorer.py)."""

from __future__ import annotations

from typing import Any

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from tests.conftest import Portal
from tests.helpers import http_client

VIEWER_EMAIL = "query ViewerEmail { viewer { user { email } } }"
RENAME = """
mutation Rename { updatePersonalDetails(input: {firstName: "Ana María"}) { user { firstName } } }
"""


async def test_queries_work_over_post_and_get(portal: Portal) -> None:
    posted = await portal.owner.data(VIEWER_EMAIL)
    got = await portal.owner.http.get(
        "/graphql", params={"query": VIEWER_EMAIL}, headers=portal.owner.headers()
    )
    assert posted["viewer"]["user"]["email"] == "ana@example.com"
    assert got.status_code == 200
    assert got.json()["data"] == posted


async def test_mutations_are_refused_over_get(portal: Portal) -> None:
    response = await portal.owner.http.get(
        "/graphql", params={"query": RENAME}, headers=portal.owner.headers()
    )
    assert response.status_code in (400, 405)
    after = await portal.owner.data("{ viewer { user { firstName } } }")
    assert after["viewer"]["user"]["firstName"] == "Ana"


async def test_introspection_can_be_turned_off(settings: Settings, database: Database) -> None:
    query = {"query": "{ __schema { queryType { name } } }"}
    async with http_client(create_app(settings, database)) as client:
        on = (await client.post("/graphql", json=query)).json()
    off_settings = settings.model_copy(update={"introspection": False})
    async with http_client(create_app(off_settings, database)) as client:
        off = (await client.post("/graphql", json=query)).json()
    assert on["data"]["__schema"]["queryType"]["name"] == "Query"
    assert off["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_deep_and_alias_heavy_queries_are_refused(anonymous: Any) -> None:
    deep = (
        "{ viewer { memberships { nodes { account { "
        + "parent { " * 12
        + "id"
        + " }" * 12
        + " } } } } }"
    )
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"
    deep_errors = (await anonymous.execute(deep))["errors"]
    assert [e["extensions"]["code"] for e in deep_errors] == ["BAD_USER_INPUT"]
    assert "depth" in deep_errors[0]["message"]
    assert await anonymous.error_codes(aliases) == ["BAD_USER_INPUT"]


async def test_syntax_and_validation_errors_are_bad_user_input(anonymous: Any) -> None:
    syntax = await anonymous.execute("{ viewer { ")
    unknown = await anonymous.execute("{ viewer { shoeSize } }")
    assert syntax["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "shoeSize" in unknown["errors"][0]["message"]
