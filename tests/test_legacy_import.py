"""Importing old-portal logins from JSON lines: good lines in, bad lines reported."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlmodel import col

from clientzone.auth.legacy_hashes import verify_legacy
from clientzone.db import Database
from clientzone.importers import legacy as legacy_import
from clientzone.importers.legacy import DEFAULT_PERMISSIONS, ImportReport, import_legacy_logins
from clientzone.models.legacy_logins import LegacyLogin, LegacyLoginStatus
from clientzone.models.memberships import Permission
from tests.helpers import make_account
from tests.test_cli import run_cli

PASSWORDS = {"compras": "clave-uno", "ventas": "clave-dos", "admin": "clave-tres"}


def _bcrypt(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def _django(password: str, salt: str = "sal") -> str:
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 600)
    return f"pbkdf2_sha256$600${salt}${base64.b64encode(derived).decode()}"


def _argon2(password: str) -> str:
    return PasswordHasher(time_cost=1, memory_cost=8192).hash(password)


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _lines() -> list[bytes]:
    """Good lines 1, 3 and 9; a blank line 4; bad lines 2, 5-8, 10 and 11."""
    django = _django("clave-dos")
    return [
        # A byte-order mark, as spreadsheet tools write it, is not an error.
        b"\xef\xbb\xbf"
        + _json(
            {
                "customerNumber": "MX-5000",
                "username": " Compras ",
                "main": True,
                "passwordHash": _bcrypt("clave-uno"),
            }
        ),
        b"{not json",
        _json(
            {
                "customerNumber": "MX-5000",
                "username": "ventas",
                "permissions": ["ORDERS_VIEW"],
                "passwordHash": django,
            }
        ),
        b"  ",
        _json({"customerNumber": "XX-1", "username": "a", "passwordHash": django}),
        _json({"customerNumber": "MX-5000", "username": "b", "passwordHash": "md5$abc$def"}),
        _json({"customerNumber": "MX-5000", "passwordHash": django}),
        _json(
            {
                "customerNumber": "MX-5000",
                "username": "otro",
                "passwordHash": django,
                "permissions": ["FLY"],
            }
        ),
        # Customer numbers are matched also when written in lower case.
        _json(
            {
                "customerNumber": "ar-5100",
                "username": "ADMIN",
                "passwordHash": _argon2("clave-tres"),
            }
        ),
        _json(
            {
                "customerNumber": "MX-5000",
                "username": "largo",
                "passwordHash": _django("x", "s" * 250),
            }
        ),
        b'{"customerNumber": "MX-5000", "username": "compa\xf1ia", "passwordHash": "x"}',
    ]


ERRORS = [
    (2, "not valid JSON (Expecting property name enclosed in double quotes)"),
    (5, "unknown customer XX-1"),
    (6, "passwordHash is not bcrypt, Django PBKDF2 or argon2"),
    (7, "missing username"),
    (8, "unknown permission FLY"),
    (10, "passwordHash is longer than 255 characters"),
    (11, "not valid UTF-8"),
]


async def _rows(database: Database) -> dict[str, LegacyLogin]:
    async with database.session() as session:
        return {r.username: r for r in (await session.execute(select(LegacyLogin))).scalars()}


async def test_good_lines_are_imported_and_bad_ones_reported_by_number(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_account(database, number="MX-5000")
    await make_account(database, number="AR-5100")
    monkeypatch.setattr(legacy_import, "BATCH_SIZE", 2)
    seen: list[tuple[int, list[tuple[int, str]]]] = []

    def progress(report: ImportReport, line: int) -> None:
        seen.append((line, list(report.errors)))

    with database.count_statements() as counted:
        report = await import_legacy_logins(database, _lines(), progress=progress)
    assert (report.imported, report.updated, report.skipped) == (3, 0, 0)
    assert report.errors == ERRORS
    # Batches of two parsed lines: 1 and 3, then 5 (its customer is unknown) and 9;
    # each reports the errors of the lines read so far.
    assert seen == [(3, ERRORS[:1]), (9, ERRORS[:5])]
    # The customer numbers are looked up once per batch, not once per line.
    assert sum("FROM accounts" in s for s in counted.statements) == 2

    rows = await _rows(database)
    assert set(rows) == {"compras", "ventas", "admin"}
    assert {name: row.is_main for name, row in rows.items()} == {
        "compras": True,
        "ventas": False,
        "admin": False,
    }
    assert rows["compras"].permissions == DEFAULT_PERMISSIONS
    assert rows["ventas"].permissions == frozenset({Permission.ORDERS_VIEW})
    assert rows["admin"].permissions == DEFAULT_PERMISSIONS
    assert {row.status for row in rows.values()} == {LegacyLoginStatus.ACTIVE}
    for username, row in rows.items():
        assert verify_legacy(row.password_hash, PASSWORDS[username])
        assert not verify_legacy(row.password_hash, "otra-clave")


async def test_importing_again_updates_open_logins_and_leaves_claimed_ones(
    database: Database,
) -> None:
    await make_account(database, number="MX-5000")
    await make_account(database, number="AR-5100")
    await import_legacy_logins(database, _lines())
    async with database.transaction() as session:
        await session.execute(
            update(LegacyLogin)
            .where(col(LegacyLogin.username) == "compras")
            .values(status=LegacyLoginStatus.CLAIMED)
        )
    before = await _rows(database)

    again = [
        json.dumps(
            {
                "customerNumber": "MX-5000",
                "username": username,
                "passwordHash": _django("nueva-clave"),
                "main": username == "ventas",
                "permissions": ["CASES_VIEW"],
            }
        )
        for username in ("compras", "ventas")
    ]
    report = await import_legacy_logins(database, again)
    assert (report.imported, report.updated, report.skipped, report.errors) == (0, 1, 1, [])

    after = await _rows(database)
    ventas = after["ventas"]
    assert verify_legacy(ventas.password_hash, "nueva-clave")
    assert (ventas.is_main, ventas.permissions) == (True, frozenset({Permission.CASES_VIEW}))
    assert ventas.id == before["ventas"].id
    compras = after["compras"]
    assert compras.status is LegacyLoginStatus.CLAIMED
    assert compras.password_hash == before["compras"].password_hash
    assert (compras.is_main, compras.permissions) == (True, DEFAULT_PERMISSIONS)
    assert after["admin"].password_hash == before["admin"].password_hash


async def test_the_cli_reports_progress_bad_lines_and_a_summary(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    await make_account(database, number="MX-5000")
    await make_account(database, number="AR-5100")
    source = tmp_path / "legacy.jsonl"
    source.write_bytes(b"\r\n".join(_lines()) + b"\r\n")

    done = run_cli("legacy", "import", str(source), database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "3 imported, 0 updated, 0 skipped (already claimed), 7 bad lines\n"
    stderr = done.stderr.splitlines()
    assert [s for s in stderr if s.startswith("line ")] == [
        f"line {number}: {reason}" for number, reason in ERRORS
    ]
    assert stderr[-1] == "processed 11 lines... (3 new, 0 updated, 0 already claimed)"

    again = run_cli("legacy", "import", str(source), database_url=database_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("0 imported, 3 updated, 0 skipped")

    missing = run_cli("legacy", "import", str(tmp_path / "nope.jsonl"), database_url=database_url)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    assert missing.stdout == ""
