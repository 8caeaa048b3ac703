"""A user's membership count is kept by the database (migration 0036), and
`memberships.totalCount` reads it: it must follow every way a membership is
written. (Every test's teardown also checks every user's count; see conftest.)
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.memberships import (
    Membership,
    Role,
    _effective_memberships,
    count_memberships,
)
from clientzone.models.users import User
from tests.helpers import (
    GraphQLClient,
    http_client,
    issue_token,
    make_account,
    make_membership,
    make_user,
)

TOTAL = "{ viewer { memberships(first: 50) { totalCount nodes { account { number } } } } }"


async def counts(database: Database, *users: User) -> list[int]:
    async with database.session() as session:
        return await counts_in(session, *users)


async def counts_in(session: AsyncSession, *users: User) -> list[int]:
    result = await session.execute(select(User.id, User.membership_count))
    found = dict(result.all())
    return [found[user.id] for user in users]


def row(user: User, account: Account) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "account_id": account.id,
        "account_number": account.number,
        "role": Role.OWNER,
        "permissions": frozenset(),
    }


async def test_the_count_follows_inserts_moves_and_deletes(database: Database) -> None:
    ana, ben = await make_user(database), await make_user(database)
    accounts = [await make_account(database) for _ in range(6)]
    assert await counts(database, ana, ben) == [0, 0]

    for account in accounts[:3]:
        await make_membership(database, ana, account)
    async with database.session() as session, session.begin():
        # One statement, several rows (and several users).
        await session.execute(
            insert(Membership),
            [row(ben, accounts[3]), row(ben, accounts[4]), row(ana, accounts[5])],
        )
    assert await counts(database, ana, ben) == [4, 2]

    async with database.session() as session, session.begin():
        await session.execute(
            update(Membership)
            .where(col(Membership.account_id) == accounts[3].id)
            .values(user_id=ana.id)
        )
        # An update that does not move anything changes no count.
        await session.execute(update(Membership).values(suspended_at=None))
    assert await counts(database, ana, ben) == [5, 1]

    async with database.session() as session, session.begin():
        # Deleting an account removes its memberships by cascade.
        await session.execute(delete(Account).where(col(Account.id) == accounts[0].id))
    assert await counts(database, ana, ben) == [4, 1]

    async with database.session() as session, session.begin():
        await session.execute(delete(Membership).where(col(Membership.user_id) == ana.id))
    assert await counts(database, ana, ben) == [0, 1]


async def test_a_rolled_back_insert_leaves_the_count(database: Database) -> None:
    ana = await make_user(database)
    account = await make_account(database)

    async def insert_then_fail() -> None:
        async with database.session() as session, session.begin():
            await session.execute(insert(Membership), [row(ana, account)])
            assert await counts_in(session, ana) == [1]
            raise LookupError

    with pytest.raises(LookupError):
        await insert_then_fail()
    assert await counts(database, ana) == [0]


async def test_total_count_is_the_number_of_memberships(app: Any, database: Database) -> None:
    ana = await make_user(database)
    for _ in range(7):
        await make_membership(database, ana, await make_account(database))
    async with http_client(app) as http:
        client = GraphQLClient(http, await issue_token(database, ana))
        memberships = (await client.data(TOTAL))["viewer"]["memberships"]
        assert memberships["totalCount"] == len(memberships["nodes"]) == 7
        async with database.session() as session, session.begin():
            await session.execute(delete(Membership).where(col(Membership.user_id) == ana.id))
        memberships = (await client.data(TOTAL))["viewer"]["memberships"]
        assert memberships == {"totalCount": 0, "nodes": []}


async def union_count(session: AsyncSession, user: User) -> int:
    """The count the long way: the rows of the user's effective memberships."""
    statement = select(func.count()).select_from(_effective_memberships(False))
    return int((await session.execute(statement, {"user_id": user.id})).scalar_one())


async def both_counts(database: Database, user: User) -> tuple[int, int]:
    async with database.session() as session:
        return (
            await count_memberships(session, user_id=user.id),
            await union_count(session, user),
        )


@pytest.mark.parametrize("seed", range(30))
async def test_the_stored_counts_add_up_to_the_effective_memberships(
    database: Database, seed: int
) -> None:
    """Random worlds of parents, linked accounts (nested too) and the user's
    memberships in them (owner, member, none); then a link moved, an account
    unlinked and a leaf deleted: the count from stored numbers is always the
    number of rows the memberships list has."""
    chance = random.Random(seed)
    user = await make_user(database)
    accounts: list[Account] = []
    for _ in range(chance.randint(2, 9)):
        parent = chance.choice([None, None, *accounts])
        accounts.append(await make_account(database, parent=parent))
    for account in accounts:
        role = chance.choice([None, Role.OWNER, Role.MEMBER])
        if role is not None:
            await make_membership(database, user, account, role)
    counted, listed = await both_counts(database, user)
    assert counted == listed

    async with database.session() as session, session.begin():
        moved = chance.choice(accounts)
        parents = [a.id for a in accounts if a.id != moved.id and a.parent_id != moved.id]
        await session.execute(
            update(Account)
            .where(col(Account.id) == moved.id)
            .values(parent_id=chance.choice([None, *parents]))
        )
    counted, listed = await both_counts(database, user)
    assert counted == listed

    async with database.session() as session, session.begin():
        linked = select(Account.parent_id).where(col(Account.parent_id).is_not(None))
        children = set((await session.execute(linked)).scalars().all())
        leaf = chance.choice([a for a in accounts if a.id not in children])
        await session.execute(delete(Account).where(col(Account.id) == leaf.id))
    counted, listed = await both_counts(database, user)
    assert counted == listed
