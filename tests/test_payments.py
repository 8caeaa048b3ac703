"""Payments: the sandbox checkout, the signed webhook (once per event), ledger
and invoices settled oldest first, receipts; and reported bank transfers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from clientzone import payment_providers
from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.invoices import Invoice
from clientzone.models.ledger import LedgerEntry, MovementKind, post_movement
from clientzone.models.memberships import Permission, Role
from tests.helpers import (
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_invoice,
    make_membership,
    make_user,
)
from tests.smtp_server import SmtpServer

TODAY = datetime.now(UTC).date()
START = """
mutation($input: StartPaymentInput!) {
  startPayment(input: $input) {
    payment { id status amount { amount currency } } redirectUrl userErrors { field code message }
  }
}
"""
STATE = """
{ account { balance { amount } invoices(orderBy: ISSUED_ON_ASC) { nodes { number status
  amountPaid { amount } } } payments { nodes { status kind amount { amount } reference } } } }
"""


@dataclass
class Shop:
    app: Any
    http: Any
    client: GraphQLClient
    account: Account
    invoices: list[Invoice]
    settings: Settings


@pytest.fixture
async def shop(settings: Settings, database: Database) -> AsyncIterator[Shop]:
    """An account owing three invoices (100, 200 and 300 MXN plus 16%), online
    payment allowed below 10,000 MXN."""
    configured = settings.model_copy(update={"payment_online_limits": {"MXN": Decimal(10_000)}})
    app = create_app(configured, database)
    user = await make_user(database)
    account = await make_account(database, email="pagos@example.com")
    await make_membership(
        database, user, account, Role.MEMBER, [Permission.INVOICES_VIEW, Permission.INVOICES_PAY]
    )
    invoices = []
    for i, price in enumerate((10_000, 20_000, 30_000)):
        invoice = await make_invoice(
            database,
            account,
            f"F-{i + 1}",
            issued_on=TODAY - timedelta(days=90 - 30 * i),
            lines=[("Material", 1000, price, 1600)],
        )
        invoices.append(invoice)
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
    async with http_client(app) as http:
        yield Shop(app, http, GraphQLClient(http, token), account, invoices, configured)


async def _start(shop: Shop, **values: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await shop.client.data(START, {"input": values}))["startPayment"]
    return payload


async def _movements(database: Database, account: Account, kind: MovementKind) -> int:
    async with database.session() as session:
        statement = select(func.count()).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind == kind
        )
        return int((await session.execute(statement)).scalar_one())


async def test_paying_chosen_invoices_through_the_sandbox(
    shop: Shop, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    async with database.session() as session, session.begin():
        session.add(
            Contact(
                account_id=shop.account.id,
                first_name="Cobros",
                email="cobros@example.com",
                categories=frozenset({EmailCategory.INVOICES}),
            )
        )
    started = await _start(shop, invoiceIds=[gid("Invoice", shop.invoices[1].id)])
    assert started["userErrors"] == []
    assert started["payment"]["status"] == "PENDING"
    assert started["payment"]["amount"] == {"amount": "232.00", "currency": "MXN"}
    url = started["redirectUrl"].replace("http://127.0.0.1:8000", "")
    page = await shop.http.get(url)
    assert page.status_code == 200
    assert "SANDBOX" in page.text
    approved = await shop.http.post(url, data={"outcome": "approved"})
    assert approved.status_code == 303
    payment_id = started["payment"]["id"]
    assert approved.headers["location"] == (
        f"http://127.0.0.1:8000/payments/{payment_id}?status=approved"
    )
    state = (await shop.client.data(STATE))["account"]
    # 116 + 232 + 348 owed; 232 paid
    assert state["balance"] == {"amount": "464.00"}
    assert [(i["number"], i["status"]) for i in state["invoices"]["nodes"]] == [
        ("F-1", "OVERDUE"),
        ("F-2", "PAID"),
        ("F-3", "OPEN"),
    ]
    [paid] = state["payments"]["nodes"]
    assert paid == {
        "status": "SUCCEEDED",
        "kind": "ONLINE",
        "amount": {"amount": "232.00"},
        "reference": paid["reference"],
    }
    assert paid["reference"].startswith("PAY-")
    await mail_worker.drain()
    # One copy per recipient: the account's email and its INVOICES contact.
    assert sorted(r for m in smtp_server.received for r in m.recipients) == [
        "cobros@example.com",
        "pagos@example.com",
    ]
    receipt = smtp_server.received[0]
    assert receipt.message["Subject"].startswith(f"Recibo de pago {paid['reference']}")
    assert "F-2" in receipt.text
    # The page is gone once the payment is settled.
    assert (await shop.http.get(url)).status_code == 404


async def test_an_amount_pays_invoices_oldest_first(shop: Shop) -> None:
    started = await _start(shop, amount="150.00")
    assert started["userErrors"] == []
    url = started["redirectUrl"].replace("http://127.0.0.1:8000", "")
    await shop.http.post(url, data={"outcome": "approved"})
    nodes = (await shop.client.data(STATE))["account"]["invoices"]["nodes"]
    assert [(i["number"], i["status"], i["amountPaid"]["amount"]) for i in nodes] == [
        ("F-1", "PAID", "116.00"),
        ("F-2", "OVERDUE", "34.00"),
        ("F-3", "OPEN", "0.00"),
    ]


def _event(shop: Shop, payment_id: str, outcome: str, amount: int, event_id: str) -> bytes:
    from clientzone.ids import decode_id_of

    payment = decode_id_of("Payment", payment_id)
    return json.dumps(
        {
            "id": event_id,
            "payment_id": str(payment),
            "status": outcome,
            "amount_minor": amount,
            "currency": "MXN",
        }
    ).encode()


async def test_the_webhook_checks_the_signature_and_applies_an_event_once(
    shop: Shop, database: Database
) -> None:
    started = await _start(shop, amount="100.00")
    body = _event(shop, started["payment"]["id"], "approved", 10_000, "evt-1")
    unsigned = await shop.http.post("/webhooks/payments/sandbox", content=body)
    assert unsigned.status_code == 400
    wrong = await shop.http.post(
        "/webhooks/payments/sandbox", content=body, headers={"X-Signature": "sha256=" + "0" * 64}
    )
    assert wrong.status_code == 400
    signed = {"X-Signature": payment_providers.signature(shop.settings, body)}
    first = await shop.http.post("/webhooks/payments/sandbox", content=body, headers=signed)
    again = await shop.http.post("/webhooks/payments/sandbox", content=body, headers=signed)
    assert (first.json(), again.json()) == ({"result": "approved"}, {"result": "duplicate"})
    assert await _movements(database, shop.account, MovementKind.PAYMENT) == 1
    other = _event(shop, started["payment"]["id"], "approved", 10_000, "evt-2")
    late = await shop.http.post(
        "/webhooks/payments/sandbox",
        content=other,
        headers={"X-Signature": payment_providers.signature(shop.settings, other)},
    )
    assert late.json() == {"result": "already settled"}
    assert await _movements(database, shop.account, MovementKind.PAYMENT) == 1
    unknown = await shop.http.post("/webhooks/payments/elsewhere", content=body, headers=signed)
    assert unknown.status_code == 404


async def test_a_declined_or_altered_payment_posts_nothing(shop: Shop, database: Database) -> None:
    declined = await _start(shop, amount="100.00")
    url = declined["redirectUrl"].replace("http://127.0.0.1:8000", "")
    await shop.http.post(url, data={"outcome": "declined"})
    altered = await _start(shop, amount="100.00")
    body = _event(shop, altered["payment"]["id"], "approved", 1, "evt-cheap")
    response = await shop.http.post(
        "/webhooks/payments/sandbox",
        content=body,
        headers={"X-Signature": payment_providers.signature(shop.settings, body)},
    )
    assert response.json() == {"result": "declined"}
    assert await _movements(database, shop.account, MovementKind.PAYMENT) == 0
    statuses = [
        p["status"] for p in (await shop.client.data(STATE))["account"]["payments"]["nodes"]
    ]
    assert statuses == ["FAILED", "FAILED"]


async def test_start_payment_checks_its_input_and_the_rules(shop: Shop, database: Database) -> None:
    async def codes(**values: Any) -> list[tuple[str | None, str]]:
        return [(e["field"], e["code"]) for e in (await _start(shop, **values))["userErrors"]]

    assert await codes() == [("invoiceIds", "REQUIRED")]
    assert await codes(amount="0") == [("amount", "INVALID_AMOUNT")]
    assert await codes(amount="1.005") == [("amount", "INVALID_AMOUNT")]
    assert await codes(amount="700.00") == [("amount", "AMOUNT_ABOVE_BALANCE")]
    foreign = await make_account(database)
    other = await make_invoice(database, foreign, "X-1", issued_on=TODAY)
    body = await shop.client.execute(START, {"input": {"invoiceIds": [gid("Invoice", other.id)]}})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # Above the limit, online payment is refused with the rule that says no.
    async with database.transaction() as session:
        await post_movement(
            session,
            account_id=shop.account.id,
            kind=MovementKind.ADJUSTMENT,
            amount_minor=2_000_000,
            currency="MXN",
            reference="AJ-1",
        )
    refused = await _start(shop, invoiceIds=[gid("Invoice", shop.invoices[0].id)])
    assert refused["userErrors"] == [
        {
            "field": None,
            "code": "NOT_AVAILABLE",
            "message": "El pago en línea no está disponible ahora. "
            "El saldo alcanza o supera el máximo que se puede pagar en línea.",
        }
    ]
    # ... but paying in advance (an amount, no invoices) is what that balance allows.
    assert (await _start(shop, amount="5000.00"))["userErrors"] == []


REPORT = """
mutation($input: ReportPaymentInput!) {
  reportPayment(input: $input) {
    payment { status kind reference paidOn } userErrors { field code }
  }
}
"""


async def _report(shop: Shop, content: bytes | None, **values: Any) -> dict[str, Any]:
    variables = {
        "input": {
            "amount": "500.00",
            "paidOn": TODAY.isoformat(),
            "reference": "SPEI 12345",
            "receipt": None,
            **values,
        }
    }
    operations = json.dumps({"query": REPORT, "variables": variables})
    files = {"operations": (None, operations)}
    if content is not None:
        files["map"] = (None, json.dumps({"0": ["variables.input.receipt"]}))
        files["0"] = ("comprobante.pdf", content, "application/pdf")  # type: ignore[assignment]
    else:
        files["map"] = (None, "{}")
    response = await shop.http.post("/graphql", files=files, headers=shop.client.headers())
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["data"]["reportPayment"]
    return payload


async def test_reporting_a_transfer_with_its_receipt(shop: Shop) -> None:
    before = (await shop.client.data(STATE))["account"]["balance"]
    reported = await _report(shop, b"%PDF-1.7\n...")
    assert reported == {
        "payment": {
            "status": "REPORTED",
            "kind": "TRANSFER_REPORT",
            "reference": "SPEI 12345",
            "paidOn": TODAY.isoformat(),
        },
        "userErrors": [],
    }
    # Pending staff confirmation: not in the balance.
    assert (await shop.client.data(STATE))["account"]["balance"] == before
    forged = await _report(shop, b"MZ\x90\x00 not a pdf at all")
    assert forged["userErrors"] == [{"field": "receipt", "code": "FILE_TYPE_NOT_ALLOWED"}]
    big = await _report(shop, b"%PDF-" + b"0" * 900_000)
    assert big["userErrors"] == [{"field": "receipt", "code": "FILE_TOO_LARGE"}]
    bad = await _report(
        shop, None, amount="-5", reference=" ", paidOn=(TODAY + timedelta(days=2)).isoformat()
    )
    assert bad["userErrors"] == [
        {"field": "amount", "code": "INVALID_AMOUNT"},
        {"field": "paidOn", "code": "IN_THE_FUTURE"},
        {"field": "reference", "code": "REQUIRED"},
    ]
