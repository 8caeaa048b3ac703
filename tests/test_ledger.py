"""The current account: stored running balances, pages both ways, balances."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.ledger import CurrencyMismatch, MovementKind, post_movement
from tests.conftest import Portal
from tests.helpers import gid, make_account

LEDGER = """
query($id: ID, $first: Int, $after: String, $last: Int, $before: String) {
  account(id: $id) {
    balance { amount currency }
    ledger(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      nodes { reference kind amount { amount } balance { amount } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def post(database: Database, account: Account, *amounts: int) -> None:
    start = utcnow() - timedelta(days=len(amounts))
    async with database.transaction() as session:
        for i, amount in enumerate(amounts):
            await post_movement(
                session,
                account_id=account.id,
                kind=MovementKind.INVOICE if amount > 0 else MovementKind.PAYMENT,
                amount_minor=amount,
                currency=account.currency,
                reference=f"R-{i + 1:04d}",
                posted_at=start + timedelta(days=i),
            )


async def _page(portal: Portal, **args: Any) -> dict[str, Any]:
    data = await portal.owner.data(LEDGER, {"id": gid("Account", portal.parent.id), **args})
    account: dict[str, Any] = data["account"]
    return account


async def test_pages_in_both_directions_show_the_running_balance(
    portal: Portal, database: Database
) -> None:
    # +100.00, -30.00, +50.50, ... 25 movements
    amounts = [10_000 if i % 3 == 0 else -3_000 if i % 3 == 1 else 5_050 for i in range(25)]
    await post(database, portal.parent, *amounts)
    running = [sum(amounts[: i + 1]) for i in range(25)]
    first = await _page(portal, first=10)
    assert first["balance"] == {"amount": f"{running[-1] / 100:.2f}", "currency": "MXN"}
    nodes = first["ledger"]["nodes"]
    assert [n["reference"] for n in nodes] == [f"R-{i:04d}" for i in range(1, 11)]
    assert [n["balance"]["amount"] for n in nodes] == [f"{b / 100:.2f}" for b in running[:10]]
    assert nodes[1] == {
        "reference": "R-0002",
        "kind": "PAYMENT",
        "amount": {"amount": "-30.00"},
        "balance": {"amount": "70.00"},
    }
    second = await _page(portal, first=10, after=first["ledger"]["pageInfo"]["endCursor"])
    assert [n["balance"]["amount"] for n in second["ledger"]["nodes"]] == [
        f"{b / 100:.2f}" for b in running[10:20]
    ]
    newest = await _page(portal, last=5)
    assert [n["reference"] for n in newest["ledger"]["nodes"]] == [
        f"R-{i:04d}" for i in range(21, 26)
    ]
    assert newest["ledger"]["pageInfo"]["hasPreviousPage"] is True
    assert newest["ledger"]["nodes"][-1]["balance"]["amount"] == f"{running[-1] / 100:.2f}"
    older = await _page(portal, last=5, before=newest["ledger"]["pageInfo"]["startCursor"])
    assert [n["balance"]["amount"] for n in older["ledger"]["nodes"]] == [
        f"{b / 100:.2f}" for b in running[15:20]
    ]
    assert newest["ledger"]["totalCount"] == 25


async def test_an_account_without_movements_owes_nothing(portal: Portal) -> None:
    page = await _page(portal, last=20)
    assert page["balance"] == {"amount": "0.00", "currency": "MXN"}
    assert page["ledger"]["nodes"] == []


async def test_a_movement_in_another_currency_is_refused(
    portal: Portal, database: Database
) -> None:
    with pytest.raises(CurrencyMismatch):
        async with database.transaction() as session:
            await post_movement(
                session,
                account_id=portal.parent.id,
                kind=MovementKind.INVOICE,
                amount_minor=100,
                currency="USD",
                reference="X",
            )


CONSOLIDATED = """
query($id: ID) { account(id: $id) { consolidatedBalance { amount currency } } }
"""


async def test_consolidated_balance_sums_linked_accounts_per_currency(
    portal: Portal, database: Database
) -> None:
    dollars = await make_account(database, number="MX-1003", currency="USD", parent=portal.parent)
    await post(database, portal.parent, 10_000)
    await post(database, portal.linked[0], 2_550, -550)
    await post(database, dollars, 700)
    variables = {"id": gid("Account", portal.parent.id)}
    owner = await portal.owner.data(CONSOLIDATED, variables)
    assert owner["account"]["consolidatedBalance"] == [
        {"amount": "120.00", "currency": "MXN"},
        {"amount": "7.00", "currency": "USD"},
    ]
    # A member of the parent only sees what they may see: the parent itself.
    member = await portal.member.data(CONSOLIDATED, variables)
    assert member["account"]["consolidatedBalance"] == [{"amount": "100.00", "currency": "MXN"}]
