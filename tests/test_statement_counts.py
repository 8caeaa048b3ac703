"""SQL statements per query do not grow with the rows returned; sessions are safe
under Strawberry's concurrent resolution of sibling fields."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from clientzone.db import Database, StatementCounter
from clientzone.models.memberships import Role
from tests.conftest import Portal
from tests.helpers import make_account, make_membership

MEMBERSHIPS = """
{
  viewer {
    memberships(first: 50) {
      nodes { role permissions account { number name currency profile { taxId } parent { name } } }
    }
  }
}
"""


async def _count(
    portal: Portal, sql_statements: Callable[[], AbstractContextManager[StatementCounter]]
) -> int:
    with sql_statements() as counted:
        await portal.owner.data(MEMBERSHIPS)
    return counted.count


async def test_memberships_with_accounts_and_parents_take_a_fixed_number_of_statements(
    portal: Portal,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    few = await _count(portal, sql_statements)
    for i in range(20):
        parent = await make_account(database, number=f"CL-{i:03d}", currency="CLP")
        await make_account(database, number=f"CL-{i:03d}-A", parent=parent)
        await make_membership(database, portal.owner_user, parent, Role.OWNER)
    data = await portal.owner.data(MEMBERSHIPS)
    assert len(data["viewer"]["memberships"]["nodes"]) == 44
    many = await _count(portal, sql_statements)
    # token lookup, memberships page, accounts by id; the parents' grants and
    # rows are already in the loaders' caches, primed by the page itself
    assert (few, many) == (3, 3)


async def test_sibling_fields_resolve_concurrently_on_one_request_session(
    portal: Portal,
) -> None:
    aliases = " ".join(
        f"m{i}: memberships(first: {i + 1}) {{ totalCount nodes {{ account {{ name }} }} }}"
        for i in range(8)
    )
    query = f"{{ viewer {{ {aliases} activeAccount {{ linkedAccounts {{ totalCount }} }} }} "
    query += "a: account { number } b: account { parent { number } } }"
    data = await portal.owner.data(query)
    assert [len(data["viewer"][f"m{i}"]["nodes"]) for i in range(8)] == [1, 2, 3, 4, 4, 4, 4, 4]
    assert data["a"] == {"number": "AR-2000"}


async def test_the_active_account_is_worked_out_once_per_request(
    portal: Portal, sql_statements: Callable[[], AbstractContextManager[StatementCounter]]
) -> None:
    query = "{ viewer { activeAccount { number } permissions } account { number } }"
    with sql_statements() as counted:
        data = await portal.owner.data(query)
    assert data["account"] == {"number": "AR-2000"}
    # token lookup, first membership, the account row
    assert counted.count == 3
