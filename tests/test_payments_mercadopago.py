"""Mercado Pago: Checkout Pro preferences, signed webhooks, the payment's state
fetched from the API before posting, refunds and chargebacks, concurrency.

Every call goes through the official SDK against an HTTP mock (`responses`),
and every webhook is signed here as Mercado Pago documents it: HMAC-SHA256,
keyed with the application's secret, of `id:{data.id};request-id:{x-request-id};ts:{ts};`,
sent as `x-signature: ts={ts},v1={hex}`.
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

import pytest
import responses
from sqlalchemy import func, select

from clientzone.config import Settings
from clientzone.core.ids import decode_id_of
from clientzone.db import Database
from clientzone.models.ledger import LedgerEntry, MovementKind
from clientzone.models.mail import EmailMessage
from clientzone.payments.gateway import ProviderState
from clientzone.payments.mercadopago import STATES
from tests.helpers import gid
from tests.test_payments import STATE, Shop, open_shop

API = "https://api.mercadopago.com"
TOKEN = "TEST-0000-access-token"
SECRET = "mp-webhook-secret-for-tests"
OPTIONS = "{ account { paymentOptions { onlinePayment { available reasons } } } }"
START = """
mutation($input: StartPaymentInput!) {
  startPayment(input: $input) { payment { id status } redirectUrl userErrors { code } }
}
"""


@pytest.fixture
def mp_api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
async def mp_shop(settings: Settings, database: Database) -> AsyncIterator[Shop]:
    async with open_shop(
        settings,
        database,
        payment_providers={"MXN": "mercadopago"},
        mercadopago_access_token=TOKEN,
        mercadopago_webhook_secret=SECRET,
    ) as shop:
        yield shop


def signed(data_id: str, *, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    request_id = str(uuid.uuid4())
    ts = int(time.time()) if ts is None else ts
    manifest = f"id:{data_id};request-id:{request_id};ts:{ts};"
    digest = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    return {"x-signature": f"ts={ts},v1={digest}", "x-request-id": request_id}


async def notify(shop: Shop, data_id: str, headers: dict[str, str]) -> Any:
    body = {
        "action": "payment.updated",
        "api_version": "v1",
        "data": {"id": data_id},
        "date_created": "2026-12-01T00:00:00Z",
        "id": 12345678,
        "live_mode": False,
        "type": "payment",
        "user_id": "44444",
    }
    return await shop.http.post(
        f"/webhooks/payments/mercadopago?data.id={data_id}&type=payment",
        content=json.dumps(body),
        headers={"content-type": "application/json", **headers},
    )


def mp_payment(
    mock: responses.RequestsMock, data_id: str, payment_gid: str, status: str, amount: str
) -> None:
    ours = decode_id_of("Payment", payment_gid)
    mock.get(
        f"{API}/v1/payments/{data_id}",
        json={
            "id": int(data_id),
            "status": status,
            "status_detail": "accredited",
            "external_reference": str(ours),
            "transaction_amount": float(amount),
            "transaction_amount_refunded": 0,
            "currency_id": "MXN",
        },
    )


async def start(shop: Shop, mock: responses.RequestsMock, **values: Any) -> dict[str, Any]:
    mock.post(
        f"{API}/checkout/preferences",
        json={"id": "123-pref", "init_point": "https://checkout.example/pref/123-pref"},
        status=201,
    )
    answer: dict[str, Any] = (await shop.client.data(START, {"input": values}))["startPayment"]
    return answer


async def movements(database: Database, kind: MovementKind) -> int:
    async with database.session() as session:
        statement = select(func.count()).where(LedgerEntry.kind == kind)
        return int((await session.execute(statement)).scalar_one())


def test_every_documented_status_is_mapped() -> None:
    assert {s: STATES[s] for s in ("approved", "pending", "in_process", "rejected")} == {
        "approved": ProviderState.APPROVED,
        "pending": ProviderState.PENDING,
        "in_process": ProviderState.PENDING,
        "rejected": ProviderState.DECLINED,
    }
    assert STATES["refunded"] is ProviderState.REFUNDED
    assert STATES["charged_back"] is ProviderState.CHARGED_BACK


async def test_without_keys_mercado_pago_is_not_offered(
    settings: Settings, database: Database
) -> None:
    async with open_shop(settings, database, payment_providers={"MXN": "mercadopago"}) as shop:
        options = (await shop.client.data(OPTIONS))["account"]["paymentOptions"]
        assert options["onlinePayment"] == {
            "available": False,
            "reasons": ["PROVIDER_NOT_CONFIGURED"],
        }
        answer = (await shop.client.data(START, {"input": {"amount": "100.00"}}))["startPayment"]
        assert answer["payment"] is None
        assert [e["code"] for e in answer["userErrors"]] == ["NOT_AVAILABLE"]
        # the webhook of an unconfigured provider does not exist
        assert (await notify(shop, "1", signed("1"))).status_code == 404


async def test_a_currency_without_provider_is_not_offered(
    settings: Settings, database: Database
) -> None:
    async with open_shop(settings, database, payment_providers={"MXN": "none"}) as shop:
        options = (await shop.client.data(OPTIONS))["account"]["paymentOptions"]
        assert options["onlinePayment"]["reasons"] == ["NO_PROVIDER_FOR_CURRENCY"]


async def test_checkout_pro_preference_has_the_invoices_and_our_payment_id(
    mp_shop: Shop, mp_api: responses.RequestsMock
) -> None:
    assert (await mp_shop.client.data(OPTIONS))["account"]["paymentOptions"]["onlinePayment"] == {
        "available": True,
        "reasons": [],
    }
    invoices = [gid("Invoice", i.id) for i in mp_shop.invoices[:2]]
    answer = await start(mp_shop, mp_api, invoiceIds=invoices)
    assert answer["userErrors"] == []
    assert answer["redirectUrl"] == "https://checkout.example/pref/123-pref"
    [call] = mp_api.calls
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    payment_id = decode_id_of("Payment", answer["payment"]["id"])
    assert call.request.headers["x-idempotency-key"] == f"checkout-{payment_id}"
    sent = json.loads(call.request.body or b"")
    items = sent["items"]
    assert [(i["title"], i["quantity"], i["unit_price"], i["currency_id"]) for i in items] == [
        ("Factura F-1", 1, 116.0, "MXN"),
        ("Factura F-2", 1, 232.0, "MXN"),
    ]
    assert sent["external_reference"] == str(payment_id)
    back = f"http://127.0.0.1:8000/payments/{answer['payment']['id']}"
    assert sent["back_urls"] == {"success": back, "pending": back, "failure": back}
    assert sent["auto_return"] == "approved"


async def test_a_provider_that_refuses_the_checkout_frees_the_reservation(
    mp_shop: Shop, mp_api: responses.RequestsMock
) -> None:
    mp_api.post(f"{API}/checkout/preferences", json={"message": "bad"}, status=400)
    answer = (await mp_shop.client.data(START, {"input": {"amount": "100.00"}}))["startPayment"]
    assert answer["payment"] is None
    assert [e["code"] for e in answer["userErrors"]] == ["PROVIDER_UNAVAILABLE"]
    payments = (await mp_shop.client.data(STATE))["account"]["payments"]["nodes"]
    assert [p["status"] for p in payments] == ["FAILED"]
    again = await start(mp_shop, mp_api, amount="100.00")
    assert again["userErrors"] == []


async def test_a_signed_notification_posts_the_state_fetched_from_the_api_once(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(mp_shop, mp_api, amount="116.00")
    payment = answer["payment"]["id"]
    mp_payment(mp_api, "900001", payment, "in_process", "116.00")
    pending = await notify(mp_shop, "900001", signed("900001"))
    assert pending.json() == {"result": "ignored"}
    assert await movements(database, MovementKind.PAYMENT) == 0
    mp_api.remove(responses.GET, f"{API}/v1/payments/900001")
    mp_payment(mp_api, "900001", payment, "approved", "116.00")
    first = await notify(mp_shop, "900001", signed("900001"))
    assert first.json() == {"result": "approved"}
    fetched = [c for c in mp_api.calls if c.request.method == "GET"]
    assert fetched[-1].request.url == f"{API}/v1/payments/900001"
    assert fetched[-1].request.headers["Authorization"] == f"Bearer {TOKEN}"
    # a second notification of the same state, with its own request id
    again = await notify(mp_shop, "900001", signed("900001"))
    assert again.json() == {"result": "duplicate"}
    assert await movements(database, MovementKind.PAYMENT) == 1
    state = (await mp_shop.client.data(STATE))["account"]
    assert state["invoices"]["nodes"][0]["status"] == "PAID"


async def test_forged_stale_and_replayed_notifications_are_refused(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(mp_shop, mp_api, amount="116.00")
    mp_payment(mp_api, "900002", answer["payment"]["id"], "approved", "116.00")
    forged = await notify(mp_shop, "900002", signed("900002", secret="not-the-secret-at-all"))
    assert forged.status_code == 400
    unsigned = await notify(mp_shop, "900002", {})
    assert unsigned.status_code == 400
    other_id = signed("900003")  # signed for another payment
    assert (await notify(mp_shop, "900002", other_id)).status_code == 400
    stale = await notify(mp_shop, "900002", signed("900002", ts=int(time.time()) - 3600))
    assert stale.status_code == 400
    assert not [c for c in mp_api.calls if c.request.method == "GET"]
    assert await movements(database, MovementKind.PAYMENT) == 0
    headers = signed("900002")
    assert (await notify(mp_shop, "900002", headers)).json() == {"result": "approved"}
    # the very same request again (a replay within the window) changes nothing
    assert (await notify(mp_shop, "900002", headers)).json() == {"result": "duplicate"}
    assert await movements(database, MovementKind.PAYMENT) == 1


async def test_a_rejected_payment_posts_nothing(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(mp_shop, mp_api, amount="116.00")
    mp_payment(mp_api, "900004", answer["payment"]["id"], "rejected", "116.00")
    assert (await notify(mp_shop, "900004", signed("900004"))).json() == {"result": "declined"}
    assert await movements(database, MovementKind.PAYMENT) == 0


async def test_a_declined_card_then_one_that_works_posts_the_second(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database
) -> None:
    # Checkout Pro makes one Mercado Pago payment per attempt, all with our reference.
    answer = await start(mp_shop, mp_api, amount="116.00")
    payment = answer["payment"]["id"]
    mp_payment(mp_api, "900010", payment, "rejected", "116.00")
    mp_payment(mp_api, "900011", payment, "approved", "116.00")
    assert (await notify(mp_shop, "900010", signed("900010"))).json() == {"result": "declined"}
    assert (await notify(mp_shop, "900011", signed("900011"))).json() == {"result": "approved"}
    # the rejected attempt announced again, or refunded, does not touch the payment
    mp_api.remove(responses.GET, f"{API}/v1/payments/900010")
    mp_payment(mp_api, "900010", payment, "refunded", "116.00")
    assert (await notify(mp_shop, "900010", signed("900010"))).json() == {
        "result": "another attempt"
    }
    assert await movements(database, MovementKind.PAYMENT) == 1
    assert await movements(database, MovementKind.REFUND) == 0


@pytest.mark.parametrize("status", ["refunded", "charged_back"])
async def test_a_refund_or_chargeback_reverses_the_payment(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database, status: str
) -> None:
    answer = await start(mp_shop, mp_api, invoiceIds=[gid("Invoice", mp_shop.invoices[0].id)])
    payment = answer["payment"]["id"]
    mp_payment(mp_api, "900005", payment, "approved", "116.00")
    assert (await notify(mp_shop, "900005", signed("900005"))).json() == {"result": "approved"}
    mp_api.remove(responses.GET, f"{API}/v1/payments/900005")
    mp_payment(mp_api, "900005", payment, status, "116.00")
    assert (await notify(mp_shop, "900005", signed("900005"))).json() == {"result": status}
    assert (await notify(mp_shop, "900005", signed("900005"))).json() == {"result": "duplicate"}
    assert await movements(database, MovementKind.REFUND) == 1
    state = (await mp_shop.client.data(STATE))["account"]
    assert state["balance"] == {"amount": "696.00"}
    assert state["invoices"]["nodes"][0]["status"] != "PAID"
    assert state["invoices"]["nodes"][0]["amountPaid"] == {"amount": "0.00"}
    assert [p["status"] for p in state["payments"]["nodes"]] == ["REFUNDED"]


async def test_concurrent_notifications_post_once_with_one_receipt(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(mp_shop, mp_api, amount="116.00")
    mp_payment(mp_api, "900006", answer["payment"]["id"], "approved", "116.00")
    results = await asyncio.gather(*(notify(mp_shop, "900006", signed("900006")) for _ in range(8)))
    assert sorted(r.json()["result"] for r in results) == ["approved"] + ["duplicate"] * 7
    assert await movements(database, MovementKind.PAYMENT) == 1
    async with database.session() as session:
        receipts = select(func.count()).where(EmailMessage.template == "payment_receipt")
        assert (await session.execute(receipts)).scalar_one() == 1
