"""Input that no database can store or no computation can handle is refused as
BAD_USER_INPUT (or a userError), never INTERNAL: forged cursors, NUL bytes and
lone surrogates, non-finite and huge decimals, far dates and times."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import Portal
from tests.helpers import gid

LEDGER = """
query Ledger($id: ID, $after: String) {
  account(id: $id) { ledger(first: 5, after: $after) { nodes { reference } } }
}
"""
INVOICES = """
query Invoices($filter: InvoiceFilterInput) {
  account { invoices(first: 5, filter: $filter) { nodes { number } } }
}
"""
STATEMENT = """
query Statement($from: Date!, $to: Date!) {
  account { statement(from: $from, to: $to) { closingBalance { amount } } }
}
"""
ACTIVITY = """
query Activity($filter: ActivityFilterInput) {
  account { activity(filter: $filter) { nodes { action } } }
}
"""
EMAILS = """
query Emails($filter: EmailFilterInput) { account { emails(filter: $filter) { nodes { id } } } }
"""
LOGIN = """
mutation Login($input: LoginInput!) { login(input: $input) { user { email } userErrors { code } } }
"""
RESET = """
mutation Reset($login: String!) {
  requestPasswordReset(input: {login: $login}) { accepted userErrors { code } }
}
"""
RENAME = """
mutation Rename($name: String) {
  updatePersonalDetails(input: {firstName: $name}) { user { firstName } userErrors { code } }
}
"""


def _cursor(raw: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).rstrip(b"=").decode()


async def _codes(portal: Portal, document: str, variables: dict[str, Any]) -> list[str]:
    body = await portal.owner.execute(document, variables)
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor([{"u": 1}]),
        _cursor([{"u": ["x"]}]),
        _cursor([{"t": 5}]),
        _cursor([{"d": "2026-13-45"}]),
        _cursor([2**70]),
        _cursor([-(2**64)]),
        _cursor([1.5]),
        base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
        _cursor([[[[[[1]]]]]]),
        _cursor({"u": "0" * 32}),
        "%%%",
        "",
    ],
)
async def test_a_forged_cursor_is_bad_user_input(portal: Portal, cursor: str) -> None:
    variables = {"id": gid("Account", portal.parent.id), "after": cursor}
    assert await _codes(portal, LEDGER, variables) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("text", ["nul\x00byte", "lone \ud800 surrogate", "\udfff", "ok\x00"])
async def test_unstorable_text_is_refused_before_anything_runs(portal: Portal, text: str) -> None:
    # In variables (JSON escapes reach the server as such)...
    for document, variables in (
        (LOGIN, {"input": {"email": text, "password": text}}),
        (RESET, {"login": text}),
        (RENAME, {"name": text}),
        (INVOICES, {"filter": {"number": text}}),
    ):
        response = await portal.owner.http.post(
            "/graphql",
            content=json.dumps({"query": document, "variables": variables}).encode(),
            headers={**portal.owner.headers(), "Content-Type": "application/json"},
        )
        assert response.status_code in (200, 400), response.text
        codes = [e["extensions"]["code"] for e in response.json()["errors"]]
        assert codes == ["BAD_USER_INPUT"], (document, response.text)
    # ...and written into the document itself.
    literal = json.dumps(text)
    document = (
        f"mutation Rename {{ updatePersonalDetails(input: {{firstName: {literal}}}) "
        "{ userErrors { code } } }"
    )
    assert await _codes(portal, document, {}) == ["BAD_USER_INPUT"]
    after = await portal.owner.data("query Me { viewer { user { firstName } } }")
    assert after["viewer"]["user"]["firstName"] == "Ana"


@pytest.mark.parametrize(
    "amount", ["NaN", "Infinity", "-Infinity", "sNaN", "1e26", "1e400", 1e300, "12.3456789", "x"]
)
async def test_decimals_beyond_what_money_can_hold_are_bad_user_input(
    portal: Portal, amount: Any
) -> None:
    codes = await _codes(portal, INVOICES, {"filter": {"minTotal": amount}})
    assert codes == ["BAD_USER_INPUT"]
    literal = (
        f'{{ account {{ invoices(filter: {{maxTotal: "{amount}"}}) {{ nodes {{ number }} }} }} }}'
    )
    assert await _codes(portal, literal, {}) == ["BAD_USER_INPUT"]


async def test_a_large_but_storable_amount_is_a_plain_filter(portal: Portal) -> None:
    data = await portal.owner.data(INVOICES, {"filter": {"minTotal": "999999999999999.99"}})
    assert data["account"]["invoices"]["nodes"] == []


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (STATEMENT, {"from": "2026-01-01", "to": "9999-12-31"}),
        (STATEMENT, {"from": "0001-01-01", "to": "2026-01-01"}),
        (ACTIVITY, {"filter": {"from": "9999-12-31T23:59:59-14:00"}}),
        (ACTIVITY, {"filter": {"to": "0001-01-01T00:00:00+14:00"}}),
        (EMAILS, {"filter": {"sentFrom": "9999-12-31T23:59:59-14:00"}}),
        (EMAILS, {"filter": {"sentTo": "not a time"}}),
        (INVOICES, {"filter": {"issuedFrom": "2026-02-30"}}),
    ],
)
async def test_far_or_impossible_dates_are_bad_user_input(
    portal: Portal, document: str, variables: dict[str, Any]
) -> None:
    assert await _codes(portal, document, variables) == ["BAD_USER_INPUT"]


async def test_dates_at_the_edges_of_the_range_work(portal: Portal) -> None:
    data = await portal.owner.data(STATEMENT, {"from": "2199-01-01", "to": "2199-12-31"})
    assert data["account"]["statement"]["closingBalance"]["amount"] == "0.00"
    data = await portal.owner.data(ACTIVITY, {"filter": {"to": "2199-12-31T23:59:59-14:00"}})
    assert data["account"]["activity"]["nodes"] is not None
