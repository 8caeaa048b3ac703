"""The TypeScript recipe of docs/clients.md, run for real: GraphQL Code
Generator makes typed documents from schema.graphql and the operations in
tests/clients/typescript/operations, tsc checks a sample front end against
them, and the persisted documents manifest it writes is registered and run by
hash on a server that runs trusted documents only.

Node and npm come from the machine; the packages from the pinned lockfile
(`npm ci`, once, into tests/clients/typescript/node_modules)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from tests.conftest import Portal
from tests.helpers import GraphQLClient, http_client
from tests.test_cli import run_cli

RECIPE = Path(__file__).parent / "clients" / "typescript"


def npm(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    npm_path = shutil.which("npm")
    assert npm_path, "npm is needed (Node 20 and npm come with the machine)"
    return subprocess.run(
        [npm_path, *args], cwd=RECIPE, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def generated() -> Iterator[Path]:
    lock = RECIPE / "package-lock.json"
    installed = RECIPE / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        result = npm("ci", "--no-audit", "--no-fund", "--loglevel=error", timeout=600)
        assert result.returncode == 0, result.stderr
    codegen = npm("run", "--silent", "codegen")
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    return RECIPE / "generated"


def test_the_generated_types_check_a_sample_front_end(generated: Path) -> None:
    checked = npm("run", "--silent", "typecheck")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    types = (generated / "graphql.ts").read_text()
    assert "export type FirstScreenQuery" in types
    assert "export type PayMutationVariables" in types


def test_a_field_the_operation_did_not_ask_for_does_not_compile(
    generated: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.ts"
    wrong.write_text(
        f'import type {{ FirstScreenQuery }} from "{generated}/graphql";\n'
        "export const phone = (data: FirstScreenQuery): string =>\n"
        "  data.viewer?.user.phone ?? '';\n"
    )
    config = tmp_path / "tsconfig.json"
    config.write_text(
        json.dumps({"extends": str(RECIPE / "tsconfig.json"), "include": [str(wrong)]})
    )
    checked = npm("exec", "--", "tsc", "--noEmit", "-p", str(config))
    assert checked.returncode != 0
    assert "Property 'phone' does not exist" in checked.stdout


async def test_the_manifest_registers_and_runs_by_hash_on_a_trusted_server(
    generated: Path, portal: Portal, settings: Settings, database: Database, database_url: str
) -> None:
    manifest = generated / "persisted-documents.json"
    documents: dict[str, str] = json.loads(manifest.read_text())
    registered = run_cli("documents", "register", str(manifest), database_url=database_url)
    assert registered.returncode == 0, registered.stderr
    first_screen = next(h for h, text in documents.items() if "query FirstScreen" in text)
    trusted = create_app(settings.model_copy(update={"trusted_documents": True}), database)
    try:
        async with http_client(trusted) as http:
            client = GraphQLClient(http, portal.owner.token)
            body: dict[str, Any] = {
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": first_screen}}
            }
            answer = (await http.post("/graphql", json=body, headers=client.headers())).json()
    finally:
        await trusted.state.close_clients()
    assert answer["data"]["viewer"]["user"]["email"] == "ana@example.com"
