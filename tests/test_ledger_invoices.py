"""A ledger movement leads to its invoice (and the invoice's documents), for a
whole page in a fixed number of statements."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from clientzone.db import Database, StatementCounter
from clientzone.models.base import utcnow
from clientzone.models.ledger import MovementKind, post_movement
from tests.conftest import Portal
from tests.helpers import gid, make_invoice

LEDGER = """
query($id: ID!) {
  account(id: $id) {
    ledger(first: 50) {
      nodes { kind reference invoice { number documents { kind filename } } }
    }
  }
}
"""


async def _post(database: Database, portal: Portal, kind: MovementKind, reference: str) -> None:
    async with database.transaction() as session:
        await post_movement(
            session,
            account_id=portal.parent.id,
            kind=kind,
            amount_minor=1_000 if kind is MovementKind.INVOICE else -500,
            currency=portal.parent.currency,
            reference=reference,
        )


async def _ledger(portal: Portal, client: Any) -> list[dict[str, Any]]:
    data = await client.data(LEDGER, {"id": gid("Account", portal.parent.id)})
    nodes: list[dict[str, Any]] = data["account"]["ledger"]["nodes"]
    return nodes


async def test_movements_link_to_their_invoices_without_a_query_per_row(
    portal: Portal,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    await make_invoice(database, portal.parent, "F-0001", issued_on=utcnow().date())
    await _post(database, portal, MovementKind.INVOICE, "F-0001")
    await _post(database, portal, MovementKind.INVOICE, "F-9999")  # not in the portal
    await _post(database, portal, MovementKind.PAYMENT, "F-0001")  # a payment is no invoice
    nodes = await _ledger(portal, portal.owner)
    linked = {(n["kind"], n["reference"]): n["invoice"] for n in nodes}
    assert linked[("INVOICE", "F-0001")]["number"] == "F-0001"
    assert linked[("INVOICE", "F-0001")]["documents"][0]["kind"] == "PDF"
    assert linked[("INVOICE", "F-9999")] is None
    assert linked[("PAYMENT", "F-0001")] is None
    # The member with INVOICES_VIEW sees the same links.
    seen = {(n["kind"], n["reference"]): n["invoice"] for n in await _ledger(portal, portal.member)}
    assert seen == linked
    with sql_statements() as few:
        await _ledger(portal, portal.owner)
    for i in range(2, 12):
        await make_invoice(database, portal.parent, f"F-{i:04d}", issued_on=utcnow().date())
        await _post(database, portal, MovementKind.INVOICE, f"F-{i:04d}")
    with sql_statements() as many:
        nodes = await _ledger(portal, portal.owner)
    assert sum(1 for n in nodes if n["invoice"]) == 11
    assert many.count == few.count
