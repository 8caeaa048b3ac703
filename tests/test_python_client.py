"""The Python recipe of docs/clients.md, run for real: ariadne-codegen makes a
typed client package from schema.graphql and tests/clients/python/queries.graphql,
mypy --strict accepts a partner's job written against it (partner_sync.py),
and the job runs against a real `clientzone serve`.

ariadne-codegen needs an older graphql-core than the service, so it lives in a
virtual environment of its own (tests/clients/python/.codegen-venv, made once
from requirements.txt); the generated client needs only httpx and pydantic."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from clientzone.db import Database
from clientzone.models.ledger import MovementKind, post_movement
from clientzone.models.memberships import Permission, Role
from tests.helpers import issue_token, make_account, make_invoice, make_membership, make_user
from tests.test_end_to_end import start_server

RECIPE = Path(__file__).parent / "clients" / "python"
ROOT = Path(__file__).parent.parent
TOOL_VENV = RECIPE / ".codegen-venv"


def _codegen_tool() -> Path:
    requirements = RECIPE / "requirements.txt"
    marker = TOOL_VENV / ".installed"
    if not marker.exists() or marker.stat().st_mtime < requirements.stat().st_mtime:
        shutil.rmtree(TOOL_VENV, ignore_errors=True)
        venv.create(TOOL_VENV, with_pip=True)
        installed = subprocess.run(
            [
                str(TOOL_VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(requirements),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert installed.returncode == 0, installed.stderr
        marker.touch()
    return TOOL_VENV / "bin" / "ariadne-codegen"


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("python-client")
    config = (RECIPE / "codegen.toml").read_text()
    config = config.replace('"../../../schema.graphql"', f'"{ROOT / "schema.graphql"}"')
    config = config.replace('"queries.graphql"', f'"{RECIPE / "queries.graphql"}"')
    (out / "codegen.toml").write_text(config)
    result = subprocess.run(
        [str(_codegen_tool()), "--config", "codegen.toml", "client"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "clientzone_client" / "client.py").exists()
    (out / "clientzone_client" / "py.typed").touch()
    sys.path[:0] = [str(out), str(RECIPE)]
    try:
        yield out
    finally:
        sys.path.remove(str(out))
        sys.path.remove(str(RECIPE))
        for name in [m for m in sys.modules if m.startswith(("clientzone_client", "partner_sync"))]:
            del sys.modules[name]


def test_the_partners_job_type_checks_against_the_generated_client(
    generated_client: Path,
) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "partner_sync.py"],
        cwd=RECIPE,
        # On PYTHONPATH the generated package is checked as an installed library.
        env={**os.environ, "PYTHONPATH": str(generated_client)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with start_server({"DATABASE_URL": database_url}, tmp_path / "server.log") as base:
        yield base


async def test_the_generated_client_runs_against_a_real_server(
    generated_client: Path, server: str, database: Database
) -> None:
    # given: a partner integration's user in two accounts, one with an overdue invoice
    user = await make_user(database, "integraciones@example.com")
    owing = await make_account(database, number="MX-7000", name="Ferretería Norte")
    clear = await make_account(database, number="MX-7001", name="Ferretería Sur")
    await make_membership(database, user, owing)
    await make_membership(
        database, user, clear, Role.MEMBER, [Permission.INVOICES_VIEW, Permission.CONTACTS_MANAGE]
    )
    from datetime import UTC, datetime, timedelta

    issued = datetime.now(UTC).date() - timedelta(days=60)
    invoice = await make_invoice(
        database, owing, "F-1", issued_on=issued, lines=[("Material", 1000, 10_000, 1600)]
    )
    async with database.transaction() as session:
        await post_movement(
            session,
            account_id=owing.id,
            kind=MovementKind.INVOICE,
            amount_minor=invoice.total_minor,
            currency="MXN",
            reference=invoice.number,
        )
    token = await issue_token(database, user)
    client_module = importlib.import_module("clientzone_client")
    job = importlib.import_module("partner_sync")
    # when
    client = client_module.Client(
        url=f"{server}/graphql", headers={"Authorization": f"Bearer {token}"}
    )
    async with client:
        owed = await job.overdue_by_account(client)
        categories = await job.add_billing_contact(client, "cuentas@norte.example.com")
        repeated = await job.add_billing_contact(client, "cuentas@norte.example.com")
    # then
    assert owed == {"MX-7000": Decimal("116.00"), "MX-7001": Decimal(0)}
    assert categories == ["INVOICES"]
    assert repeated == ["EMAIL_TAKEN"]
