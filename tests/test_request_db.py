"""The per-request session rule (see clientzone/auth/context.py), exercised directly."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from clientzone.db import Database, RequestDb
from clientzone.loaders import Loaders
from clientzone.models.accounts import Account
from tests.helpers import make_account


async def test_concurrent_reads_share_one_session_safely(database: Database) -> None:
    db = RequestDb(database)

    async def read(value: int) -> int:
        async with db.read() as session:
            result = await session.execute(text(f"SELECT {value}"))
            await asyncio.sleep(0)
            return int(result.scalar_one())

    try:
        assert await asyncio.gather(*(read(i) for i in range(20))) == list(range(20))
    finally:
        await db.close()


async def test_a_failed_statement_does_not_break_later_reads(database: Database) -> None:
    db = RequestDb(database)

    async def broken_read() -> None:
        async with db.read() as session:
            await session.execute(text("SELECT * FROM no_such_table"))

    try:
        with pytest.raises(DBAPIError):
            await broken_read()
        async with db.read() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await db.close()


async def test_loaders_work_inside_a_mutation_and_see_its_writes(database: Database) -> None:
    account = await make_account(database, number="MX-1")
    db = RequestDb(database)
    loaders = Loaders.build(db, None)
    try:
        async with db.transaction() as session:
            await session.execute(
                text("UPDATE accounts SET name = 'Renombrada' WHERE number = 'MX-1'")
            )
            loaded = await asyncio.wait_for(loaders.account_by_id.load(account.id), timeout=5)
        assert loaded is not None
        assert loaded.name == "Renombrada"
    finally:
        await db.close()


async def test_a_mutation_that_fails_leaves_nothing_behind(database: Database) -> None:
    account = await make_account(database, number="MX-2", name="Original")
    db = RequestDb(database)

    async def failing_mutation() -> None:
        async with db.transaction() as session:
            await session.execute(
                text("UPDATE accounts SET name = 'Cambiada' WHERE number = 'MX-2'")
            )
            raise RuntimeError("the email could not be rendered")

    try:
        with pytest.raises(RuntimeError):
            await failing_mutation()
        async with db.read() as session:
            name = await session.execute(select(Account.name).where(Account.id == account.id))
            assert name.scalar_one() == "Original"
    finally:
        await db.close()
