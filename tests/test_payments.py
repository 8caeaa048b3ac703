"""Payments: the sandbox checkout, the signed webhook (once per event), ledger
and invoices settled oldest first, receipts; and reported bank transfers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.invoices import Invoice
from clientzone.models.ledger import LedgerEntry, MovementKind, post_movement
from clientzone.models.mail import EmailMessage
from clientzone.models.memberships import Permission, Role
from clientzone.payments import providers as payment_providers
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
    async with open_shop(settings, database) as opened:
        yield opened


@asynccontextmanager
async def open_shop(
    settings: Settings, database: Database, **overrides: Any
) -> AsyncIterator[Shop]:
    """The `shop` fixture's account, with settings changed by `overrides`."""
    configured = settings.model_copy(
        update={"payment_online_limits": {"MXN": Decimal(10_000)}, **overrides}
    )
    app = create_app(configured, database)
    user = await make_user(database)
    account = await make_account(database, email="pagos@example.com")
    await make_membership(
        database,
        user,
        account,
        Role.MEMBER,
        [Permission.INVOICES_VIEW, Permission.INVOICES_PAY, Permission.ACTIVITY_VIEW],
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


async def _owe_20000_more(shop: Shop, database: Database) -> None:
    """An adjustment that takes the balance above the online limit (10,000 MXN)."""
    async with database.transaction() as session:
        await post_movement(
            session,
            account_id=shop.account.id,
            kind=MovementKind.ADJUSTMENT,
            amount_minor=2_000_000,
            currency="MXN",
            reference="AJ-1",
        )


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
    from clientzone.core.ids import decode_id_of

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
    await _owe_20000_more(shop, database)
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


# --- one invoice paid once ---------------------------------------------------

PAYMENTS = """
{ account { balance { amount } payments { nodes { id status amount { amount } inAdvance
  refundDue { amount currency } } } activity(first: 20) { nodes { action target } } } }
"""


async def _webhook(shop: Shop, payment_id: str, amount: int, event_id: str) -> str:
    body = _event(shop, payment_id, "approved", amount, event_id)
    response = await shop.http.post(
        "/webhooks/payments/sandbox",
        content=body,
        headers={"X-Signature": payment_providers.signature(shop.settings, body)},
    )
    assert response.status_code == 200, response.text
    result: str = response.json()["result"]
    return result


async def _abandoned(database: Database, payment_gid: str, settings: Settings) -> None:
    """The payment was started longer ago than its reservation lasts."""
    from clientzone.core.ids import decode_id_of
    from clientzone.models.payments import Payment

    long_ago = datetime.now(UTC) - timedelta(minutes=settings.payment_reservation_minutes + 1)
    async with database.transaction() as session:
        await session.execute(
            update(Payment)
            .where(Payment.id == decode_id_of("Payment", payment_gid))
            .values(created_at=long_ago)
        )


async def _receipts(database: Database) -> int:
    async with database.session() as session:
        statement = select(func.count()).where(EmailMessage.template == "payment_receipt")
        return int((await session.execute(statement)).scalar_one())


async def test_ten_concurrent_checkouts_of_one_invoice_create_one_payment(
    shop: Shop, database: Database
) -> None:
    invoice = gid("Invoice", shop.invoices[0].id)
    # when ten tabs press "pay" at once
    answers = await asyncio.gather(*(_start(shop, invoiceIds=[invoice]) for _ in range(10)))
    # then one checkout is made; the other nine are told a payment is in progress
    started = [a for a in answers if a["payment"] is not None]
    refused = [a["userErrors"] for a in answers if a["payment"] is None]
    assert len(started) == 1
    assert started[0]["userErrors"] == []
    assert (
        refused
        == [
            [
                {
                    "field": "invoiceIds",
                    "code": "PAYMENT_IN_PROGRESS",
                    "message": "La factura F-1 ya tiene un pago en curso: espera su resultado.",
                }
            ]
        ]
        * 9
    )
    payments = (await shop.client.data(STATE))["account"]["payments"]["nodes"]
    assert [(p["status"], p["amount"]["amount"]) for p in payments] == [("PENDING", "116.00")]


async def test_ten_concurrent_approvals_settle_once(shop: Shop, database: Database) -> None:
    started = await _start(shop, invoiceIds=[gid("Invoice", shop.invoices[0].id)])
    payment_id = started["payment"]["id"]
    results = await asyncio.gather(
        *(_webhook(shop, payment_id, 11_600, f"evt-{i}") for i in range(10))
    )
    assert sorted(results) == ["already settled"] * 9 + ["approved"]
    assert await _movements(database, shop.account, MovementKind.PAYMENT) == 1
    assert await _receipts(database) == 1
    state = (await shop.client.data(STATE))["account"]
    assert state["balance"] == {"amount": "580.00"}


async def test_a_payment_in_progress_is_taken_off_what_a_new_one_may_pay(shop: Shop) -> None:
    # given a checkout of 600.00 of the 696.00 owed, not yet answered
    assert (await _start(shop, amount="600.00"))["userErrors"] == []
    # then only the rest can be paid meanwhile, and the message says how much
    english = {"Accept-Language": "en"}
    refused = (await shop.client.data(START, {"input": {"amount": "100.00"}}, english))[
        "startPayment"
    ]
    assert refused["userErrors"] == [
        {
            "field": "amount",
            "code": "PAYMENT_IN_PROGRESS",
            "message": "Payments in progress already cover 600.00 MXN: "
            "you can pay up to 96.00 MXN.",
        }
    ]
    all_invoices = [gid("Invoice", i.id) for i in shop.invoices]
    assert [e["code"] for e in (await _start(shop, invoiceIds=all_invoices))["userErrors"]] == [
        "PAYMENT_IN_PROGRESS"
    ]
    assert (await _start(shop, amount="96.00"))["userErrors"] == []


async def test_an_approval_for_more_than_is_owed_is_flagged_for_refund(
    shop: Shop, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    # given three checkouts of the whole balance, each abandoned before the next
    # was started (a reservation lasts PAYMENT_RESERVATION_MINUTES) ...
    ids = []
    for _ in range(3):
        started = await _start(shop, amount="696.00")
        assert started["userErrors"] == []
        ids.append(started["payment"]["id"])
        await _abandoned(database, ids[-1], shop.settings)
    # ... all approved at once by the provider
    results = await asyncio.gather(*(_webhook(shop, i, 69_600, f"evt-{i}") for i in ids))
    assert results == ["approved"] * 3
    # then the balance is paid once; the other two are to be given back
    state = (await shop.client.data(PAYMENTS))["account"]
    assert state["balance"] == {"amount": "0.00"}
    refunds = sorted(
        (p["refundDue"] or {}).get("amount", "none") for p in state["payments"]["nodes"]
    )
    assert refunds == ["696.00", "696.00", "none"]
    assert {p["status"] for p in state["payments"]["nodes"]} == {"SUCCEEDED"}
    assert not any(p["inAdvance"] for p in state["payments"]["nodes"])
    flagged = [a for a in state["activity"]["nodes"] if a["action"] == "PAYMENT_REFUND_DUE"]
    assert len(flagged) == 2
    assert all(a["target"].endswith("696.00 MXN") for a in flagged)
    # only the first reached the ledger
    assert await _movements(database, shop.account, MovementKind.PAYMENT) == 1
    await mail_worker.drain()
    texts = [r.text for r in smtp_server.received]
    assert sum("te lo devolveremos" in t for t in texts) == 2


async def test_a_payment_in_advance_is_credited_whole(shop: Shop, database: Database) -> None:
    # given a balance above the online limit: only paying in advance is offered
    await _owe_20000_more(shop, database)
    started = await _start(shop, amount="25000.00")
    assert started["userErrors"] == []
    # when it is approved for more than is owed (20,696.00)
    assert await _webhook(shop, started["payment"]["id"], 2_500_000, "evt-adv") == "approved"
    # then all of it is a credit in the customer's favour
    state = (await shop.client.data(PAYMENTS))["account"]
    assert state["balance"] == {"amount": "-4304.00"}
    [payment] = state["payments"]["nodes"]
    assert (payment["inAdvance"], payment["refundDue"]) == (True, None)
