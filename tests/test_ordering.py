"""Ordering in the portal: the catalogue from the billing import (product
lines and their bad lines), createOrder with every userError, its activity
and its confirmation email."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.importers.billing import import_billing
from clientzone.mailers.scheduler import Scheduler
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, ActivityEntry
from clientzone.models.mail import EmailMessage
from clientzone.models.memberships import Permission, Role
from clientzone.models.orders import Order, OrderLine, OrderOrigin, OrderStatus
from clientzone.models.products import Product
from tests.helpers import (
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_membership,
    make_user,
)
from tests.smtp_server import SmtpServer

PRODUCTS = [
    {
        "type": "product",
        "code": "HOST-S",
        "nameEs": "Alojamiento S",
        "nameEn": "Hosting S",
        "descriptionEs": "10 GB",
        "descriptionEn": "10 GB",
        "kind": "HOSTING",
        "prices": {"MXN": 25000, "eur": 1200},
    },
    {
        "type": "product",
        "code": "DOM-MX",
        "nameEs": "Dominio .mx",
        "nameEn": ".mx domain",
        "kind": "DOMAIN",
        "prices": {"MXN": 49900},
    },
    {
        "type": "product",
        "code": "OLD",
        "nameEs": "Retirado",
        "nameEn": "Withdrawn",
        "active": False,
        "prices": {"MXN": 100},
    },
    {
        "type": "product",
        "code": "EUR-ONLY",
        "nameEs": "Solo",
        "nameEn": "Only",
        "prices": {"EUR": 5},
    },
]

CATALOGUE = "{ account { catalogue { code name description kind price { amount currency } } } }"
CREATE = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) {
    order { number status customerReference total { amount currency }
            lines { sku description quantity unitPrice { amount } total { amount } } }
    userErrors { field code message }
  }
}
"""


async def _import(database: Database, lines: list[Any]) -> Any:
    raw = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    return await import_billing(database, raw)


@dataclass
class Shop:
    database: Database
    account: Account
    client: GraphQLClient


@pytest.fixture
async def shop(app: Any, database: Database) -> AsyncIterator[Shop]:
    await _import(database, PRODUCTS)
    account = await make_account(database, number="MX-100", email="compras@example.com")
    user = await make_user(database, "compras@example.com")
    await make_membership(database, user, account, Role.MEMBER, [Permission.ORDERS_CREATE])
    token = await issue_token(database, user)
    async with http_client(app) as http:
        yield Shop(database, account, GraphQLClient(http, token))


async def test_product_lines_make_the_catalogue_and_a_new_line_replaces_one(
    database: Database,
) -> None:
    report = await _import(database, PRODUCTS)
    assert report.errors == []
    assert report.imported == {"product": 4}
    again = await _import(database, PRODUCTS)
    assert again.imported == {}
    assert again.skipped == 4
    changed = {**PRODUCTS[1], "nameEs": "Dominio MX", "prices": {"MXN": 39900}, "active": False}
    report = await _import(database, [changed])
    assert report.imported == {"product": 1}
    async with database.session() as session:
        rows = {p.code: p for p in (await session.execute(select(Product))).scalars()}
    assert rows["HOST-S"].prices == {"MXN": 25000, "EUR": 1200}
    assert rows["HOST-S"].kind.value == "HOSTING"
    assert (rows["DOM-MX"].name_es, rows["DOM-MX"].prices, rows["DOM-MX"].active) == (
        "Dominio MX",
        {"MXN": 39900},
        False,
    )
    assert rows["EUR-ONLY"].kind.value == "OTHER"


