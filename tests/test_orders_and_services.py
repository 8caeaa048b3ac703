"""Purchase history and contracted services: filters, order, lines, statement counts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta
from typing import Any

from clientzone.db import Database, StatementCounter
from clientzone.models.accounts import Account
from clientzone.models.orders import (
    BillingCycle,
    Order,
    OrderLine,
    OrderStatus,
    Service,
    ServiceKind,
    ServiceStatus,
)
from tests.conftest import Portal
from tests.helpers import gid

ORDERS = """
query($id: ID, $filter: OrderFilterInput) {
  account(id: $id) {
    orders(filter: $filter) {
      totalCount
      nodes { number customerReference orderedOn status total { amount }
              lines { sku description quantity total { amount } } }
    }
  }
}
"""
SERVICES = """
query($id: ID, $filter: ServiceFilterInput) {
  account(id: $id) {
    services(filter: $filter) {
      nodes { name kind status billingCycle nextDueOn recurringAmount { amount currency } }
    }
  }
}
"""
DAY = date(2026, 10, 1)


async def add_order(
    database: Database,
    account: Account,
    number: str,
    days: int,
    status: OrderStatus,
    reference: str | None = None,
    lines: int = 2,
) -> Order:
    order = Order(
        account_id=account.id,
        number=number,
        customer_reference=reference,
        ordered_on=DAY + timedelta(days=days),
        status=status,
        currency=account.currency,
        total_minor=0,
    )
    rows = [
        OrderLine(
            order_id=order.id,
            position=i,
            sku=f"SKU-{i}",
            description=f"Artículo {i}",
            quantity_milli=1500,
            unit_price_minor=10_000,
            total_minor=15_000,
        )
        for i in range(1, lines + 1)
    ]
    order.total_minor = sum(r.total_minor for r in rows)
    async with database.session() as session, session.begin():
        session.add(order)
        await session.flush()
        session.add_all(rows)
    return order


async def _orders(portal: Portal, **filter_: Any) -> list[str]:
    data = await portal.owner.data(
        ORDERS, {"id": gid("Account", portal.parent.id), "filter": filter_}
    )
    return [n["number"] for n in data["account"]["orders"]["nodes"]]


async def test_orders_newest_first_with_filters_and_lines(
    portal: Portal, database: Database
) -> None:
    await add_order(database, portal.parent, "P-100", 0, OrderStatus.DELIVERED, "OC-77")
    await add_order(database, portal.parent, "P-101", 10, OrderStatus.SHIPPED)
    await add_order(database, portal.parent, "P-102", 20, OrderStatus.PENDING, "OC-78")
    await add_order(database, portal.other, "P-900", 5, OrderStatus.PENDING, "OC-77")
    assert await _orders(portal) == ["P-102", "P-101", "P-100"]
    assert await _orders(portal, search="OC-77") == ["P-100"]  # never another account's
    assert await _orders(portal, search="P-101") == ["P-101"]
    assert await _orders(portal, status="PENDING") == ["P-102"]
    assert await _orders(portal, orderedFrom="2026-10-05", orderedTo="2026-10-11") == ["P-101"]
    data = await portal.owner.data(
        ORDERS, {"id": gid("Account", portal.parent.id), "filter": {"search": "P-100"}}
    )
    [order] = data["account"]["orders"]["nodes"]
    assert order["total"] == {"amount": "300.00"}
    assert order["lines"][0] == {
        "sku": "SKU-1",
        "description": "Artículo 1",
        "quantity": "1.5",
        "total": {"amount": "150.00"},
    }


async def test_services_by_name_with_filters(portal: Portal, database: Database) -> None:
    async with database.session() as session, session.begin():
        for name, kind, status in (
            ("ferreteria-esperanza.mx", ServiceKind.DOMAIN, ServiceStatus.ACTIVE),
            ("Hosting Pro", ServiceKind.HOSTING, ServiceStatus.ACTIVE),
            ("Soporte 24/7", ServiceKind.SUPPORT_PLAN, ServiceStatus.CANCELLED),
        ):
            session.add(
                Service(
                    account_id=portal.parent.id,
                    name=name,
                    kind=kind,
                    status=status,
                    billing_cycle=BillingCycle.YEARLY,
                    next_due_on=DAY,
                    currency="MXN",
                    recurring_minor=129_900,
                )
            )

    async def names(**filter_: Any) -> list[str]:
        data = await portal.owner.data(
            SERVICES, {"id": gid("Account", portal.parent.id), "filter": filter_}
        )
        return [n["name"] for n in data["account"]["services"]["nodes"]]

    assert await names() == ["Hosting Pro", "Soporte 24/7", "ferreteria-esperanza.mx"]
    assert await names(kind="DOMAIN") == ["ferreteria-esperanza.mx"]
    assert await names(status="ACTIVE", search="HOST") == ["Hosting Pro"]


async def test_order_lists_take_a_fixed_number_of_statements(
    portal: Portal,
    database: Database,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    variables = {"id": gid("Account", portal.parent.id), "filter": {}}

    async def count() -> int:
        with sql_statements() as counted:
            await portal.owner.data(ORDERS, variables)
        return counted.count

    await add_order(database, portal.parent, "P-1", 0, OrderStatus.PENDING)
    few = await count()
    for i in range(15):
        await add_order(database, portal.parent, f"Q-{i}", i, OrderStatus.PENDING, lines=3)
    many = await count()
    # grant, account, orders page, lines, count
    assert (few, many) == (5, 5)
