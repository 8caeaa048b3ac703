"""The per-request session rule (see clientzone/auth/context.py), exercised directly."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import DBAPIError

from clientzone.db import Database, RequestDb, RequestFinished, WriteOnReadSession
from clientzone.loaders import Loaders
from clientzone.models.accounts import Account
from tests.conftest import Portal
from tests.helpers import gid, make_account


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


def _slow_statement(database: Database) -> str:
    if database.is_sqlite:
        return (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
            "SELECT count(*) FROM c"
        )
    return "SELECT pg_sleep(0.3)"


async def test_a_cancelled_read_finishes_its_statement_and_keeps_its_connection(
    database: Database,
) -> None:
    """A sibling field's failure cancels a read mid-statement: the statement runs
    to its end, so the connection stays in the pool instead of being discarded."""
    invalidated: list[object] = []

    def record(*args: object) -> None:
        invalidated.append(args)

    event.listen(database.engine.sync_engine, "invalidate", record)
    db = RequestDb(database)

    async def read() -> None:
        async with db.read() as session:
            await session.execute(text(_slow_statement(database)))

    try:
        task = asyncio.create_task(read())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.read() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await db.close()
        event.remove(database.engine.sync_engine, "invalidate", record)
    assert invalidated == []


async def test_a_field_error_beside_a_running_read_discards_no_connection(
    portal: Portal, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(30):
        await make_account(database, number=f"MX-9{i:03d}", parent=portal.parent)
    query = """
    query Both($id: ID) {
      account(id: $id) {
        linkedAccounts(first: 50) { nodes { number } }
        ledger(first: 5, after: "not-a-cursor") { nodes { reference } }
      }
    }
    """
    for _ in range(10):
        body = await portal.owner.execute(query, {"id": gid("Account", portal.parent.id)})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
        # Reads of the cancelled sibling finished before the request ended, and
        # nothing reopened a connection after it.
        await asyncio.sleep(0.05)
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert "discarding" not in caplog.text


async def test_no_read_starts_after_the_request_ended(database: Database) -> None:
    db = RequestDb(database)
    async with db.read() as session:
        await session.execute(text("SELECT 1"))
    await db.close()
    with pytest.raises(RequestFinished):
        async with db.read():
            pass
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_read_leaves_no_transaction_open(database: Database) -> None:
    """Reads take no locks and see every commit: SQLite's driver opens no
    transaction for a SELECT, and PostgreSQL's reads run in autocommit."""
    db = RequestDb(database)
    try:
        async with db.read() as session:
            await session.execute(select(Account.id).limit(1))
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            if database.is_sqlite:
                assert not driver.in_transaction
            else:
                assert not driver.is_in_transaction()
        # A write meanwhile is neither blocked nor hidden from the next read.
        account = await make_account(database, number="MX-77")
        async with db.read() as session:
            found = await session.execute(select(Account.number).where(Account.id == account.id))
            assert found.scalar_one() == "MX-77"
    finally:
        await db.close()


async def test_a_write_through_a_read_session_fails_loudly(database: Database) -> None:
    """On SQLite it would open a transaction that the request's end rolls back."""
    account = await make_account(database, number="MX-78")
    db = RequestDb(database)
    try:
        with pytest.raises(WriteOnReadSession):
            async with db.read() as session:
                await session.execute(
                    update(Account).where(Account.id == account.id).values(name="Otra")
                )
    finally:
        await db.close()
    async with database.read_session() as session:
        kept = await session.execute(select(Account.name).where(Account.id == account.id))
        assert kept.scalar_one() != "Otra"


async def test_postgresql_sessions_carry_the_limits_and_no_jit(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("PostgreSQL's session settings; SQLite's wait is the driver's timeout")
    db = RequestDb(database)
    try:
        async with db.read() as session:
            settings = (
                await session.execute(
                    text(
                        "SELECT current_setting('jit'), current_setting('statement_timeout'),"
                        " current_setting('idle_in_transaction_session_timeout')"
                    )
                )
            ).one()
    finally:
        await db.close()
    # JIT compilation, set off by the planner's estimate of a branch that never
    # runs, cost 250 ms on statements that take 1 ms (bench/README.md).
    assert tuple(settings) == ("off", "10s", "30s")
