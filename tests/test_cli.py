"""The clientzone command: demo data, schema export, tokens."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from clientzone.demo.data import monthly_total
from clientzone.schema import build_schema
from tests.helpers import GraphQLClient, http_client, login
from tests.smtp_server import free_port


def run_cli(
    *args: str, database_url: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "clientzone", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=120,
    )


async def test_demo_loads_once_and_its_logins_work(database_url: str, app: object) -> None:
    first = run_cli("demo", "--no-serve", database_url=database_url)
    second = run_cli("demo", "--no-serve", database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    added = int(re.search(r"\((\d+) rows added\)", first.stdout).group(1))  # type: ignore[union-attr]
    assert added >= 10
    assert "(0 rows added)" in second.stdout
    assert "ana.garcia@example.com" in second.stdout
    assert "demo-clientzone-2026" in second.stdout
    tokens = re.findall(r"Bearer (\S+)", second.stdout)
    async with http_client(app) as http:  # type: ignore[arg-type]
        ana = GraphQLClient(http, tokens[0])
        data = await ana.data(
            "{ viewer { user { email } memberships { totalCount nodes { inherited "
            "account { number currency parent { number } emails { totalCount } } } } } }"
        )
        stale = GraphQLClient(http, re.findall(r"Bearer (\S+)", first.stdout)[0])
        assert await stale.data("{ viewer { user { email } } }") == {"viewer": None}
    assert data["viewer"]["user"]["email"] == "ana.garcia@example.com"
    memberships = data["viewer"]["memberships"]["nodes"]
    assert {m["account"]["currency"] for m in memberships} == {"MXN", "ARS"}
    assert sum(m["inherited"] for m in memberships) == 2
    emails = {m["account"]["number"]: m["account"]["emails"]["totalCount"] for m in memberships}
    assert emails["MX-100200"] == 3


def test_export_schema_prints_the_sdl(database_url: str, tmp_path: Path) -> None:
    printed = run_cli("export-schema", database_url=database_url)
    written = run_cli("export-schema", "-o", str(tmp_path / "s.graphql"), database_url=database_url)
    assert printed.returncode == written.returncode == 0
    assert printed.stdout == build_schema().as_str() + "\n"
    assert (tmp_path / "s.graphql").read_text() == printed.stdout


async def test_token_issue_gives_a_working_bearer_token(database_url: str, app: object) -> None:
    from tests.helpers import make_user

    database = app.state.database  # type: ignore[attr-defined]
    await make_user(database, "partner@example.com")
    issued = run_cli(
        "token", "issue", "Partner@Example.com", "--days", "7", database_url=database_url
    )
    unknown = run_cli("token", "issue", "nobody@example.com", database_url=database_url)
    assert issued.returncode == 0, issued.stderr
    assert unknown.returncode == 1
    assert "no user" in unknown.stderr
    async with http_client(app) as http:  # type: ignore[arg-type]
        partner = GraphQLClient(http, issued.stdout.strip())
        data = await partner.data("{ viewer { user { email } } }")
    assert data["viewer"]["user"]["email"] == "partner@example.com"


def test_python_dash_m_shows_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clientzone", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("serve", "migrate", "demo", "export-schema", "token"):
        assert command in result.stdout


async def test_mail_list_and_show_print_the_outbox(database_url: str, app: object) -> None:
    from clientzone.mailers.outbox import notify_user
    from tests.helpers import make_user

    database = app.state.database  # type: ignore[attr-defined]
    settings = app.state.settings  # type: ignore[attr-defined]
    user = await make_user(database, "ana@example.com", first_name="Ana")
    async with database.session() as session, session.begin():
        message = await notify_user(
            session, settings, user=user, template="personal_details_changed", changed=["locale"]
        )
    listed = run_cli("mail", "list", "--status", "queued", database_url=database_url)
    shown = run_cli("mail", "show", str(message.id), database_url=database_url)
    missing = run_cli(
        "mail", "show", "00000000-0000-0000-0000-000000000000", database_url=database_url
    )
    assert listed.returncode == shown.returncode == 0, listed.stderr + shown.stderr
    assert str(message.id) in listed.stdout
    assert "QUEUED" in listed.stdout
    assert "to ana@example.com" in listed.stdout
    assert "Subject:    Tus datos personales han cambiado" in shown.stdout
    assert "- Idioma" in shown.stdout
    assert missing.returncode == 1


async def test_the_demo_logins_sign_in_and_claim_the_demo_legacy_login(
    database_url: str, app: object
) -> None:
    loaded = run_cli("demo", "--no-serve", database_url=database_url)
    assert loaded.returncode == 0, loaded.stderr
    assert "customer MX-100300, user compras, password legado-2026" in loaded.stdout
    async with http_client(app) as http:  # type: ignore[arg-type]
        ana = GraphQLClient(http)
        signed_in = await login(ana, "ana.garcia@example.com", "demo-clientzone-2026")
        assert signed_in.json()["data"]["login"]["user"] == {"email": "ana.garcia@example.com"}
        claim = await ana.data(
            'mutation { claimLegacyAccount(input: {customerNumber: "MX-100300", '
            'username: "compras", password: "legado-2026"}) '
            "{ account { number } userErrors { code } } }"
        )
        assert claim["claimLegacyAccount"] == {"account": {"number": "MX-100300"}, "userErrors": []}
        money = await ana.data(
            "{ viewer { memberships { nodes { account { number balance { amount currency } "
            "consolidatedBalance { amount currency } ledger(last: 2) { totalCount "
            "nodes { kind reference balance { amount } } } } } } } }"
        )
        accounts = {
            m["account"]["number"]: m["account"] for m in money["viewer"]["memberships"]["nodes"]
        }
        parent = accounts["MX-100200"]
        # 24 monthly invoices, the last two unpaid.
        owed = {n: monthly_total(n, 22) + monthly_total(n, 23) for n in ("MX-100200", "MX-100201")}
        assert parent["balance"] == {"amount": f"{owed['MX-100200'] / 100:.2f}", "currency": "MXN"}
        consolidated = f"{(owed['MX-100200'] + owed['MX-100201']) / 100:.2f}"
        assert parent["consolidatedBalance"] == [{"amount": consolidated, "currency": "MXN"}]
        assert parent["ledger"]["totalCount"] == 46
        assert [n["kind"] for n in parent["ledger"]["nodes"]] == ["INVOICE", "INVOICE"]
        assert parent["ledger"]["nodes"][-1]["balance"] == {"amount": parent["balance"]["amount"]}
        pending = await ana.data(
            "{ account(id: null) { number } viewer { memberships { nodes { role account { number "
            "invitations { nodes { email status } } } } } } }"
        )
    by_number = {m["account"]["number"]: m for m in pending["viewer"]["memberships"]["nodes"]}
    assert by_number["MX-100300"]["role"] == "OWNER"
    assert by_number["MX-100200"]["account"]["invitations"]["nodes"] == [
        {"email": "nuevo.comprador@example.com", "status": "PENDING"}
    ]


async def test_account_link_puts_an_account_under_a_parent(
    database_url: str, database: object, app: object
) -> None:
    from tests.helpers import issue_token, make_account, make_membership, make_user

    owner = await make_user(database, "owner@example.com")  # type: ignore[arg-type]
    parent = await make_account(database, number="MX-6000")  # type: ignore[arg-type]
    await make_account(database, number="MX-6001")  # type: ignore[arg-type]
    await make_membership(database, owner, parent)  # type: ignore[arg-type]
    linked = run_cli("account", "link", "MX-6001", "--parent", "MX-6000", database_url=database_url)
    assert linked.returncode == 0, linked.stderr
    assert linked.stdout.strip() == "MX-6001 is now under MX-6000"
    nested = run_cli("account", "link", "MX-6000", "--parent", "MX-6001", database_url=database_url)
    assert nested.returncode == 1
    assert "one level deep" in nested.stderr
    unknown = run_cli(
        "account", "link", "MX-0000", "--parent", "MX-6000", database_url=database_url
    )
    assert unknown.returncode == 1
    assert "no account MX-0000" in unknown.stderr
    token = await issue_token(database, owner)  # type: ignore[arg-type]
    async with http_client(app) as http:  # type: ignore[arg-type]
        data = await GraphQLClient(http, token).data(
            "{ viewer { memberships { nodes { inherited account { number } } } } }"
        )
    assert data["viewer"]["memberships"]["nodes"] == [
        {"inherited": False, "account": {"number": "MX-6000"}},
        {"inherited": True, "account": {"number": "MX-6001"}},
    ]


async def test_the_demos_unpaid_invoices_are_from_the_last_two_months(
    database_url: str, app: object
) -> None:
    from datetime import UTC, date, datetime, timedelta

    loaded = run_cli("demo", "--no-serve", database_url=database_url)
    assert loaded.returncode == 0, loaded.stderr
    async with http_client(app) as http:  # type: ignore[arg-type]
        ana = GraphQLClient(http)
        await login(ana, "ana.garcia@example.com", "demo-clientzone-2026")
        mx = await ana.data("{ viewer { memberships { nodes { account { id number } } } } }")
        account = next(
            m["account"]["id"]
            for m in mx["viewer"]["memberships"]["nodes"]
            if m["account"]["number"] == "MX-100200"
        )
        invoices = await ana.data(
            "query($id: ID) { account(id: $id) { invoices(first: 3) "
            "{ nodes { number status issuedOn dueOn } } } }",
            {"id": account},
        )
    today = datetime.now(UTC).date()
    newest = invoices["account"]["invoices"]["nodes"]
    assert [n["status"] for n in newest] == ["OPEN", "OVERDUE", "PAID"]
    for invoice in newest[:2]:
        assert today - timedelta(days=62) <= date.fromisoformat(invoice["issuedOn"]) <= today
    assert date.fromisoformat(newest[1]["dueOn"]) < today <= date.fromisoformat(newest[0]["dueOn"])


def test_the_demos_links_follow_its_port_unless_public_base_url_is_set(
    database_url: str,
    app: object,  # its database fixture empties the tables the demo fills
) -> None:
    from clientzone.cli import demo_public_url
    from clientzone.config import Settings

    moved = run_cli("demo", "--no-serve", "--port", "8123", database_url=database_url)
    assert moved.returncode == 0, moved.stderr
    assert "explorer: http://127.0.0.1:8123/graphql" in moved.stdout
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert demo_public_url(default, "0.0.0.0", 9000) == "http://127.0.0.1:9000"  # noqa: S104
    chosen = Settings(  # type: ignore[call-arg]
        _env_file=None, public_base_url="https://demo.example.com", secret_key="k" * 40
    )
    assert demo_public_url(chosen, "127.0.0.1", 9000) == "https://demo.example.com"


def test_the_demo_says_whether_sign_up_is_open_and_can_be_invitation_only(
    database_url: str,
    app: object,  # its database fixture empties the tables the demo fills
    tmp_path: Path,
) -> None:
    opened = run_cli("demo", "--no-serve", database_url=database_url)
    assert opened.returncode == 0, opened.stderr
    assert "sign-up: OPEN portal (SIGNUP_ENABLED=true)" in opened.stdout
    assert "clientzone demo --invitation-only" in opened.stdout
    closed = run_cli("demo", "--no-serve", "--invitation-only", database_url=database_url)
    assert closed.returncode == 0, closed.stderr
    assert "sign-up: INVITATION-ONLY portal (SIGNUP_ENABLED=false)" in closed.stdout
    assert "without --invitation-only" in closed.stdout
    # The served demo is what it says: signUp is refused.
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "clientzone", "demo", "--invitation-only", "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise AssertionError(log_path.read_text()[-2000:])
            answer = httpx.post(
                f"{base}/graphql",
                json={
                    "query": "mutation($input: SignUpInput!) "
                    "{ signUp(input: $input) { accepted userErrors { code } } }",
                    "variables": {
                        "input": {
                            "email": "nueva@example.com",
                            "password": "tortuga-naranja-bicicleta-47",
                            "firstName": "Nueva",
                            "lastName": "Persona",
                        }
                    },
                },
                headers={"Accept-Language": "en"},
                timeout=10,
            ).json()
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert answer["data"]["signUp"] == {
        "accepted": False,
        "userErrors": [{"code": "SIGNUP_DISABLED"}],
    }
