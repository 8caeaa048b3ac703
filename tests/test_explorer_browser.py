"""The explorer in a real browser (Debian's Chromium, driven by Playwright)
against a real `clientzone serve` on the demo data: every request stays on
127.0.0.1, the page keeps to its 'self'-only CSP, signing in and running a
query work, and neither the address bar nor localStorage ever holds a query,
its variables or a header."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Route, async_playwright, expect

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.demo.data import load_demo_data
from tests.test_end_to_end import start_server
from tests.test_sandbox_checkout_browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def explorer_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with start_server({"DATABASE_URL": database_url}, tmp_path / "server.log") as base:
        yield base


async def storage_keys(page: Page, storage: str) -> dict[str, str]:
    entries: dict[str, str] = await page.evaluate(
        f"() => Object.fromEntries(Object.entries(window.{storage}))"
    )
    return entries


async def run_tab(page: Page, name: str) -> None:
    await page.get_by_role("tab", name=name).click()
    await expect(page.locator(".graphiql-query-editor")).to_contain_text(f" {name}")
    await page.locator(".graphiql-execute-button").click()


async def test_signing_in_and_querying_in_the_explorer_stays_on_the_loopback(
    explorer_server: str, database: Database, settings: Settings, tmp_path: Path
) -> None:
    await load_demo_data(database, settings)
    requested: list[str] = []
    refused: list[str] = []
    problems: list[str] = []

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        requested.append(url)
        if urlsplit(url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            refused.append(url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            locale="en-US",
        )
        try:
            browser.set_default_timeout(15_000)
            await browser.route("**/*", only_loopback)
            page = await browser.new_page()
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" and "favicon" not in m.text and "404" not in m.text
                    else None
                ),
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            explorer_url = f"{explorer_server}/graphql"
            opened = await page.goto(explorer_url)
            assert opened is not None
            assert opened.status == 200
            await expect(page).to_have_title("clientzone · GraphQL explorer")
            # the sign-in panel, behind the key in the sidebar
            await page.get_by_role("button", name="Show How to sign in").click()
            await expect(page.get_by_role("heading", name="How to sign in")).to_be_visible()

            # sign in with the ready SignIn tab (cookie login)
            await run_tab(page, "SignIn")
            response = page.locator(".result-window")
            await expect(response).to_contain_text('"email": "ana.garcia@example.com"')
            # then the first screen, with the session cookie
            await run_tab(page, "FirstScreen")
            await expect(response).to_contain_text('"activeAccount": {')
            await expect(response).to_contain_text('"INVOICES_VIEW"')
            assert page.url == explorer_url

            # variables typed in are kept for this browser tab only, a header never
            await page.get_by_role("tab", name="Ledger").click()
            await page.get_by_role("button", name="Variables").click()
            await page.locator(".graphiql-editor-tool .CodeMirror").first.click()
            await page.keyboard.type('{"last": 3, "memo": "typed-secret-123"}')
            await page.get_by_role("button", name="Headers").click()
            await page.locator(".graphiql-editor-tool .CodeMirror").last.click()
            await page.keyboard.type('{"X-Request-Id": "secret-header-value"}')
            await run_tab(page, "Ledger")
            await expect(response).to_contain_text('"balance"')
            assert page.url == explorer_url
            local = await storage_keys(page, "localStorage")
            session = await storage_keys(page, "sessionStorage")
            assert not [key for key in local if key.startswith("graphiql")], local
            assert "typed-secret-123" in "".join(session.values())
            assert "secret-header-value" not in "".join(session.values())

            # signing out wipes what the tabs kept
            async with page.expect_navigation():
                await page.get_by_role("button", name="Sign out and wipe").click()
            await expect(page.get_by_role("tab", name="FirstScreen")).to_be_visible()
            session = await storage_keys(page, "sessionStorage")
            assert "typed-secret-123" not in "".join(session.values())
            await run_tab(page, "FirstScreen")
            await expect(response).to_contain_text('"viewer": null')
            assert page.url == explorer_url
        finally:
            await browser.close()

    assert refused == []
    assert requested
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in requested)
    assert problems == []
