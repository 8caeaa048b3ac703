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
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, raiseload

from clientzone.config import Settings, normalize_database_url
from clientzone.observability import metrics

logger = logging.getLogger("clientzone.db")


class StatementCounter:
    """Counts SQL statements sent by an engine; tests and benchmarks pin them."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


_T = TypeVar("_T")


async def _finish(work: Awaitable[_T]) -> _T:
    """Await a statement so that cancelling the caller does not cut it short.

    Strawberry and graphql-core cancel a field's task when a sibling field
    fails, and a client may go away mid-request. A statement interrupted half
    way leaves its connection in an unknown state (asyncpg cannot use it
    again), so it runs to its end in a task of its own; the cancelled caller
    waits for that end and only then stops. The database's statement timeout
    bounds the wait.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            with suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        if not task.cancelled():
            task.exception()  # retrieved: the caller is cancelled anyway
        raise


class CancelSafeSession(AsyncSession):
    """An AsyncSession whose statements always run to their end (see `_finish`)."""

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await _finish(super().execute(*args, **kwargs))

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await _finish(super().scalar(*args, **kwargs))

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return await _finish(super().scalars(*args, **kwargs))

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await _finish(super().get(*args, **kwargs))

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        await _finish(super().flush(*args, **kwargs))

    async def commit(self) -> None:
        await _finish(super().commit())


@dataclass(frozen=True)
class Timeouts:
    """How long the service waits on the database, in seconds (settings:
    DATABASE_*_TIMEOUT_SECONDS). A silent server then costs a bounded wait and
    an UNAVAILABLE answer, never a hung request."""

    connect: float = 5.0
    # A pooled connection: waiting longer means the process is overloaded.
    pool: float = 3.0
    # One statement (PostgreSQL: statement_timeout and the client's own
    # command timeout; SQLite: how long a writer waits for the lock).
    statement: float = 10.0
    # A transaction left open (PostgreSQL: idle_in_transaction_session_timeout).
    idle_in_transaction: float = 30.0
    # Send the PostgreSQL limits as startup parameters of each connection; a
    # pooler in transaction mode (PgBouncer) refuses them: set them on the
    # database role instead (docs/deployment.md).
    session_settings: bool = True


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int | None = None,
        echo: bool = False,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.url = normalize_database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.timeouts = timeouts = timeouts or Timeouts()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            _ensure_sqlite_directory(self.url)
            # SQLite serialises writers itself (busy timeout below) and WAL lets
            # readers run beside the writer.
            kwargs["connect_args"] = {"timeout": timeouts.statement}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {
                "timeout": timeouts.connect,
                "command_timeout": timeouts.statement + 1,
            }
            if timeouts.session_settings:
                kwargs["connect_args"]["server_settings"] = {
                    "application_name": "clientzone",
                    "statement_timeout": str(int(timeouts.statement * 1000)),
                    "idle_in_transaction_session_timeout": str(
                        int(timeouts.idle_in_transaction * 1000)
                    ),
                    # The planner's cost of a branch a CASE never runs (the
                    # union count for an owner of 100,000 accounts) set off JIT
                    # compilation: 250 ms for a statement that runs in 1 ms.
                    "jit": "off",
                }
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = pool_size if max_overflow is None else max_overflow
        kwargs["pool_timeout"] = timeouts.pool
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self.sessionmaker = async_sessionmaker(
            self.engine, class_=CancelSafeSession, expire_on_commit=False, autoflush=False
        )
        # Reads run without a transaction: at READ COMMITTED a transaction gives
        # a request nothing (every statement sees its own snapshot anyway) and
        # costs two round trips, BEGIN and ROLLBACK, on every request. SQLite's
        # driver opens a transaction only before a write, so its reads already
        # run without one; asking for AUTOCOMMIT there would only switch each
        # connection's isolation level at checkout and back at checkin (trips
        # to the connection's thread and PRAGMAs: 10-26 % of a screen's CPU,
        # bench/README.md).
        # A write through a read session fails at once (touch_session, for
        # one, takes a side transaction): on SQLite it would open a transaction
        # that the end of the request rolls back, silently.
        self.read_engine = (
            self.engine.execution_options(**_READS)
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT", **_READS)
        )
        self.read_sessionmaker = async_sessionmaker(
            self.read_engine, class_=CancelSafeSession, expire_on_commit=False, autoflush=False
        )
        self._counters: list[StatementCounter] = []
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._count)
        event.listen(self.engine.sync_engine, "before_cursor_execute", _refuse_writes_on_reads)
        event.listen(self.engine.sync_engine, "checkout", _checked_out)
        event.listen(self.engine.sync_engine, "checkin", _checked_in)
        if self.is_sqlite:
            busy_ms = int(timeouts.statement * 1000)
            event.listen(
                self.engine.sync_engine,
                "connect",
                lambda connection, record: _sqlite_pragmas(connection, busy_ms),
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            settings.database_url,
            pool_size=settings.database_pool_size,
            timeouts=Timeouts(
                connect=settings.database_connect_timeout_seconds,
                pool=settings.database_pool_timeout_seconds,
                statement=settings.database_statement_timeout_seconds,
                idle_in_transaction=settings.database_idle_in_transaction_seconds,
                session_settings=settings.database_session_settings,
            ),
        )

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    def read_session(self) -> AsyncSession:
        """A session whose statements each commit on their own (see above)."""
        return self.read_sessionmaker()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A short transaction of its own, committed when the block ends."""
        async with self.session() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    @property
    def pool_status(self) -> tuple[int, int]:
        """Connections in use, and the pool's size (its overflow included)."""
        pool: Any = self.engine.pool
        size = int(pool.size()) + int(getattr(pool, "_max_overflow", 0))
        return int(pool.checkedout()), size

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
        metrics.count_statement()
        for counter in self._counters:
            counter.statements.append(statement)


