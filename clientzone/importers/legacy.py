"""Importing the old portal's logins from a JSON-lines file.

One object per line:

    {"customerNumber": "MX-100300", "username": "compras",
     "passwordHash": "$2b$12$...", "main": true,
     "permissions": ["INVOICES_VIEW", "INVOICES_PAY"]}

`main` (default false) marks the account's main login, which becomes an OWNER
when claimed; others become members with `permissions` (default: the viewing
permissions). A bad line is reported with its number and skipped; the rest
is imported, in batches of one transaction each. Importing again updates the
logins not yet claimed and leaves claimed ones alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from clientzone.auth.legacy_hashes import UnsupportedHash, hash_format
from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.legacy_logins import LegacyLogin, LegacyLoginStatus, normalize_username
from clientzone.models.memberships import Permission

BATCH_SIZE = 500
# The column sizes: checked here so one long value is a bad line, not a
# failed batch (PostgreSQL refuses it, SQLite would store it).
MAX_USERNAME = 150
MAX_HASH = 255
DEFAULT_PERMISSIONS = frozenset(
    {
        Permission.INVOICES_VIEW,
        Permission.ORDERS_VIEW,
        Permission.SERVICES_VIEW,
        Permission.CASES_VIEW,
        Permission.EMAILS_VIEW,
    }
)


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    skipped: int = 0  # already claimed, left as they are
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Line:
    number: int
    customer_number: str
    username: str
    password_hash: str
    main: bool
    permissions: frozenset[Permission]


class BadLine(ValueError):
    pass


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadLine(f"missing {name}")
    if not isinstance(value, str):
        raise BadLine(f"{name} must be a string")
    return value.strip()


def parse_line(text: str) -> tuple[str, str, str, bool, frozenset[Permission]]:
    """The fields of one line, or BadLine saying what is wrong."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise BadLine("not a JSON object")
    customer = _text(data, "customerNumber")
    username = normalize_username(_text(data, "username"))
    password_hash = _text(data, "passwordHash")
    if len(username) > MAX_USERNAME:
        raise BadLine(f"username is longer than {MAX_USERNAME} characters")
    try:
        hash_format(password_hash)
    except UnsupportedHash:
        raise BadLine("passwordHash is not bcrypt, Django PBKDF2 or argon2") from None
    if len(password_hash) > MAX_HASH:
        raise BadLine(f"passwordHash is longer than {MAX_HASH} characters")
    main = data.get("main", False)
    if not isinstance(main, bool):
        raise BadLine("main must be true or false")
    names = data.get("permissions")
    if names is None:
        permissions = DEFAULT_PERMISSIONS
    elif isinstance(names, list) and all(isinstance(n, str) for n in names):
        unknown = sorted(set(names) - {p.value for p in Permission})
        if unknown:
            raise BadLine(f"unknown permission {', '.join(unknown)}")
        permissions = frozenset(Permission(n) for n in names)
    else:
        raise BadLine("permissions must be a list of permission names")
    return customer, username, password_hash, main, permissions


def _decode(raw: str | bytes, number: int) -> str:
    if isinstance(raw, str):
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadLine("not valid UTF-8") from None
    # Files saved by spreadsheet tools often start with a byte-order mark.
    return text.removeprefix("\ufeff") if number == 1 else text


def _batches(
    lines: Iterable[str | bytes], report: ImportReport
) -> Iterator[tuple[list[_Line], int]]:
    """Batches of good lines, each with the number of lines read so far."""
    batch: list[_Line] = []
    number = 0
    for number, raw in enumerate(lines, start=1):
        try:
            text = _decode(raw, number)
            if not text.strip():
                continue
            customer, username, password_hash, main, permissions = parse_line(text)
        except BadLine as exc:
            report.errors.append((number, str(exc)))
            continue
        batch.append(_Line(number, customer, username, password_hash, main, permissions))
        if len(batch) >= BATCH_SIZE:
            yield batch, number
            batch = []
    if batch:
        yield batch, number


async def import_legacy_logins(
    database: Database,
    lines: Iterable[str | bytes],
    *,
    progress: Callable[[ImportReport, int], None] | None = None,
) -> ImportReport:
    """Import every good line (text, or bytes read as UTF-8).

    `progress(report, lines_read)` runs after each committed batch;
    `report.errors` is then in line order and complete up to `lines_read`.
    """
    report = ImportReport()
    ordered = 0
    for batch, lines_read in _batches(lines, report):
        async with database.transaction() as session:
            # Customer numbers as written, or in capitals as the accounts keep them.
            wanted = {
                n for line in batch for n in (line.customer_number, line.customer_number.upper())
            }
            found = await session.execute(
                select(col(Account.number), col(Account.id)).where(col(Account.number).in_(wanted))
            )
            accounts: dict[str, uuid.UUID] = dict(found.all())
            # Locked so a claim running now either finishes first (and the row is
            # left alone) or waits for this batch.
            existing_rows = await session.execute(
                select(LegacyLogin)
                .where(
                    col(LegacyLogin.account_id).in_(set(accounts.values())),
                    col(LegacyLogin.username).in_({line.username for line in batch}),
                )
                .with_for_update()
            )
            existing = {(row.account_id, row.username): row for row in existing_rows.scalars()}
            for line in batch:
                account_id = accounts.get(line.customer_number) or accounts.get(
                    line.customer_number.upper()
                )
                if account_id is None:
                    report.errors.append((line.number, f"unknown customer {line.customer_number}"))
                    continue
                row = existing.get((account_id, line.username))
                if row is None:
                    row = LegacyLogin(
                        account_id=account_id, username=line.username, password_hash=""
                    )
                    existing[(account_id, line.username)] = row
                    report.imported += 1
                elif row.status is LegacyLoginStatus.CLAIMED:
                    report.skipped += 1
                    continue
                else:
                    report.updated += 1
                row.password_hash = line.password_hash
                row.is_main = line.main
                row.permissions = line.permissions
                session.add(row)
        # Unknown customers are found after the batch's parse errors: sort the
        # batch's share so the list is in line order at every progress call.
        report.errors[ordered:] = sorted(report.errors[ordered:])
        ordered = len(report.errors)
        if progress is not None:
            progress(report, lines_read)
    return report
