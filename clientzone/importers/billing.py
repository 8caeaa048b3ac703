"""Importing the billing system's data from JSON lines (`clientzone import FILE`).

Each line is one object with a `type`: brand, account, invoice, payment,
credit_note, order, service or product (docs/billing.md shows each).
Everything but brands, accounts and products (matched by code, customer
number, code) carries an
`externalId`; a line whose externalId was already imported is skipped, so
the same file can be imported again. Accounts are matched by customer number.
Invoices, payments and credit notes are posted to the ledger in file order:
give them in date order.

A line either applies whole or is a bad line with its number and reason, and
the run always ends with its report. Lines go in batches of BATCH_SIZE, one
transaction each:

1. every line of the batch is decoded, and what it refers to is looked up in a
   few statements (accounts by number, external ids already imported, the
   invoices it names, invoice and order numbers in use, each account's last
   ledger movement);
2. each line is checked against that and against the lines before it in the
   batch (billing_lines.py checks what needs no database), then applied to
   the batch in memory: a bad line is refused before it changes anything;
3. the batch is written with one multi-row INSERT per table (and one UPDATE
   per kind of change), and committed.

Should the database still refuse the batch (a row written meanwhile by
someone else, a value it cannot store), the batch is rolled back and run
again one line at a time, each line in a savepoint, so only the lines at
fault are reported. A failure of the database itself (unreachable, locked)
stops the run at that batch: the report says from which line nothing was
imported, and running the file again picks up from there.

The accounts a batch posts to are locked for it (PostgreSQL: `SELECT ... FOR
UPDATE`, the lock post_movement and payments take), so movements posted by
the service meanwhile queue instead of clashing. On SQLite the batch begins
with `BEGIN IMMEDIATE`: its one writer's lock is taken before the first read,
and the savepoints of the line-by-line run are nested in it (without it, the
driver runs a first SAVEPOINT outside any transaction and its RELEASE commits).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientzone import brands
from clientzone.db import Database
from clientzone.importers import billing_lines as parse
from clientzone.importers.billing_batch import Batch, Line, table
from clientzone.importers.billing_lines import BadLine
from clientzone.models.invoices import DocumentType

logger = logging.getLogger("clientzone.import")

BATCH_SIZE = 500

__all__ = ["BATCH_SIZE", "BadLine", "ImportReport", "import_billing"]


@dataclass
class ImportReport:
    imported: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # already imported
    errors: list[tuple[int, str]] = field(default_factory=list)
    # (first line not imported, why) when the database failed and the run stopped
    stopped: tuple[int, str] | None = None
    announced: int = 0  # "invoice issued" emails queued after the import


def _decode(number: int, raw: str | bytes) -> Line:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadLine(f"not valid UTF-8 (byte {exc.start + 1})") from None
    data = parse.decode(raw)
    kind = parse.kind_of(data)
    external_id = None if kind in parse.UNKEYED else parse.required_text(data, "externalId", 100)
    return Line(number, kind, data, external_id)


@asynccontextmanager
async def _batch_transaction(database: Database) -> AsyncIterator[AsyncSession]:
    """A transaction that is one even on SQLite (see the module docstring)."""
    async with database.transaction() as session:
        if database.is_sqlite:
            connection = await session.connection()
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield session


def _constraint(exc: IntegrityError) -> str:
    text = str(exc.orig)
    for name in ("number", "external_id", "seq"):
        if name in text:
            return f"duplicate {name}"
    return "constraint"


def _fatal(exc: BaseException) -> bool:
    """The database failed (unreachable, not migrated, locked too long), not
    this line's values (a constraint, a value it cannot store): stop the run."""
    if isinstance(exc, OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError | DataError)


