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
    unchanged_claimed: int = 0
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


def parse_line(text: str) -> tuple[str, str, str, bool, frozenset[Permission]]:
    """The fields of one line, or BadLine saying what is wrong."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise BadLine("not a JSON object")
    values: list[str] = []
    for name in ("customerNumber", "username", "passwordHash"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise BadLine(f"{name} is missing or not a text")
        values.append(value.strip())
    main = data.get("main", False)
    if not isinstance(main, bool):
        raise BadLine("main must be true or false")
    try:
        hash_format(values[2])
    except UnsupportedHash:
        raise BadLine("passwordHash is not bcrypt, Django PBKDF2 or argon2") from None
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
    if len(values[1]) > 150:
        raise BadLine("username is longer than 150 characters")
    return values[0], normalize_username(values[1]), values[2], main, permissions


def _batches(lines: Iterable[str], report: ImportReport) -> Iterator[list[_Line]]:
    batch: list[_Line] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            customer, username, password_hash, main, permissions = parse_line(text)
        except BadLine as exc:
            report.errors.append((number, str(exc)))
            continue
        batch.append(_Line(number, customer, username, password_hash, main, permissions))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


async def import_legacy_logins(
    database: Database,
    lines: Iterable[str],
    *,
    progress: Callable[[ImportReport, int], None] | None = None,
) -> ImportReport:
    """Import every good line; `progress(report, lines_done)` after each batch."""
    report = ImportReport()
    done = 0
    for batch in _batches(lines, report):
        async with database.transaction() as session:
            numbers = {line.customer_number for line in batch}
            found = await session.execute(
                select(col(Account.number), col(Account.id)).where(col(Account.number).in_(numbers))
            )
            accounts = dict(found.all())
            existing_rows = await session.execute(
                select(LegacyLogin).where(col(LegacyLogin.account_id).in_(accounts.values()))
            )
            existing = {(row.account_id, row.username): row for row in existing_rows.scalars()}
            for line in batch:
                account_id = accounts.get(line.customer_number)
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
                    report.unchanged_claimed += 1
                    continue
                else:
                    report.updated += 1
                row.password_hash = line.password_hash
                row.is_main = line.main
                row.permissions = line.permissions
                session.add(row)
        done = batch[-1].number
        if progress is not None:
            progress(report, done)
    report.errors.sort()
    return report
