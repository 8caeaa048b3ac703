"""GraphQL over HTTP, checked by the graphql-http server audit (the reference
implementation's own conformance suite, from npm, run with the machine's Node)
against a real server: every MUST and every SHOULD passes."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from tests.test_end_to_end import start_server

AUDIT = Path(__file__).parent / "clients" / "graphql-http-audit"


def _npm_ci() -> None:
    lock = AUDIT / "package-lock.json"
    installed = AUDIT / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed (Node 20 and npm come with the machine)"
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=AUDIT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_must_and_should_of_graphql_over_http_passes(
    database_url: str, tmp_path: Path
) -> None:
    _npm_ci()
    node = shutil.which("node")
    assert node
    env = {"DATABASE_URL": database_url, "MAIL_SENDER": "off"}
    with start_server(env, tmp_path / "server.log") as base:
        result = subprocess.run(
            [node, "audit.mjs", f"{base}/graphql"],
            cwd=AUDIT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    audits = [json.loads(line) for line in result.stdout.splitlines()]
    failing = [
        a for a in audits if a["status"] != "ok" and a["name"].startswith(("MUST", "SHOULD"))
    ]
    assert failing == []
    passed = Counter(a["name"].split()[0] for a in audits if a["status"] == "ok")
    assert (passed["MUST"], passed["SHOULD"]) == (13, 23)
