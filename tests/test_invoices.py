"""Invoices: what a customer sees, filters, ordering, lines, statement counts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from clientzone.db import Database, StatementCounter
from clientzone.models.invoices import InvoiceStatus
from tests.conftest import Portal
from tests.helpers import gid, make_invoice

TODAY = datetime.now(UTC).date()
LIST = """
query($id: ID, $filter: InvoiceFilterInput, $order: InvoiceOrder, $first: Int, $after: String) {
  account(id: $id) {
    invoices(filter: $filter, orderBy: $order, first: $first, after: $after) {
      totalCount
      nodes { number status total { amount currency } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _numbers(portal: Portal, headers: dict[str, str] | None = None, **args: Any) -> list[str]:
    data = await portal.owner.data(LIST, {"id": gid("Account", portal.parent.id), **args}, headers)
    return [n["number"] for n in data["account"]["invoices"]["nodes"]]


async def _world(portal: Portal, database: Database) -> None:
    parent = portal.parent
    await make_invoice(
        database,
        parent,
        "F-001",
        issued_on=TODAY - timedelta(days=90),
        paid=True,
        status=InvoiceStatus.PAID,
    )
    await make_invoice(database, parent, "F-002", issued_on=TODAY - timedelta(days=60))  # overdue
    await make_invoice(
        database,
        parent,
        "F-003",
        issued_on=TODAY - timedelta(days=10),
        lines=[("Varilla 3/8", 2_500, 120_000, 1600), ("Flete", 1_000, 50_000, 0)],
    )
    await make_invoice(
        database, parent, "F-004", issued_on=TODAY - timedelta(days=5), status=InvoiceStatus.VOID
    )
    await make_invoice(database, parent, "F-005", issued_on=TODAY, status=InvoiceStatus.DRAFT)


async def test_customers_see_invoices_newest_first_without_drafts(
    portal: Portal, database: Database
) -> None:
    await _world(portal, database)
    data = await portal.owner.data(LIST, {"id": gid("Account", portal.parent.id)})
    invoices = data["account"]["invoices"]
    assert invoices["totalCount"] == 4
    assert [(n["number"], n["status"]) for n in invoices["nodes"]] == [
        ("F-004", "VOID"),
        ("F-003", "OPEN"),
        ("F-002", "OVERDUE"),
        ("F-001", "PAID"),
    ]
    # 10 x 189.00 + 16% tax
    assert invoices["nodes"][-1]["total"] == {"amount": "2192.40", "currency": "MXN"}


async def test_invoice_filters(portal: Portal, database: Database) -> None:
    await _world(portal, database)
    assert await _numbers(portal, filter={"status": "OVERDUE"}) == ["F-002"]
    assert await _numbers(portal, filter={"status": "OPEN"}) == ["F-003"]
    assert await _numbers(portal, filter={"status": "DRAFT"}) == []
    assert await _numbers(portal, filter={"number": "F-003"}) == ["F-003"]
    since, until = (
        (TODAY - timedelta(days=60)).isoformat(),
        (TODAY - timedelta(days=10)).isoformat(),
    )
    assert await _numbers(portal, filter={"issuedFrom": since, "issuedTo": until}) == [
        "F-003",
        "F-002",
    ]
    due = (TODAY + timedelta(days=20)).isoformat()
    assert await _numbers(portal, filter={"dueFrom": due}) == ["F-004", "F-003"]
    # F-003: 2.5 x 1200.00 + 16% + 500.00 = 3980.00
    assert await _numbers(portal, filter={"minTotal": "3900", "maxTotal": "3980.00"}) == ["F-003"]
    assert await _numbers(portal, filter={"minTotal": "3980.01"}) == []


async def test_invoice_order_and_pages(portal: Portal, database: Database) -> None:
    await _world(portal, database)
    first = await portal.owner.data(
        LIST, {"id": gid("Account", portal.parent.id), "order": "TOTAL_DESC", "first": 2}
    )
    page = first["account"]["invoices"]
    assert page["nodes"][0]["number"] == "F-003"
    rest = await _numbers(portal, order="TOTAL_DESC", first=10, after=page["pageInfo"]["endCursor"])
    assert len(rest) == 2
    assert await _numbers(portal, order="DUE_ON_ASC") == ["F-001", "F-002", "F-003", "F-004"]


async def test_lines_document_type_and_node(portal: Portal, database: Database) -> None:
    await _world(portal, database)
    query = """
    query($id: ID!) {
      node(id: $id) {
        ... on Invoice {
          number issuedOn dueOn subtotal { amount } taxes { amount } balanceDue { amount }
          documentType { code name allowsOnlinePayment }
          lines { description quantity unitPrice { amount } taxRate total { amount } }
        }
      }
    }
    """
    data = await portal.owner.data(
        LIST, {"id": gid("Account", portal.parent.id), "filter": {"number": "F-003"}}
    )
    assert data["account"]["invoices"]["nodes"][0]["number"] == "F-003"
    from sqlalchemy import select

    from clientzone.models.invoices import Invoice

    async with database.session() as session:
        rows = {i.number: i for i in (await session.execute(select(Invoice))).scalars()}
    node = (await portal.owner.data(query, {"id": gid("Invoice", rows["F-003"].id)}))["node"]
    assert node["documentType"] == {
        "code": "CFDI_INGRESO",
        "name": "CFDI de ingreso",
        "allowsOnlinePayment": True,
    }
    assert node["lines"] == [
        {
            "description": "Varilla 3/8",
            "quantity": "2.5",
            "unitPrice": {"amount": "1200.00"},
            "taxRate": "16",
            "total": {"amount": "3480.00"},
        },
        {
            "description": "Flete",
            "quantity": "1",
            "unitPrice": {"amount": "500.00"},
            "taxRate": "0",
            "total": {"amount": "500.00"},
        },
    ]
    english = await portal.owner.data(
        query, {"id": gid("Invoice", rows["F-003"].id)}, {"Accept-Language": "en"}
    )
    assert english["node"]["documentType"]["name"] == "CFDI invoice"
    # A draft is not there, even by ID.
    assert await portal.owner.error_codes(query, {"id": gid("Invoice", rows["F-005"].id)}) == [
        "NOT_FOUND"
    ]


async def test_invoice_lists_take_a_fixed_number_of_statements(
    portal: Portal,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    query = """
    query($id: ID) {
      account(id: $id) {
        invoices(first: 50) {
          nodes { number total { amount } documentType { name } lines { description } }
        }
        ledger(last: 50) { nodes { reference balance { amount } } }
      }
    }
    """
    variables = {"id": gid("Account", portal.parent.id)}

    async def count() -> int:
        with sql_statements() as counted:
            await portal.owner.data(query, variables)
        return counted.count

    await _world(portal, database)
    few = await count()
    for i in range(40):
        await make_invoice(
            database,
            portal.parent,
            f"G-{i:03d}",
            issued_on=TODAY - timedelta(days=i),
            lines=[("A", 1000, 100, 0), ("B", 1000, 200, 1600)],
        )
    data = await portal.owner.data(query, variables)
    assert len(data["account"]["invoices"]["nodes"]) == 44
    many = await count()
    # grant, account, invoices page, lines, document types, ledger page
    assert (few, many) == (6, 6)
