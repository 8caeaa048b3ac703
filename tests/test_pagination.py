"""Relay connections on keyset pagination: both directions, limits, bad cursors."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from clientzone.db import Database, StatementCounter
from clientzone.models.accounts import Account
from tests.conftest import Portal
from tests.helpers import GraphQLClient, gid, make_account

LINKED = """
query Linked($id: ID, $first: Int, $after: String, $last: Int, $before: String) {
  account(id: $id) {
    linkedAccounts(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { number } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
COUNT = "query C($id: ID) { account(id: $id) { linkedAccounts(first: 1) { totalCount } } }"


async def _with_children(portal: Portal, database: Database, count: int) -> list[Account]:
    return [
        await make_account(
            database, number=f"MX-2{i:03d}", name=f"Sucursal {i}", parent=portal.parent
        )
        for i in range(count)
    ]


async def _page(client: GraphQLClient, portal: Portal, **arguments: Any) -> dict[str, Any]:
    data = await client.data(LINKED, {"id": gid("Account", portal.parent.id), **arguments})
    connection: dict[str, Any] = data["account"]["linkedAccounts"]
    return connection


def _numbers(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["number"] for edge in connection["edges"]]


async def test_forward_paging_walks_every_row_once_in_order(
    portal: Portal, database: Database
) -> None:
    await _with_children(portal, database, 23)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        connection = await _page(portal.owner, portal, first=10, after=after)
        seen += _numbers(connection)
        pages += 1
        assert connection["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 25


async def test_last_gives_the_newest_rows_and_before_walks_back(
    portal: Portal, database: Database
) -> None:
    await _with_children(portal, database, 8)
    tail = await _page(portal.owner, portal, last=3)
    assert _numbers(tail) == ["MX-2005", "MX-2006", "MX-2007"]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert tail["pageInfo"]["hasNextPage"] is False
    before = await _page(portal.owner, portal, last=3, before=tail["pageInfo"]["startCursor"])
    assert _numbers(before) == ["MX-2002", "MX-2003", "MX-2004"]
    assert before["pageInfo"]["hasNextPage"] is True


async def test_after_and_before_together_give_the_rows_between(
    portal: Portal, database: Database
) -> None:
    await _with_children(portal, database, 6)
    everything = await _page(portal.owner, portal, first=100)
    cursors = [edge["cursor"] for edge in everything["edges"]]
    between = await _page(portal.owner, portal, first=100, after=cursors[1], before=cursors[5])
    assert _numbers(between) == _numbers(everything)[2:5]
    assert between["pageInfo"]["hasPreviousPage"] is True
    assert between["pageInfo"]["hasNextPage"] is True  # the `before` row itself follows
    backwards = await _page(portal.owner, portal, last=2, after=cursors[1], before=cursors[5])
    assert _numbers(backwards) == _numbers(everything)[3:5]
    assert backwards["pageInfo"]["hasPreviousPage"] is True


async def test_default_page_size_and_total_count(portal: Portal, database: Database) -> None:
    await _with_children(portal, database, 30)
    connection = await _page(portal.owner, portal)
    assert len(connection["edges"]) == 20
    count = await portal.owner.data(COUNT, {"id": gid("Account", portal.parent.id)})
    assert count["account"]["linkedAccounts"]["totalCount"] == 32


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"first": 101}, "first no puede ser mayor que 100."),
        ({"last": 101}, "last no puede ser mayor que 100."),
        ({"first": -1}, "first no puede ser negativo."),
        ({"first": 1, "last": 1}, "Usa first o last, no ambos."),
        ({"after": "not-a-cursor"}, "El cursor after no es válido."),
        ({"before": "W10"}, "El cursor before no es válido."),
    ],
)
async def test_bad_arguments_are_bad_user_input(
    portal: Portal, arguments: dict[str, Any], message: str
) -> None:
    body = await portal.owner.execute(LINKED, {"id": gid("Account", portal.parent.id), **arguments})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert body["errors"][0]["message"] == message


async def test_a_deep_page_costs_what_the_first_page_costs(
    portal: Portal,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    await _with_children(portal, database, 60)
    first = await _page(portal.owner, portal, first=5)
    with sql_statements() as first_page:
        await _page(portal.owner, portal, first=5)
    deep_cursor = (await _page(portal.owner, portal, first=55))["pageInfo"]["endCursor"]
    with sql_statements() as deep_page:
        deep = await _page(portal.owner, portal, first=5, after=deep_cursor)
    assert _numbers(deep) == ["MX-2053", "MX-2054", "MX-2055", "MX-2056", "MX-2057"]
    assert _numbers(first)[0] == "MX-1001"
    assert deep_page.count == first_page.count
    # The page seeks by its sort key instead of skipping rows.
    page_query = next(s for s in deep_page.statements if "ORDER BY accounts.number" in s)
    assert "accounts.number >" in page_query


def _raw_cursor(payload: str) -> str:
    import base64

    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "payload",
    [
        "[true]",
        "[1]",
        "[1.5]",
        '[{"u": "0123456789abcdef0123456789abcdef"}]',
        '[{"t": "2026-01-01T00:00:00+00:00"}]',
        '["MX-1001\\u0000x"]',
        '["MX-1001", 5]',
        "[]",
        '{"number": "MX-1001"}',
    ],
)
async def test_forged_cursors_are_bad_user_input_on_every_database(
    portal: Portal, payload: str
) -> None:
    body = await portal.owner.execute(
        LINKED, {"id": gid("Account", portal.parent.id), "after": _raw_cursor(payload)}
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}, body
    # the request's session is still usable afterwards
    assert (await portal.owner.data(COUNT, {"id": gid("Account", portal.parent.id)}))["account"]


async def test_first_zero_gives_an_empty_page_that_knows_there_is_more(portal: Portal) -> None:
    connection = await _page(portal.owner, portal, first=0)
    assert connection["edges"] == []
    assert connection["pageInfo"]["hasNextPage"] is True
