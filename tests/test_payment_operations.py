"""Staff and worker tasks on online payments: refunds through the provider,
expiry of checkouts never completed, reconciliation finding a missed payment,
and the `clientzone payments` commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import responses
from sqlalchemy import select, update

from clientzone.config import Settings
from clientzone.core.ids import decode_id_of
from clientzone.db import Database
from clientzone.models.activity import ActivityAction, ActivityEntry
from clientzone.models.ledger import MovementKind
from clientzone.models.payments import Payment
from clientzone.payments import operations
from tests.helpers import gid
from tests.test_cli import run_cli
from tests.test_payments import STATE, Shop, open_shop, shop
from tests.test_payments_mercadopago import (
    API,
    movements,
    mp_api,
    mp_payment,
    mp_shop,
    notify,
    signed,
    start,
)

__all__ = ["mp_api", "mp_shop", "shop"]  # the fixtures this module uses


async def _approved(shop: Shop, mock: responses.RequestsMock, data_id: str) -> str:
    answer = await start(shop, mock, invoiceIds=[gid("Invoice", shop.invoices[0].id)])
    payment: str = answer["payment"]["id"]
    mp_payment(mock, data_id, payment, "approved", "116.00")
    assert (await notify(shop, data_id, signed(data_id))).json() == {"result": "approved"}
    return payment


async def test_staff_refund_goes_through_the_provider_and_posts_once(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database
) -> None:
    payment = await _approved(mp_shop, mp_api, "910001")
    mp_api.post(f"{API}/v1/payments/910001/refunds", json={"id": 1, "status": "approved"})
    mp_api.remove(responses.GET, f"{API}/v1/payments/910001")
    mp_payment(mp_api, "910001", payment, "refunded", "116.00")
    key = str(decode_id_of("Payment", payment))
    assert await operations.refund(database, mp_shop.settings, key) == "refunded"
    [asked] = [c for c in mp_api.calls if c.request.url.endswith("/refunds")]
    assert asked.request.headers["x-idempotency-key"] == "refund-910001-None"
    assert json.loads(asked.request.body or b"{}") == {}  # in full
    # the provider's webhook announcing it changes nothing
    assert (await notify(mp_shop, "910001", signed("910001"))).json() == {"result": "duplicate"}
    assert await movements(database, MovementKind.REFUND) == 1
    state = (await mp_shop.client.data(STATE))["account"]
    assert state["invoices"]["nodes"][0]["amountPaid"] == {"amount": "0.00"}


async def test_a_checkout_never_completed_expires_and_another_can_start(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database
) -> None:
    invoice = gid("Invoice", mp_shop.invoices[0].id)
    first = await start(mp_shop, mp_api, invoiceIds=[invoice])
    assert (await start(mp_shop, mp_api, invoiceIds=[invoice]))["userErrors"] == [
        {"code": "PAYMENT_IN_PROGRESS"}
    ]
    assert await operations.expire_pending(database, mp_shop.settings) == 0
    long_ago = datetime.now(UTC) - timedelta(minutes=mp_shop.settings.payment_expiry_minutes + 1)
    async with database.transaction() as session:
        await session.execute(
            update(Payment)
            .where(Payment.id == decode_id_of("Payment", first["payment"]["id"]))
            .values(created_at=long_ago)
        )
    assert await operations.expire_pending(database, mp_shop.settings) == 1
    payments = (await mp_shop.client.data(STATE))["account"]["payments"]["nodes"]
    assert [p["status"] for p in payments] == ["EXPIRED"]
    async with database.session() as session:
        actions = (await session.execute(select(ActivityEntry.action))).scalars().all()
    assert ActivityAction.PAYMENT_EXPIRED in actions
    assert (await start(mp_shop, mp_api, invoiceIds=[invoice]))["userErrors"] == []


async def test_reconcile_finds_a_missed_payment_and_fixes_it(
    mp_shop: Shop, mp_api: responses.RequestsMock, database: Database
) -> None:
    answer = await start(mp_shop, mp_api, amount="116.00")
    ours = str(decode_id_of("Payment", answer["payment"]["id"]))
    found = {
        "id": 920001,
        "status": "approved",
        "external_reference": ours,
        "transaction_amount": 116.0,
        "currency_id": "MXN",
    }
    stranger = {**found, "id": 920002, "external_reference": "not ours"}
    mp_api.get(
        f"{API}/v1/payments/search",
        json={"results": [found, stranger], "paging": {"total": 2, "limit": 100, "offset": 0}},
    )
    since = datetime(2026, 11, 1, tzinfo=UTC)
    [difference] = await operations.reconcile(database, mp_shop.settings, since, fix=False)
    assert "provider approved, ours PENDING" in str(difference)
    searched = mp_api.calls[-1].request.url
    assert "range=date_created" in searched
    assert "begin_date=2026-11-01T00%3A00%3A00.000Z" in searched
    assert await movements(database, MovementKind.PAYMENT) == 0
    [fixed] = await operations.reconcile(database, mp_shop.settings, since, fix=True)
    assert fixed.fixed == "approved"
    assert await movements(database, MovementKind.PAYMENT) == 1
    assert await operations.reconcile(database, mp_shop.settings, since, fix=False) == []


async def test_the_payments_commands(database_url: str, shop: Shop, database: Database) -> None:
    started = (
        await shop.client.data(
            "mutation($i: StartPaymentInput!) { startPayment(input: $i) { redirectUrl } }",
            {"i": {"amount": "116.00"}},
        )
    )["startPayment"]
    url = started["redirectUrl"].replace("http://127.0.0.1:8000", "")
    await shop.http.post(url, data={"outcome": "approved"})
    reference = (await shop.client.data(STATE))["account"]["payments"]["nodes"][0]["reference"]
    refunded = run_cli("payments", "refund", reference, database_url=database_url)
    assert (refunded.returncode, refunded.stdout.strip()) == (0, "refunded"), refunded.stderr
    again = run_cli("payments", "refund", reference, database_url=database_url)
    assert again.returncode == 1
    assert "only a settled online payment" in again.stderr
    reconciled = run_cli(
        "payments", "reconcile", "--since", "2026-11-01", database_url=database_url
    )
    assert (reconciled.returncode, reconciled.stdout.strip()) == (0, "0 differences")
    expired = run_cli("payments", "expire", database_url=database_url)
    assert (expired.returncode, expired.stdout.strip()) == (0, "0 expired")
    assert await movements(database, MovementKind.REFUND) == 1


async def test_reconcile_asks_stripe_for_its_payment_intents(
    settings: Settings, database: Database
) -> None:
    async with open_shop(
        settings,
        database,
        payment_providers={"MXN": "stripe"},
        stripe_secret_key="sk_test_0000000000",
        stripe_webhook_secret="whsec_test_secret_for_tests",
    ) as shop:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
            api.post(
                "https://api.stripe.com/v1/checkout/sessions",
                json={"id": "cs_1", "object": "checkout.session", "url": "https://pay.example/1"},
            )
            answer = await start_stripe(shop, amount="116.00")
            ours = str(decode_id_of("Payment", answer))
            missed = {
                "id": "pi_9",
                "object": "payment_intent",
                "status": "succeeded",
                "amount": 11600,
                "currency": "mxn",
                "metadata": {"payment_id": ours},
                "latest_charge": None,
            }
            api.get(
                "https://api.stripe.com/v1/payment_intents",
                json={
                    "object": "list",
                    "data": [missed],
                    "has_more": False,
                    "url": "/v1/payment_intents",
                },
            )
            since = datetime(2026, 11, 1, tzinfo=UTC)
            [fixed] = await operations.reconcile(database, shop.settings, since, fix=True)
            listed = api.calls[-1].request.url
        assert "created%5Bgte%5D=" + str(int(since.timestamp())) in listed
        assert fixed.fixed == "approved"
        assert await movements(database, MovementKind.PAYMENT) == 1


async def start_stripe(shop: Shop, **values: str) -> str:
    started = (
        await shop.client.data(
            "mutation($i: StartPaymentInput!) { startPayment(input: $i) { payment { id } } }",
            {"i": values},
        )
    )["startPayment"]
    payment: str = started["payment"]["id"]
    return payment
