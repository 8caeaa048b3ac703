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
      nodes {
        role permissions
        account { number name currency balance { amount } profile { taxId } parent { name } }
      }
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
    # memberships page, accounts by id, balances (the session from the cache); the parents'
    # grants and rows are already in the loaders' caches, primed by the page itself
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
    # first membership, the account row (the session from the cache)
    assert counted.count == 2


NESTED = """
{
  viewer {
    memberships(first: 50) {
      nodes {
        account { number linkedAccounts(first: 2) { nodes { number } pageInfo { hasNextPage } } }
      }
    }
  }
}
"""


async def test_a_connection_nested_under_a_list_is_one_statement(
    portal: Portal,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    with sql_statements() as few:
        before = await portal.owner.data(NESTED)
    for i in range(10):
        parent = await make_account(database, number=f"PE-{i:03d}", currency="PEN")
        for j in range(3):
            await make_account(database, number=f"PE-{i:03d}-{j}", parent=parent)
        await make_membership(database, portal.owner_user, parent, Role.OWNER)
    with sql_statements() as many:
        data = await portal.owner.data(NESTED)
    by_number = {
        n["account"]["number"]: n["account"]["linkedAccounts"]
        for n in data["viewer"]["memberships"]["nodes"]
    }
    assert by_number["MX-1000"] == {
        "nodes": [{"number": "MX-1001"}, {"number": "MX-1002"}],
        "pageInfo": {"hasNextPage": False},
    }
    assert by_number["PE-004"] == {
        "nodes": [{"number": "PE-004-0"}, {"number": "PE-004-1"}],
        "pageInfo": {"hasNextPage": True},
    }
    assert by_number["PE-004-2"] == {"nodes": [], "pageInfo": {"hasNextPage": False}}
    assert len(before["viewer"]["memberships"]["nodes"]) == 4
    assert few.count == many.count


CONTACTS = """
query($id: ID) {
  account(id: $id) {
    contacts(first: 50) { nodes { id firstName email phone categories active } }
    members(first: 50) { nodes { email role permissions } }
    activity(first: 50) { nodes { action actor changes { field } } }
  }
}
"""


async def test_contacts_members_and_activity_take_a_fixed_number_of_statements(
    portal: Portal,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    from clientzone.models.activity import SYSTEM, ActivityAction, record_activity
    from clientzone.models.contacts import Contact
    from tests.helpers import gid, make_user

    variables = {"id": gid("Account", portal.parent.id)}

    async def count() -> int:
        with sql_statements() as counted:
            await portal.owner.data(CONTACTS, variables)
        return counted.count

    few = await count()
    async with database.session() as session, session.begin():
        for i in range(40):
            session.add(
                Contact(account_id=portal.parent.id, first_name=f"C{i}", email=f"c{i}@example.com")
            )
            record_activity(
                session,
                account_id=portal.parent.id,
                actor=SYSTEM,
                action=ActivityAction.CONTACT_CREATED,
            )
    for i in range(30):
        await make_membership(
            database, await make_user(database, f"m{i}@example.com"), portal.parent, Role.MEMBER
        )
    data = await portal.owner.data(CONTACTS, variables)
    assert len(data["account"]["contacts"]["nodes"]) == 40
    assert len(data["account"]["members"]["nodes"]) == 32
    many = await count()
    # grant, account row, then one page each for the three lists
    assert (few, many) == (5, 5)