@dataclass
class _Outcome:
    """Per line: its kind when imported, None when imported before, or an error."""

    applied: dict[int, str | None] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Importer:
    def __init__(
        self, database: Database, credentials_key: bytes | None, default_brand: str
    ) -> None:
        self.database = database
        self.credentials_key = credentials_key
        self.default_brand = default_brand
        self.document_types: frozenset[str] | None = None

    async def _prepare(self, session: AsyncSession, lines: Sequence[Line]) -> Batch:
        if self.document_types is None:
            codes = await session.execute(select(table(DocumentType).c.code))
            self.document_types = frozenset(codes.scalars())
        batch = Batch(self.document_types, self.credentials_key, self.default_brand)
        await batch.look_up(session, lines, lock=not self.database.is_sqlite)
        return batch

    async def run(self, lines: list[Line]) -> _Outcome:
        """All lines in one transaction; again line by line when the database
        refuses the batch."""
        outcome = _Outcome()
        try:
            async with _batch_transaction(self.database) as session:
                batch = await self._prepare(session, lines)
                for line in lines:
                    try:
                        outcome.applied[line.number] = line.kind if batch.apply(line) else None
                    except BadLine as exc:
                        outcome.errors.append((line.number, str(exc)))
                await batch.write(session)
            return outcome
        except Exception as exc:
            logger.info("import batch refused (%s): again line by line", type(exc).__name__)
        return await self._one_by_one(lines)

    async def _one_by_one(self, lines: list[Line]) -> _Outcome:
        outcome = _Outcome()
        async with _batch_transaction(self.database) as session:
            for line in lines:
                try:
                    async with session.begin_nested():
                        batch = await self._prepare(session, [line])
                        applied = batch.apply(line)
                        await batch.write(session)
                    outcome.applied[line.number] = line.kind if applied else None
                except BadLine as exc:
                    outcome.errors.append((line.number, str(exc)))
                except IntegrityError as exc:
                    reason = f"conflicts with existing data ({_constraint(exc)})"
                    outcome.errors.append((line.number, reason))
                except Exception as exc:
                    if _fatal(exc):
                        raise _Stop(f"{type(exc).__name__}: {exc}") from exc
                    logger.warning("import line %s refused", line.number, exc_info=True)
                    reason = f"could not be stored ({type(exc).__name__})"
                    outcome.errors.append((line.number, reason))
        return outcome


async def import_billing(
    database: Database,
    lines: Iterable[str | bytes],
    *,
    progress: Callable[[int], None] | None = None,
    credentials_key: bytes | None = None,
    default_brand: str = "default",
) -> ImportReport:
    """Import every line it can; never raises for a line or for the database
    (a stopped run says so in `report.stopped`). Services' `credentials` are
    sealed with `credentials_key` (Settings.credentials_key()); without it a
    line carrying them is a bad line. No brand line may take `default_brand`,
    the code of the settings' brand (BRAND_CODE)."""
    report = ImportReport()
    importer = _Importer(database, credentials_key, default_brand)
    pending = list(enumerate(lines, start=1))
    for start in range(0, len(pending), BATCH_SIZE):
        chunk = pending[start : start + BATCH_SIZE]
        decoded: list[Line] = []
        errors: list[tuple[int, str]] = []
        for number, raw in chunk:
            if not raw.strip():
                continue
            try:
                decoded.append(_decode(number, raw))
            except BadLine as exc:
                errors.append((number, str(exc)))
        try:
            outcome = await importer.run(decoded) if decoded else _Outcome()
        except Exception as exc:
            reason = exc.reason if isinstance(exc, _Stop) else f"{type(exc).__name__}: {exc}"
            logger.error("import stopped at line %s: %s", chunk[0][0], reason)
            report.stopped = (chunk[0][0], reason)
            break
        for kind in outcome.applied.values():
            if kind is None:
                report.skipped += 1
            else:
                report.imported[kind] = report.imported.get(kind, 0) + 1
        report.errors.extend(sorted(errors + outcome.errors))
        if progress is not None:
            progress(min(start + BATCH_SIZE, len(pending)))
    if "brand" in report.imported:
        brands.forget()  # this process's mail uses the new values at once
    return report