async def test_bad_product_lines_are_reported_and_the_rest_goes_in(database: Database) -> None:
    good = PRODUCTS[0]
    lines: list[Any] = [
        {**good, "code": ""},
        {**good, "code": "con espacio"},
        {**good, "code": "X" * 41},
        {**good, "code": "A1", "nameEn": None},
        {**good, "code": "A2", "kind": "CAR"},
        {**good, "code": "A3", "active": "yes"},
        {**good, "code": "A4", "prices": [1200]},
        {**good, "code": "A5", "prices": {"EURO": 1}},
        {**good, "code": "A6", "prices": {"EUR": 12.5}},
        {**good, "code": "A7", "prices": {"EUR": -1}},
        {**good, "code": "A8", "prices": {"EUR": 10**16}},
        {**good, "code": "A9", "prices": {"EUR": True}},
        {**good, "code": "OK"},
        '{"type": "product", "code": "A10"',
    ]
    report = await _import(database, lines)
    assert report.imported == {"product": 1}
    reasons = dict(report.errors)
    assert sorted(reasons) == [n for n in range(1, 15) if n != 13]
    assert reasons[1] == "code is missing or not a text"
    assert reasons[2] == "code may hold only letters, digits, '.', '_' and '-'"
    assert reasons[3] == "code is longer than 40 characters"
    assert reasons[4] == "nameEn is missing or not a text"
    assert reasons[5].startswith("kind must be one of")
    assert reasons[6] == "active must be true or false"
    assert reasons[7].startswith("prices must be an object")
    assert reasons[8] == "prices: 'EURO' is not an ISO 4217 code"
    assert reasons[9] == "prices.EUR must be a whole number of minor units"
    assert reasons[10] == "prices.EUR cannot be negative"
    assert reasons[11].startswith("prices.EUR is above the maximum")
    assert reasons[12] == "prices.EUR is missing or not a number"
    assert reasons[14].startswith("not valid JSON")
    async with database.session() as session:
        codes = list((await session.execute(select(Product.code))).scalars())
    assert codes == ["OK"]


async def test_the_catalogue_lists_active_products_in_the_accounts_currency(shop: Shop) -> None:
    data = await shop.client.data(CATALOGUE, headers={"Accept-Language": "en"})
    assert data["account"]["catalogue"] == [
        {
            "code": "DOM-MX",
            "name": ".mx domain",
            "description": None,
            "kind": "DOMAIN",
            "price": {"amount": "499.00", "currency": "MXN"},
        },
        {
            "code": "HOST-S",
            "name": "Hosting S",
            "description": "10 GB",
            "kind": "HOSTING",
            "price": {"amount": "250.00", "currency": "MXN"},
        },
    ]
    data = await shop.client.data(CATALOGUE, headers={"Accept-Language": "es"})
    assert [p["name"] for p in data["account"]["catalogue"]] == ["Dominio .mx", "Alojamiento S"]


async def test_an_order_is_placed_with_its_lines_activity_and_email(shop: Shop) -> None:
    lines = [{"productCode": "HOST-S", "quantity": 2}, {"productCode": "DOM-MX", "quantity": 1}]
    data = await shop.client.data(
        CREATE,
        {
            "input": {
                "lines": lines,
                "customerReference": " OC-77 ",
                "notes": "Factura a fin de mes",
            }
        },
    )
    payload = data["createOrder"]
    assert payload["userErrors"] == []
    order = payload["order"]
    assert order["status"] == "PENDING"
    assert order["customerReference"] == "OC-77"
    assert order["total"] == {"amount": "999.00", "currency": "MXN"}
    assert order["lines"] == [
        {
            "sku": "HOST-S",
            "description": "Alojamiento S",
            "quantity": "2",
            "unitPrice": {"amount": "250.00"},
            "total": {"amount": "500.00"},
        },
        {
            "sku": "DOM-MX",
            "description": "Dominio .mx",
            "quantity": "1",
            "unitPrice": {"amount": "499.00"},
            "total": {"amount": "499.00"},
        },
    ]
    async with shop.database.session() as session:
        row = (await session.execute(select(Order))).scalar_one()
        line_count = len(list((await session.execute(select(OrderLine))).scalars()))
        activity = (await session.execute(select(ActivityEntry))).scalar_one()
        email = (await session.execute(select(EmailMessage))).scalar_one()
    assert (row.origin, row.status, row.notes, row.number) == (
        OrderOrigin.PORTAL,
        OrderStatus.PENDING,
        "Factura a fin de mes",
        order["number"],
    )
    assert row.created_by is not None
    assert line_count == 2
    assert (activity.action, activity.target) == (ActivityAction.ORDER_PLACED, row.number)
    assert email.template == "order_confirmation"
    assert email.recipients == ["compras@example.com"]
    assert email.subject == f"Pedido {row.number} confirmado · MX-100"
    assert "2 x Alojamiento S (HOST-S), 250.00 MXN c/u: 500.00 MXN" in email.text_body
    assert "Total: 999.00 MXN" in email.text_body
    assert "Sus notas: Factura a fin de mes" in email.text_body
    assert "(su referencia OC-77)" in email.html_body


