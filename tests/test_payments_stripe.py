"""Stripe: Checkout Sessions with line items and idempotency keys, webhooks
signed as Stripe documents (`Stripe-Signature: t={t},v1={hex}`, HMAC-SHA256 of
`{t}.{body}` with the endpoint's secret), the payment intent fetched from the
API before posting, refunds and disputes, concurrency.

Every call goes through the official SDK (which sends with `requests` when it
is installed) against an HTTP mock (`responses`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from sqlalchemy import func, select

from clientzone.config import Settings
from clientzone.core.ids import decode_id_of
from clientzone.db import Database
from clientzone.importers.billing import import_billing
from clientzone.models.ledger import LedgerEntry, MovementKind
from clientzone.models.mail import EmailMessage
from tests.helpers import gid
from tests.test_payments import STATE, Shop, open_shop

API = "https://api.stripe.com"
KEY = "sk_test_0000000000"
SECRET = "whsec_test_secret_for_tests"
START = """
mutation($input: StartPaymentInput!) {
  startPayment(input: $input) { payment { id status } redirectUrl userErrors { code } }
}
"""


@pytest.fixture
def stripe_api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
async def stripe_shop(settings: Settings, database: Database) -> AsyncIterator[Shop]:
    async with open_shop(
        settings,
        database,
        payment_providers={"MXN": "stripe"},
        stripe_secret_key=KEY,
        stripe_webhook_secret=SECRET,
    ) as shop:
        yield shop


def sign(payload: bytes, *, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    t = int(time.time()) if ts is None else ts
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={digest}", "content-type": "application/json"}


def event(kind: str, thing: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": thing},
        }
    ).encode()


async def deliver(shop: Shop, payload: bytes, headers: dict[str, str]) -> Any:
    return await shop.http.post("/webhooks/payments/stripe", content=payload, headers=headers)


def intent(
    mock: responses.RequestsMock,
    payment_gid: str,
    status: str = "succeeded",
    *,
    refunded: bool = False,
    disputed: bool = False,
    amount_refunded: int | None = None,
) -> None:
    mock.get(
        f"{API}/v1/payment_intents/pi_1",
        json={
            "id": "pi_1",
            "object": "payment_intent",
            "status": status,
            "amount": 11600,
            "currency": "mxn",
            "metadata": {"payment_id": str(decode_id_of("Payment", payment_gid))},
            "latest_charge": {
                "id": "ch_1",
                "object": "charge",
                "refunded": refunded,
                "disputed": disputed,
                "amount_refunded": (
                    amount_refunded if amount_refunded is not None else 11600 if refunded else 0
                ),
            },
        },
    )


async def start(shop: Shop, mock: responses.RequestsMock, **values: Any) -> dict[str, Any]:
    mock.post(
        f"{API}/v1/checkout/sessions",
        json={"id": "cs_test_1", "object": "checkout.session", "url": "https://pay.example/cs1"},
    )
    answer: dict[str, Any] = (await shop.client.data(START, {"input": values}))["startPayment"]
    return answer


async def movements(database: Database, kind: MovementKind) -> int:
    async with database.session() as session:
        statement = select(func.count()).where(LedgerEntry.kind == kind)
        return int((await session.execute(statement)).scalar_one())


async def test_a_checkout_session_in_the_invoice_currency(
    stripe_shop: Shop, stripe_api: responses.RequestsMock
) -> None:
    answer = await start(
        stripe_shop, stripe_api, invoiceIds=[gid("Invoice", stripe_shop.invoices[0].id)]
    )
    assert answer["userErrors"] == []
    assert answer["redirectUrl"] == "https://pay.example/cs1"
    [call] = stripe_api.calls
    ours = str(decode_id_of("Payment", answer["payment"]["id"]))
    assert call.request.headers["Authorization"] == f"Bearer {KEY}"
    assert call.request.headers["Idempotency-Key"] == f"checkout-{ours}"
    body = call.request.body
    form = parse_qs(body if isinstance(body, str) else (body or b"").decode())
    assert form["mode"] == ["payment"]
    assert form["client_reference_id"] == [ours]
    assert form["line_items[0][price_data][currency]"] == ["mxn"]
    assert form["line_items[0][price_data][unit_amount]"] == ["11600"]
    assert form["line_items[0][price_data][product_data][name]"] == ["Factura F-1"]
    assert form["line_items[0][quantity]"] == ["1"]
    assert form["payment_intent_data[metadata][payment_id]"] == [ours]
    back = f"http://127.0.0.1:8000/payments/{answer['payment']['id']}"
    assert form["success_url"] == [back]
    assert form["cancel_url"] == [back]


async def test_a_completed_session_posts_the_intent_fetched_from_the_api_once(
    stripe_shop: Shop, stripe_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(stripe_shop, stripe_api, amount="116.00")
    intent(stripe_api, answer["payment"]["id"])
    session = {"id": "cs_test_1", "object": "checkout.session", "payment_intent": "pi_1"}
    payload = event("checkout.session.completed", session)
    assert (await deliver(stripe_shop, payload, sign(payload))).json() == {"result": "approved"}
    fetched = stripe_api.calls[-1].request
    assert fetched.method == "GET"
    assert fetched.url == f"{API}/v1/payment_intents/pi_1?expand%5B0%5D=latest_charge"
    # the same event again, then async_payment_succeeded for the same intent
    assert (await deliver(stripe_shop, payload, sign(payload))).json() == {"result": "duplicate"}
    later = event("checkout.session.async_payment_succeeded", session)
    assert (await deliver(stripe_shop, later, sign(later))).json() == {"result": "duplicate"}
    ignored = event("customer.created", {"id": "cus_1"})
    assert (await deliver(stripe_shop, ignored, sign(ignored))).json() == {"result": "ignored"}
    assert await movements(database, MovementKind.PAYMENT) == 1


async def test_forged_and_stale_signatures_are_refused(
    stripe_shop: Shop, stripe_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(stripe_shop, stripe_api, amount="116.00")
    intent(stripe_api, answer["payment"]["id"])
    payload = event("checkout.session.completed", {"id": "cs_test_1", "payment_intent": "pi_1"})
    forged = sign(payload, secret="whsec_someone_else")
    stale = sign(payload, ts=int(time.time()) - 3600)
    tampered = sign(payload)
    for headers in (forged, stale, {"content-type": "application/json"}):
        assert (await deliver(stripe_shop, payload, headers)).status_code == 400
    assert (await deliver(stripe_shop, payload + b" ", tampered)).status_code == 400
    assert len(stripe_api.calls) == 1  # only the checkout: nothing fetched
    assert await movements(database, MovementKind.PAYMENT) == 0


async def test_a_failed_async_payment_posts_nothing(
    stripe_shop: Shop, stripe_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(stripe_shop, stripe_api, amount="116.00")
    intent(stripe_api, answer["payment"]["id"], "requires_payment_method")
    payload = event(
        "checkout.session.async_payment_failed", {"id": "cs_test_1", "payment_intent": "pi_1"}
    )
    assert (await deliver(stripe_shop, payload, sign(payload))).json() == {"result": "declined"}
    assert await movements(database, MovementKind.PAYMENT) == 0


@pytest.mark.parametrize(
    ("kind", "flags", "result"),
    [
        ("charge.refunded", {"refunded": True}, "refunded"),
        ("charge.dispute.created", {"disputed": True}, "charged_back"),
    ],
)
async def test_a_refund_or_dispute_reverses_the_payment(
    stripe_shop: Shop,
    stripe_api: responses.RequestsMock,
    database: Database,
    kind: str,
    flags: dict[str, bool],
    result: str,
) -> None:
    answer = await start(stripe_shop, stripe_api, amount="116.00")
    intent(stripe_api, answer["payment"]["id"])
    paid = event("checkout.session.completed", {"id": "cs_test_1", "payment_intent": "pi_1"})
    assert (await deliver(stripe_shop, paid, sign(paid))).json() == {"result": "approved"}
    stripe_api.remove(responses.GET, f"{API}/v1/payment_intents/pi_1")
    intent(stripe_api, answer["payment"]["id"], **flags)
    thing = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "charge": "ch_1"}
    payload = event(kind, thing)
    assert (await deliver(stripe_shop, payload, sign(payload))).json() == {"result": result}
    assert await movements(database, MovementKind.REFUND) == 1
    state = (await stripe_shop.client.data(STATE))["account"]
    assert state["balance"] == {"amount": "696.00"}
    assert [p["status"] for p in state["payments"]["nodes"]] == ["REFUNDED"]


async def test_a_partial_refund_gives_back_that_much_then_the_rest(
    stripe_shop: Shop, stripe_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(stripe_shop, stripe_api, amount="116.00")
    intent(stripe_api, answer["payment"]["id"])
    paid = event("checkout.session.completed", {"id": "cs_test_1", "payment_intent": "pi_1"})
    assert (await deliver(stripe_shop, paid, sign(paid))).json() == {"result": "approved"}
    thing = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1"}
    for amount_refunded, result, balance, status in (
        (4000, "partly refunded", "620.00", "SUCCEEDED"),
        (4000, "duplicate", "620.00", "SUCCEEDED"),  # the same total again
        (11600, "refunded", "696.00", "REFUNDED"),
    ):
        stripe_api.remove(responses.GET, f"{API}/v1/payment_intents/pi_1")
        intent(
            stripe_api,
            answer["payment"]["id"],
            refunded=amount_refunded == 11600,
            amount_refunded=amount_refunded,
        )
        payload = event("charge.refunded", thing)
        assert (await deliver(stripe_shop, payload, sign(payload))).json() == {"result": result}
        state = (await stripe_shop.client.data(STATE))["account"]
        assert state["balance"] == {"amount": balance}
        assert [p["status"] for p in state["payments"]["nodes"]] == [status]
    assert await movements(database, MovementKind.REFUND) == 2


async def test_concurrent_deliveries_post_once_with_one_receipt(
    stripe_shop: Shop, stripe_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(stripe_shop, stripe_api, amount="116.00")
    intent(stripe_api, answer["payment"]["id"])
    session = {"id": "cs_test_1", "payment_intent": "pi_1"}
    payloads = [
        event(kind, session)
        for kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded")
        for _ in range(4)
    ]
    results = await asyncio.gather(*(deliver(stripe_shop, p, sign(p)) for p in payloads))
    assert sorted(r.json()["result"] for r in results) == ["approved"] + ["duplicate"] * 7
    assert await movements(database, MovementKind.PAYMENT) == 1
    async with database.session() as session_:
        receipts = select(func.count()).where(EmailMessage.template == "payment_receipt")
        assert (await session_.execute(receipts)).scalar_one() == 1


async def test_a_branded_account_comes_back_to_its_brands_portal(
    stripe_shop: Shop, stripe_api: responses.RequestsMock, database: Database
) -> None:
    account = stripe_shop.account
    brand = {
        "type": "brand",
        "code": "acme-net",
        "companyName": "Acme Net",
        "supportEmail": "ayuda@acme-net.example",
        "fromAddress": "avisos@acme-net.example",
        "portalUrl": "https://clientes.acme-net.example/",
    }
    line = {"type": "account", "number": account.number, "name": account.name}
    lines = [json.dumps(brand), json.dumps(line | {"currency": "MXN", "brand": "acme-net"})]
    assert (await import_billing(database, lines)).errors == []
    answer = await start(stripe_shop, stripe_api, amount="116.00")
    body = stripe_api.calls[0].request.body
    form = parse_qs(body if isinstance(body, str) else (body or b"").decode())
    back = f"https://clientes.acme-net.example/payments/{answer['payment']['id']}"
    assert form["success_url"] == [back]