_READS = {"clientzone_reads_only": True}
_WRITES = ("INSERT", "UPDATE", "DELETE")


class WriteOnReadSession(RuntimeError):
    """A statement that writes, sent through a request's read session."""


def _refuse_writes_on_reads(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if conn.get_execution_options().get("clientzone_reads_only") and (
        statement.lstrip()[:6].upper() in _WRITES
    ):
        raise WriteOnReadSession(f"a write through a read session: {statement[:60]}")


def _checked_out(*_args: Any) -> None:
    metrics.POOL_IN_USE.inc()


def _checked_in(*_args: Any) -> None:
    metrics.POOL_IN_USE.dec()


def _ensure_sqlite_directory(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
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
        self._closed = False

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        if self._transaction is not None:
            # Inside a mutation (which runs alone): read through its transaction,
            # so loaders and access checks see its writes and cannot deadlock.
            yield self._transaction
            return
        async with self._lock:
            if self._closed:
                # A loader batch scheduled by a field that was cancelled: the
                # request is over and must not take a connection again.
                raise RequestFinished
            if self._session is None:
                self._session = self._database.read_session()
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

    @asynccontextmanager
    async def side_transaction(self) -> AsyncIterator[AsyncSession]:
        """A short transaction that stands whatever the request does next
        (failed attempts, last seen). The read session gives its connection
        back first and reads wait meanwhile: a request never holds one pooled
        connection while it waits for another. Never inside a mutation's
        transaction (SQLite has one writer)."""
        if self._transaction is not None:
            raise RuntimeError("a side transaction cannot run inside a mutation's transaction")
        async with self._lock:
            await self._drop_session()
            async with self._database.transaction() as session:
                yield session

    @property
    def database(self) -> Database:
        return self._database

    async def release(self) -> None:
        """Give the connection back between uses (long-lived subscriptions, or
        before a counter store that uses the database); the next read opens a
        new session."""
        if self._transaction is not None:
            return
        async with self._lock:
            await self._drop_session()

    async def close(self) -> None:
        """The end of the request: reads still running (a loader batch whose
        field was cancelled) finish first, and no read starts after."""
        async with self._lock:
            self._closed = True
            await self._drop_session()

    async def _drop_session(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            try:
                await session.close()
            except Exception:
                # The connection is in an unknown state (a statement was cut
                # short, e.g. by a timeout): drop it from the pool rather than
                # fail a response that is already decided.
                logger.warning("discarding a request's database connection", exc_info=True)
                with suppress(Exception):
                    await session.invalidate()


class RequestFinished(Exception):
    """A read asked for after its request ended (nobody is waiting for it)."""
