"""The sandbox checkout page in a real browser: headless Chromium (Debian's
/usr/bin/chromium, which .ci/run installs) driven by Playwright, against a real
`clientzone serve`, returning to a stand-in portal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from clientzone.db import Database
from clientzone.models.ledger import MovementKind, post_movement
from clientzone.models.memberships import Permission, Role
from tests.helpers import (
    gid,
    issue_token,
    make_account,
    make_invoice,
    make_membership,
    make_user,
)
from tests.test_end_to_end import free_port, start_server

CHROMIUM = "/usr/bin/chromium"
# No network here but the loopback: nothing in the background may try to go out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

START = """
mutation($input: StartPaymentInput!) {
  startPayment(input: $input) {
    payment { id status amount { amount currency } } redirectUrl userErrors { code }
  }
}
"""
SETTLED = """
query($payment: ID!) {
  node(id: $payment) { ... on Payment { status amount { amount } } }
  account { balance { amount } invoices { nodes { number status amountPaid { amount } } } }
}
"""


class Portal:
    """A stand-in portal front end on the loopback: any GET gets a small page."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                body = b"<!doctype html><title>Portal</title><h1>Portal</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def stand_in_portal() -> Iterator[Portal]:
    portal = Portal()
    thread = threading.Thread(target=portal.server.serve_forever, daemon=True)
    thread.start()
    yield portal
    portal.server.shutdown()
    portal.server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def checkout_server(
    database: Database,
    database_url: str,
    stand_in_portal: Portal,
    tmp_path: Path,
) -> Iterator[str]:
    """`clientzone serve` on the test database, with online payment allowed and
    PUBLIC_BASE_URL naming its own port, so redirectUrl is a real address."""
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_URL": stand_in_portal.url,
        "PAYMENT_ONLINE_LIMITS": "MXN:10000",
    }
    with start_server(env, tmp_path / "server.log", port=port) as base:
        yield base


async def test_paying_an_invoice_on_the_sandbox_page_in_a_browser(
    checkout_server: str, stand_in_portal: Portal, database: Database, tmp_path: Path
) -> None:
    user = await make_user(database)
    account = await make_account(database)
    await make_membership(
        database, user, account, Role.MEMBER, [Permission.INVOICES_VIEW, Permission.INVOICES_PAY]
    )
    # 1,000.00 MXN plus 16%
    invoice = await make_invoice(
        database,
        account,
        "F-1",
        issued_on=datetime.now(UTC).date(),
        lines=[("Material", 1000, 100_000, 1600)],
    )
    async with database.transaction() as session:
        await post_movement(
            session,
            account_id=account.id,
            kind=MovementKind.INVOICE,
            amount_minor=invoice.total_minor,
            currency="MXN",
            reference=invoice.number,
        )
    token = await issue_token(database, user)

    async with httpx.AsyncClient(
        base_url=checkout_server, headers={"Authorization": f"Bearer {token}"}
    ) as http:

        async def graphql(document: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": document, "variables": variables})
            assert response.status_code == 200, response.text
            body = response.json()
            assert "errors" not in body, body["errors"]
            data: dict[str, Any] = body["data"]
            return data

        chosen = {"input": {"invoiceIds": [gid("Invoice", invoice.id)]}}
        started = (await graphql(START, chosen))["startPayment"]
        assert started["userErrors"] == []
        payment = started["payment"]
        assert payment["status"] == "PENDING"
        assert payment["amount"] == {"amount": "1160.00", "currency": "MXN"}
        redirect_url = started["redirectUrl"]
        assert redirect_url.startswith(f"{checkout_server}/payments/sandbox/")

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch_persistent_context(
                tmp_path / "chromium-profile",
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
                headless=True,
            )
            try:
                browser.set_default_timeout(10_000)
                page = await browser.new_page()
                opened = await page.goto(redirect_url)
                assert opened is not None
                assert opened.status == 200
                await expect(page).to_have_title("Sandbox checkout")
                await expect(page.get_by_text("SANDBOX", exact=True)).to_be_visible()
                await expect(page.get_by_text("no money moves")).to_be_visible()
                await expect(page.get_by_role("heading", level=1)).to_have_text("1,160.00 MXN")

                await page.get_by_role("button", name="Aprobar / Approve").click()

                returned = f"{stand_in_portal.url}/payments/{payment['id']}?status=approved"
                await page.wait_for_url(returned)
                assert page.url == returned
                await expect(page.get_by_role("heading", level=1)).to_have_text("Portal")
            finally:
                await browser.close()
        assert f"/payments/{payment['id']}?status=approved" in stand_in_portal.paths

        settled = await graphql(SETTLED, {"payment": payment["id"]})
    assert settled["node"] == {"status": "SUCCEEDED", "amount": {"amount": "1160.00"}}
    assert settled["account"] == {
        "balance": {"amount": "0.00"},
        "invoices": {
            "nodes": [{"number": "F-1", "status": "PAID", "amountPaid": {"amount": "1160.00"}}]
        },
    }
