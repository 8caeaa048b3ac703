"""The async database: one engine per process, sessions without lazy loading.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is production.
Every ORM query gets `raiseload("*")`, so an attribute that was not loaded
explicitly fails loudly instead of issuing a hidden query (which under asyncio
would also fail, later and less clearly).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, raiseload

from clientzone.config import normalize_database_url

logger = logging.getLogger("clientzone.db")


class StatementCounter:
    """Counts SQL statements sent by an engine; tests and benchmarks pin them."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = normalize_database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            _ensure_sqlite_directory(self.url)
            # SQLite serialises writers itself (busy timeout below) and WAL lets
            # readers run beside the writer.
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._counters: list[StatementCounter] = []
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._count)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A short transaction of its own, committed when the block ends."""
        async with self.session() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

    @contextmanager
    def count_statements(self) -> Iterator[StatementCounter]:
        counter = StatementCounter()
        self._counters.append(counter)
        try:
            yield counter
        finally:
            self._counters.remove(counter)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        for counter in self._counters:
            counter.statements.append(statement)


def _ensure_sqlite_directory(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        with suppress(sqlite3.OperationalError):  # read-only media keep their journal
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


@event.listens_for(Session, "do_orm_execute")
def _no_lazy_loading(state: ORMExecuteState) -> None:
    # Only where a relationship could load lazily: the option makes a new
    # statement, whose SQL cache key costs a walk of the whole tree (~1 ms).
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and any(mapper.relationships for mapper in state.all_mappers)
    ):
        state.statement = state.statement.options(raiseload("*"))


class RequestDb:
    """One request's database access; the rule it follows is in auth/context.py."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._lock = asyncio.Lock()
        self._session: AsyncSession | None = None
        self._transaction: AsyncSession | None = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        if self._transaction is not None:
            # Inside a mutation (which runs alone): read through its transaction,
            # so loaders and access checks see its writes and cannot deadlock.
            yield self._transaction
            return
        async with self._lock:
            if self._session is None:
                self._session = self._database.session()
            try:
                yield self._session
            except BaseException:
                # A failed statement poisons a PostgreSQL transaction; start afresh.
                await self._session.rollback()
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is not None:
                # End the read transaction: reads after this mutation must see it.
                await self._session.commit()
            async with self._database.session() as session, session.begin():
                self._transaction = session
                try:
                    yield session
                finally:
                    self._transaction = None

    @property
    def database(self) -> Database:
        """For writes that must stand whatever the request does next (counters,
        failed attempts, last seen): `async with ctx.db.database.transaction()`.
        Never inside a mutation's transaction (SQLite has one writer)."""
        return self._database

    async def release(self) -> None:
        """Give the connection back between uses (long-lived subscriptions);
        the next read opens a new session."""
        async with self._lock:
            await self.close()

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            try:
                await session.close()
            except Exception:
                # A sibling field failed and the executor cancelled a read in
                # flight: that connection is in an unknown state. Drop it from
                # the pool rather than fail a response that is already decided.
                logger.warning("discarding a request's database connection", exc_info=True)
                with suppress(Exception):
                    await session.invalidate()
