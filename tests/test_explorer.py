"""The explorer page on GET /graphql: self-hosted, strict CSP, branded, es/en,
off in production unless GRAPHIQL=true and then for signed-in sessions only.
(In a real browser: test_explorer_browser.py.)"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from clientzone.app import create_app
from clientzone.config import Environment, MailSender, Settings
from clientzone.db import Database
from clientzone.demo.data import DEMO_PASSWORD, load_demo_data
from clientzone.web.explorer import ASSETS
from tests.helpers import PASSWORD, GraphQLClient, http_client, login, make_user

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SELF_ONLY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def config_of(page: httpx.Response) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="explorer-config">(.*?)</script>', page.text, re.S
    )
    assert match is not None, page.text
    config: dict[str, Any] = json.loads(match.group(1))
    return config


async def open_page(
    settings: Settings, database: Database, headers: dict[str, str] | None = None
) -> httpx.Response:
    application = create_app(settings, database)
    try:
        async with http_client(application) as client:
            return await client.get("/graphql", headers={**BROWSER, **(headers or {})})
    finally:
        await application.state.close_clients()


async def test_the_page_needs_nothing_from_another_host_and_runs_no_inline_script(
    settings: Settings, database: Database
) -> None:
    page = await open_page(settings, database)
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == SELF_ONLY
    assert page.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert len(scripts) == 2
    assert re.fullmatch(r' src="/explorer/explorer\.js\?v=[0-9a-f]{12}" defer', scripts[0])
    assert scripts[1] == ' type="application/json" id="explorer-config"'
    assert not re.search(r"https?://", page.text)
    assert "style=" not in page.text


async def test_the_bundle_is_served_from_the_package_and_points_nowhere_else(
    anonymous: GraphQLClient,
) -> None:
    for name in ("explorer.js", "explorer.css"):
        response = await anonymous.http.get(f"/explorer/{name}")
        assert response.status_code == 200
        assert response.content == (ASSETS / name).read_bytes()
    css = (ASSETS / "explorer.css").read_text()
    urls = set(re.findall(r"url\(([^)]*)\)", css))
    assert urls
    assert all(url.startswith("files/") for url in urls), urls
    font = (await anonymous.http.get(f"/explorer/{sorted(urls)[0]}")).status_code
    assert font == 200
    licences = (ASSETS / "THIRD_PARTY_LICENSES.txt").read_text()
    assert "graphiql@" in licences
    assert "react@" in licences


async def test_the_page_carries_the_company_name_and_speaks_the_browsers_language(
    settings: Settings, database: Database
) -> None:
    branded = settings.model_copy(update={"company_name": "Ferretería </script><b>"})
    spanish = await open_page(branded, database, {"Accept-Language": "es-MX,es;q=0.9"})
    english = await open_page(branded, database, {"Accept-Language": "en-US,en;q=0.8"})
    assert "<title>Ferretería &lt;/script&gt;&lt;b&gt; · Explorador GraphQL</title>" in spanish.text
    assert config_of(spanish)["company"] == "Ferretería </script><b>"
    assert spanish.text.count("</script>") == 2
    assert config_of(spanish)["text"]["signInTitle"] == "Cómo entrar"
    assert config_of(english)["text"]["signInTitle"] == "How to sign in"
    assert english.headers["content-language"] == "en"


async def test_the_example_tabs_name_demo_objects_by_their_real_ids(
    settings: Settings, database: Database
) -> None:
    await load_demo_data(database, settings)
    tabs = config_of(await open_page(settings, database))["examples"]
    names = [re.search(r"^(?:query|mutation) (\w+)", t["query"], re.M).group(1) for t in tabs]  # type: ignore[union-attr]
    assert names == [
        "SignIn",
        "FirstScreen",
        "SwitchAccount",
        "Ledger",
        "Invoices",
        "Pay",
        "Contacts",
        "Invite",
        "Cases",
    ]
    assert tabs[0]["variables"]["input"]["password"] == DEMO_PASSWORD
    switch = tabs[2]["variables"]["input"]["accountId"]
    pay = tabs[5]["variables"]["input"]["invoiceIds"]
    assert not switch.startswith("<")
    assert all(not invoice.startswith("<") for invoice in pay)


async def test_without_the_demo_the_tabs_keep_their_placeholders(
    settings: Settings, database: Database
) -> None:
    tabs = config_of(await open_page(settings, database))["examples"]
    assert tabs[2]["variables"]["input"]["accountId"] == "<ID of account MX-100200>"


async def test_the_explorer_can_be_turned_off(settings: Settings, database: Database) -> None:
    off = await open_page(settings.model_copy(update={"graphiql": False}), database)
    assert off.status_code == 404


@pytest.fixture
def production(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "environment": Environment.PRODUCTION,
            "secret_key": "s" * 40,
            "mail_sender": MailSender.OFF,
        }
    )


async def test_production_has_no_explorer_unless_asked(
    production: Settings, database: Database
) -> None:
    page = await open_page(production, database)
    assert page.status_code == 404


async def test_in_production_only_signed_in_sessions_get_the_explorer(
    production: Settings, database: Database
) -> None:
    # given GRAPHIQL=true in production
    opened = production.model_copy(update={"graphiql": True, "session_cookie_secure": False})
    await make_user(database, "ana@example.com", password=PASSWORD)
    # when nobody is signed in: a sign-in form, without the examples
    anonymous = config_of(await open_page(opened, database))
    assert anonymous["mode"] == "sign-in"
    assert anonymous["examples"] == []
    # when signed in with the session cookie: the explorer, without the demo password
    application = create_app(opened, database)
    try:
        async with http_client(application) as client:
            signed_in = await login(GraphQLClient(client), "ana@example.com")
            assert signed_in.json()["data"]["login"]["userErrors"] == []
            page = await client.get("/graphql", headers=BROWSER)
    finally:
        await application.state.close_clients()
    config = config_of(page)
    assert config["mode"] == "explorer"
    assert config["examples"][0]["variables"]["input"] == {"email": "", "password": ""}


async def test_graphql_gets_still_reach_the_endpoint(anonymous: GraphQLClient) -> None:
    query = await anonymous.http.get(
        "/graphql", params={"query": "{ __typename }"}, headers=BROWSER
    )
    assert query.json()["data"] == {"__typename": "Query"}
    no_query = await anonymous.http.get("/graphql", headers={"Accept": "application/json"})
    assert no_query.status_code == 400


async def test_every_example_tab_runs_on_the_demo(settings: Settings, database: Database) -> None:
    # given: the demo, with online payment offered
    demo = settings.model_copy(update={"payment_online_limits": {"MXN": Decimal(500000)}})
    await load_demo_data(database, demo)
    tabs = config_of(await open_page(demo, database))["examples"]
    application = create_app(demo, database)
    try:
        async with http_client(application) as http:
            browser = GraphQLClient(http)
            for tab in tabs:
                # when: each tab is run as it is, in order (SignIn sets the cookie)
                response = await http.post(
                    "/graphql",
                    json={"query": tab["query"], "variables": tab["variables"]},
                    headers=browser.headers({"X-CSRF-Protection": "1"}),
                )
                body = response.json()
                # then
                assert "errors" not in body, (tab["query"][:60], body)
                payload = next(iter(body["data"].values()))
                assert not (payload or {}).get("userErrors"), (tab["query"][:60], payload)
    finally:
        await application.state.close_clients()
