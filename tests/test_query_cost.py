"""A query's cost is known before it runs, bounded per request and per client,
and reported; responses and run time are bounded too."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database, StatementCounter
from tests.conftest import Portal
from tests.helpers import GraphQLClient, http_client

TEN_ACCOUNTS = "query Ten { viewer { memberships(first: 10) { nodes { account { number } } } } }"


def _flood(aliases: int) -> str:
    invoices = (
        "invoices(first: 100) { nodes { number lines { description total { amount } } "
        "documents { url } } }"
    )
    fields = " ".join(f"a{i}: account {{ {invoices} }}" for i in range(aliases))
    return f"query Flood {{ {fields} }}"


async def test_an_operation_over_the_limit_is_refused_before_it_runs(
    portal: Portal, sql_statements: Callable[[], AbstractContextManager[StatementCounter]]
) -> None:
    with sql_statements() as counted:
        body = await portal.owner.execute(_flood(30))
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    cost = error["extensions"]["cost"]
    assert cost["requestedQueryCost"] > cost["maximumQueryCost"] == 5000
    assert "data" not in body
    assert counted.count <= 1  # the token lookup, nothing of the query


async def test_every_answer_reports_its_cost(portal: Portal) -> None:
    response = await portal.owner.post(TEN_ACCOUNTS)
    # viewer 1 + memberships 1 + 10 x (membership 1 + account 1)
    assert response.json()["extensions"]["cost"] == {
        "requestedQueryCost": 22,
        "maximumQueryCost": 5000,
    }
    assert response.headers["x-ratelimit-limit"] == "50000"
    assert int(response.headers["x-ratelimit-remaining"]) <= 50000 - 22
    by_variable = await portal.owner.post(
        "query Some($n: Int) { viewer { memberships(first: $n) { nodes { role } } } }", {"n": 3}
    )
    assert by_variable.json()["extensions"]["cost"]["requestedQueryCost"] == 1 + 1 + 3
    counted = await portal.owner.post("query C { viewer { memberships { totalCount } } }")
    assert counted.json()["extensions"]["cost"]["requestedQueryCost"] == 1 + 1 + 5


async def test_a_client_has_a_budget_per_minute(
    settings: Settings, database: Database, portal: Portal
) -> None:
    app = create_app(settings.model_copy(update={"cost_budget_per_minute": 100}), database)
    async with http_client(app) as http:
        owner = GraphQLClient(http, portal.owner.token)
        member = GraphQLClient(http, portal.member.token)
        answers = [await owner.post(TEN_ACCOUNTS) for _ in range(5)]
        other = await member.post(TEN_ACCOUNTS)
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert other.status_code == 200
    await app.state.close_clients()


async def test_a_response_over_the_size_limit_is_replaced_by_an_error(
    settings: Settings, database: Database
) -> None:
    app = create_app(settings.model_copy(update={"max_response_bytes": 10_000}), database)
    query = "query Big { __schema { types { name description fields { name description } } } }"
    async with http_client(app) as http:
        body: dict[str, Any] = (await http.post("/graphql", json={"query": query})).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "10000" in body["errors"][0]["message"]


async def test_an_operation_over_its_time_budget_is_unavailable_and_changes_nothing(
    settings: Settings, database: Database, portal: Portal
) -> None:
    app = create_app(settings.model_copy(update={"request_timeout_seconds": 1e-6}), database)
    async with http_client(app) as http:
        owner = GraphQLClient(http, portal.owner.token)
        slow = await owner.post(
            'mutation Rename { updatePersonalDetails(input: {firstName: "Otra"}) '
            "{ user { firstName } } }"
        )
    assert slow.status_code == 503
    assert slow.headers["retry-after"] == "1"
    assert slow.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    after = await portal.owner.data("query Me { viewer { user { firstName } } }")
    assert after["viewer"]["user"]["firstName"] == "Ana"
    await app.state.close_clients()
