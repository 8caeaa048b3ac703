"""The production shape, run for real: two `serve` processes (one of them with
two workers) and two `clientzone worker` processes on one PostgreSQL and one
Redis, as docs/deployment.md describes and deploy/compose.yaml starts.

A session made through one server works on the other, a rate limit counted on
one holds on the other, a subscription on one hears a change made through the
other, every email is sent exactly once, and /metrics adds up both workers of
a server. The container files are linted with hadolint.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clientzone.db import Database
from tests.helpers import (
    NEW_USER_FIELDS,
    PASSWORD,
    make_account,
    make_membership,
    make_user,
    open_socket,
)
from tests.smtp_server import SmtpServer, smtp_env
from tests.test_end_to_end import start_server

ROOT = Path(__file__).resolve().parent.parent
WAIT = 15.0
pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="the production shape runs on PostgreSQL (the PostgreSQL pass of make test)",
)


def test_the_container_files_pass_hadolint_and_run_our_commands() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run(
        [hadolint, str(ROOT / "deploy" / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    # The entry commands the test below runs are the ones the stack runs.
    for command in ('["migrate"]', '"serve", "--host"', '"--workers", "2"', '["worker"]'):
        assert command in compose


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shape(database_url: str, smtp: SmtpServer, tmp_path: Path) -> Iterator[list[str]]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_PREFIX": f"deploy-{uuid.uuid4().hex[:8]}:",
        "MAIL_SENDER": "off",
        **smtp_env(smtp.port),
        "MAIL_POLL_SECONDS": "0.3",
        "LOG_FORMAT": "json",
    }
    logs = [(tmp_path / f"worker{i}.log").open("w") for i in (1, 2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "clientzone", "worker"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        with (
            start_server(env, tmp_path / "a.log", extra_args=("--workers", "2")) as a,
            start_server(env, tmp_path / "b.log") as b,
        ):
            yield [a, b]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        for log in logs:
            log.close()


async def _post(server: str, document: str, variables: Any = None, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server, timeout=WAIT) as http:
        response = await http.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
        )
    return response.json()


LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { token userErrors { code } }
}
"""


async def test_two_servers_and_two_workers_behave_as_one_service(
    shape: list[str], database: Database, smtp: SmtpServer
) -> None:
    a, b = shape
    ana = await make_user(database, "ana@example.com", password=PASSWORD)
    account = await make_account(database, number="MX-1")
    await make_membership(database, ana, account)
    # A session made through one server works on the other.
    signed_in = await _post(
        a, LOGIN, {"input": {"email": "ana@example.com", "password": PASSWORD, "issueToken": True}}
    )
    token = signed_in["data"]["login"]["token"]
    elsewhere = await _post(b, "query Me { viewer { user { email } } }", token=token)
    assert elsewhere["data"]["viewer"]["user"]["email"] == "ana@example.com"
    # A rate limit counted on one holds on the other.
    for _ in range(6):
        await _post(a, LOGIN, {"input": {"email": "ana@example.com", "password": "mal-1234567"}})
    blocked = await _post(b, LOGIN, {"input": {"email": "ana@example.com", "password": PASSWORD}})
    assert blocked["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # A subscription on one hears a change made through the other.
    categories = await _post(
        a, "query C { caseCategories { id subcategories { id } } }", token=token
    )
    category = categories["data"]["caseCategories"][0]
    created = await _post(
        a,
        "mutation New($input: CreateCaseInput!) { createCase(input: $input) { case { id } } }",
        {
            "input": {
                "categoryId": category["id"],
                "subcategoryId": category["subcategories"][0]["id"],
                "subject": "Factura duplicada",
                "description": "Llegó dos veces",
                "fields": NEW_USER_FIELDS,  # the first subcategory: DATABASE_UPDATE
            }
        },
        token=token,
    )
    case_id = created["data"]["createCase"]["case"]["id"]
    socket = await open_socket(b, token)
    subscription = "subscription S($id: ID!) { caseUpdated(caseId: $id) { kind } }"
    await socket.send(
        json.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": subscription, "variables": {"id": case_id}},
            }
        )
    )
    await asyncio.sleep(0.5)
    await _post(
        a,
        "mutation Say($input: AddCaseCommentInput!) "
        "{ addCaseComment(input: $input) { userErrors { code } } }",
        {"input": {"caseId": case_id, "body": "Adjunto el comprobante"}},
        token=token,
    )
    async with asyncio.timeout(WAIT):
        heard = json.loads(await socket.recv())
    await socket.close()
    assert heard["payload"]["data"]["caseUpdated"]["kind"] == "COMMENT_ADDED"
    # Every email is sent once by the two workers.
    for i in range(8):
        await make_user(database, f"persona{i}@example.com", password=PASSWORD)
        await _post(
            a if i % 2 else b,
            "mutation R($l: String!) { requestPasswordReset(input: {login: $l}) { accepted } }",
            {"l": f"persona{i}@example.com"},
        )

    def resets() -> list[Any]:
        return [m for m in smtp.received if m.recipients[0].startswith("persona")]

    async with asyncio.timeout(WAIT):
        while len({m.recipients[0] for m in resets()}) < 8:  # noqa: ASYNC110 (sink thread)
            await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # a second copy would have arrived by now
    assert len(resets()) == 8
    assert len({m.message["Message-ID"] for m in resets()}) == 8
    # /metrics of the server with two workers adds both up.
    for _ in range(10):
        await _post(a, "query Ping { __typename }")
    async with httpx.AsyncClient(base_url=a) as http:
        scraped = (await http.get("/metrics")).text
    served = sum(
        float(line.rsplit(" ", 1)[1])
        for line in scraped.splitlines()
        if line.startswith('clientzone_graphql_requests_total{operation="Ping"')
    )
    assert served == 10
