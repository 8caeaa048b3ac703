"""Importing old-portal logins from JSON lines: good lines in, bad lines reported."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import bcrypt
from argon2 import PasswordHasher
from sqlalchemy import select, update

from clientzone.auth.legacy_hashes import verify_legacy
from clientzone.db import Database
from clientzone.legacy_import import DEFAULT_PERMISSIONS, import_legacy_logins
from clientzone.models.legacy_logins import LegacyLogin, LegacyLoginStatus
from clientzone.models.memberships import Permission
from tests.helpers import make_account
from tests.test_cli import run_cli

PASSWORDS = {"compras": "clave-uno", "ventas": "clave-dos", "admin": "clave-tres"}


def _django(password: str) -> str:
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), b"sal", 600)
    return f"pbkdf2_sha256$600$sal${base64.b64encode(derived).decode()}"


def _lines() -> list[str]:
    good = [
        {
            "customerNumber": "MX-5000",
            "username": " Compras ",
            "main": True,
            "passwordHash": bcrypt.hashpw(b"clave-uno", bcrypt.gensalt(rounds=4)).decode(),
        },
        {
            "customerNumber": "MX-5000",
            "username": "ventas",
            "permissions": ["ORDERS_VIEW"],
            "passwordHash": _django("clave-dos"),
        },
        {
            "customerNumber": "AR-5100",
            "username": "admin",
            "passwordHash": PasswordHasher(time_cost=1, memory_cost=8192).hash("clave-tres"),
        },
    ]
    return [
        json.dumps(good[0]),
        "{not json",
        json.dumps(good[1]),
        "",
        json.dumps(
            {"customerNumber": "XX-1", "username": "a", "passwordHash": good[1]["passwordHash"]}
        ),
        json.dumps({"customerNumber": "MX-5000", "username": "b", "passwordHash": "md5$abc$def"}),
        json.dumps({"customerNumber": "MX-5000", "passwordHash": good[1]["passwordHash"]}),
        json.dumps({**good[1], "username": "otro", "permissions": ["FLY"]}),
        json.dumps(good[2]),
    ]


async def test_good_lines_are_imported_and_bad_ones_reported_by_number(
    database: Database,
) -> None:
    await make_account(database, number="MX-5000")
    await make_account(database, number="AR-5100")
    seen: list[int] = []
    report = await import_legacy_logins(
        database, _lines(), progress=lambda _report, line: seen.append(line)
    )
    assert (report.imported, report.updated) == (3, 0)
    assert report.errors == [
        (2, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (5, "unknown customer XX-1"),
        (6, "passwordHash is not bcrypt, Django PBKDF2 or argon2"),
        (7, "username is missing or not a text"),
        (8, "unknown permission FLY"),
    ]
    assert seen == [9]
    async with database.session() as session:
        rows = {r.username: r for r in (await session.execute(select(LegacyLogin))).scalars()}
    assert set(rows) == {"compras", "ventas", "admin"}
    assert rows["compras"].is_main is True
    assert rows["ventas"].permissions == frozenset({Permission.ORDERS_VIEW})
    assert rows["admin"].permissions == DEFAULT_PERMISSIONS
    for username, row in rows.items():
        assert verify_legacy(row.password_hash, PASSWORDS[username])
        assert not verify_legacy(row.password_hash, "otra-clave")


async def test_importing_again_updates_open_logins_and_leaves_claimed_ones(
    database: Database,
) -> None:
    await make_account(database, number="MX-5000")
    await make_account(database, number="AR-5100")
    await import_legacy_logins(database, _lines())
    async with database.session() as session, session.begin():
        await session.execute(
            update(LegacyLogin)
            .where(LegacyLogin.username == "compras")
            .values(status=LegacyLoginStatus.CLAIMED)
        )
    report = await import_legacy_logins(database, _lines())
    assert (report.imported, report.updated, report.unchanged_claimed) == (0, 2, 1)


async def test_the_cli_reports_progress_bad_lines_and_a_summary(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    await make_account(database, number="MX-5000")
    await make_account(database, number="AR-5100")
    source = tmp_path / "legacy.jsonl"
    source.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    done = run_cli("legacy", "import", str(source), database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3 imported, 0 updated, 0 already claimed, 5 bad lines skipped"
    assert "line 9: 3 new, 0 updated so far" in done.stderr
    assert "line 5: unknown customer XX-1" in done.stderr
    missing = run_cli("legacy", "import", str(tmp_path / "nope.jsonl"), database_url=database_url)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