async def _errors(shop: Shop, payload: dict[str, Any], locale: str = "en") -> list[Any]:
    data = await shop.client.data(CREATE, {"input": payload}, headers={"Accept-Language": locale})
    assert data["createOrder"]["order"] is None
    return [(e["field"], e["code"], e["message"]) for e in data["createOrder"]["userErrors"]]


async def test_every_bad_input_is_a_user_error_and_nothing_is_written(shop: Shop) -> None:
    assert await _errors(shop, {"lines": []}) == [
        ("lines", "REQUIRED", "Add at least one product to the order.")
    ]
    many = [{"productCode": "HOST-S", "quantity": 1}] * 51
    assert await _errors(shop, {"lines": many}) == [
        ("lines", "TOO_MANY_LINES", "An order has at most 50 lines.")
    ]
    lines = [
        {"productCode": " ", "quantity": 1},
        {"productCode": "NOPE", "quantity": 1},
        {"productCode": "OLD", "quantity": 1},
        {"productCode": "EUR-ONLY", "quantity": 1},
        {"productCode": "HOST-S", "quantity": 0},
        {"productCode": "HOST-S", "quantity": 1000},
    ]
    payload = {"lines": lines, "customerReference": "R" * 81, "notes": "n" * 2001}
    assert await _errors(shop, payload) == [
        ("customerReference", "TOO_LONG", "At most 80 characters."),
        ("notes", "TOO_LONG", "At most 2000 characters."),
        ("lines.0.productCode", "REQUIRED", "This field is required."),
        ("lines.1.productCode", "UNKNOWN_PRODUCT", "We do not sell a product \u201cNOPE\u201d."),
        ("lines.2.productCode", "UNKNOWN_PRODUCT", "We do not sell a product \u201cOLD\u201d."),
        (
            "lines.3.productCode",
            "NOT_SOLD_IN_CURRENCY",
            "The product \u201cEUR-ONLY\u201d is not sold in MXN.",
        ),
        ("lines.4.quantity", "INVALID_QUANTITY", "The quantity goes from 1 to 999."),
        ("lines.5.quantity", "INVALID_QUANTITY", "The quantity goes from 1 to 999."),
    ]
    spanish = await _errors(shop, {"lines": lines[1:2], "customerReference": ""}, "es")
    assert spanish == [
        ("customerReference", "REQUIRED", "Este campo es obligatorio."),
        ("lines.0.productCode", "UNKNOWN_PRODUCT", "No tenemos a la venta el producto «NOPE»."),
    ]
    async with shop.database.session() as session:
        assert list((await session.execute(select(Order))).scalars()) == []
        assert list((await session.execute(select(EmailMessage))).scalars()) == []


async def test_an_account_in_another_currency_orders_at_its_price(
    app: Any, database: Database
) -> None:
    await _import(database, PRODUCTS)
    account = await make_account(database, number="ES-1", currency="EUR", email="a@example.com")
    user = await make_user(database, "a@example.com")
    await make_membership(database, user, account)
    async with http_client(app) as http:
        client = GraphQLClient(http, await issue_token(database, user))
        data = await client.data(
            CREATE,
            {
                "input": {
                    "accountId": gid("Account", account.id),
                    "lines": [
                        {"productCode": "HOST-S", "quantity": 3},
                        {"productCode": "EUR-ONLY", "quantity": 1},
                    ],
                }
            },
        )
    assert data["createOrder"]["order"]["total"] == {"amount": "36.05", "currency": "EUR"}


async def test_the_confirmation_is_sent_once_and_not_announced_again_as_imported(
    shop: Shop, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    lines = [{"productCode": "DOM-MX", "quantity": 1}]
    data = await shop.client.data(CREATE, {"input": {"lines": lines}})
    number = data["createOrder"]["order"]["number"]
    scheduler = Scheduler(shop.database, mail_settings)
    await scheduler.announce_imported()
    await scheduler.announce_imported()
    await MailWorker(shop.database, mail_settings).drain()
    subjects = [str(r.message["Subject"]) for r in smtp_server.received]
    assert subjects == [f"Pedido {number} confirmado · MX-100"]
    assert smtp_server.received[0].recipients == ["compras@example.com"]
    assert "1 x Dominio .mx (DOM-MX), 499.00 MXN c/u: 499.00 MXN" in smtp_server.received[0].text
