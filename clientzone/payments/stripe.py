"""Stripe through its official SDK: Checkout Sessions, Stripe-Signature
webhooks, the payment's state fetched from the API, refunds, listing.

The signature is `t={timestamp},v1={hex}`, HMAC-SHA256 of `{t}.{raw body}` with
the endpoint's signing secret, refused outside PAYMENT_WEBHOOK_TOLERANCE_SECONDS.
Our payment id travels as the session's `client_reference_id` and in the
payment intent's metadata, so a refund or dispute (which name a charge) finds
it. What is posted comes from the payment intent, fetched from the API.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import stripe as sdk

from clientzone.config import Settings
from clientzone.payments.gateway import (
    BadWebhook,
    Checkout,
    CheckoutRequest,
    ProviderError,
    ProviderPayment,
    ProviderState,
    WebhookHint,
    our_id,
)

EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "charge.refunded",
        "charge.dispute.created",
    }
)
# A payment intent's status: https://docs.stripe.com/payments/paymentintents/lifecycle
INTENT_STATES = {
    "succeeded": ProviderState.APPROVED,
    "canceled": ProviderState.DECLINED,
    "requires_payment_method": ProviderState.DECLINED,
}


class Stripe:
    name = "stripe"

    def __init__(self, settings: Settings) -> None:
        assert settings.stripe_secret_key
        assert settings.stripe_webhook_secret
        self.settings = settings
        self.secret = settings.stripe_webhook_secret
        self.client = sdk.StripeClient(
            settings.stripe_secret_key,
            http_client=sdk.RequestsClient(timeout=settings.payment_provider_timeout_seconds),
            max_network_retries=1,
        )

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        currency = request.currency.lower()
        try:
            session = self.client.v1.checkout.sessions.create(
                {
                    "mode": "payment",
                    "client_reference_id": str(request.payment_id),
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": currency,
                                "unit_amount": item.amount_minor,
                                "product_data": {"name": item.title},
                            },
                        }
                        for item in request.items
                    ],
                    "payment_intent_data": {"metadata": {"payment_id": str(request.payment_id)}},
                    "metadata": {"payment_id": str(request.payment_id)},
                    "success_url": request.return_url,
                    "cancel_url": request.return_url,
                },
                {"idempotency_key": f"checkout-{request.payment_id}"},
            )
        except sdk.StripeError as exc:
            raise ProviderError(f"Stripe checkout: {exc.code or exc.http_status}") from exc
        if not session.url:
            raise ProviderError("Stripe checkout: no URL")
        return Checkout(url=session.url, reference=session.id)

    def parse_webhook(
        self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes, now: float
    ) -> WebhookHint | None:
        try:
            sdk.WebhookSignature.verify_header(
                body,
                headers.get("stripe-signature"),
                self.secret,
                self.settings.payment_webhook_tolerance_seconds,
            )
        except sdk.SignatureVerificationError as exc:
            raise BadWebhook("signature") from exc
        try:
            event = json.loads(body)
            kind = str(event["type"])
            thing = event["data"]["object"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadWebhook("malformed event") from exc
        if kind not in EVENTS or not isinstance(thing, dict):
            return None
        if kind.startswith("checkout.session."):
            reference = thing.get("payment_intent") or thing.get("id")
        else:  # a charge, or a dispute of one: both name the payment intent
            reference = thing.get("payment_intent")
        return WebhookHint(reference=str(reference)) if reference else None

    def fetch_payment(self, reference: str) -> ProviderPayment:
        try:
            if reference.startswith("cs_"):
                session = self.client.v1.checkout.sessions.retrieve(reference)
                if not session.payment_intent:
                    return ProviderPayment(
                        payment_id=our_id(session.client_reference_id),
                        reference=reference,
                        state=ProviderState.DECLINED
                        if session.status == "expired"
                        else ProviderState.PENDING,
                        amount_minor=session.amount_total or 0,
                        currency=(session.currency or "").upper(),
                    )
                reference = str(session.payment_intent)
            intent = self.client.v1.payment_intents.retrieve(
                reference, {"expand": ["latest_charge"]}
            )
        except sdk.StripeError as exc:
            raise ProviderError(f"Stripe payment: {exc.code or exc.http_status}") from exc
        return _payment(intent)

    def refund(self, reference: str, amount_minor: int | None, currency: str) -> None:
        params: dict[str, Any] = {"payment_intent": reference}
        if amount_minor is not None:
            params["amount"] = amount_minor
        try:
            self.client.v1.refunds.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": f"refund-{reference}-{amount_minor}"},
            )
        except sdk.StripeError as exc:
            raise ProviderError(f"Stripe refund: {exc.code or exc.http_status}") from exc

    def payments_since(self, since: datetime) -> list[ProviderPayment]:
        try:
            intents = self.client.v1.payment_intents.list(
                {"created": {"gte": int(since.timestamp())}, "limit": 100}
            )
            return [_payment(i) for i in intents.auto_paging_iter() if _ours(i) is not None]
        except sdk.StripeError as exc:
            raise ProviderError(f"Stripe list: {exc.code or exc.http_status}") from exc


def _payment(intent: sdk.PaymentIntent) -> ProviderPayment:
    charge = intent.latest_charge if isinstance(intent.latest_charge, sdk.Charge) else None
    state = INTENT_STATES.get(intent.status, ProviderState.PENDING)
    if charge is not None and charge.disputed:
        state = ProviderState.CHARGED_BACK
    elif charge is not None and charge.refunded:
        state = ProviderState.REFUNDED
    return ProviderPayment(
        payment_id=_ours(intent),
        reference=intent.id,
        state=state,
        amount_minor=intent.amount,
        currency=intent.currency.upper(),
        refunded_minor=charge.amount_refunded if charge is not None else 0,
    )


def _ours(intent: sdk.PaymentIntent) -> uuid.UUID | None:
    metadata = intent.metadata
    return our_id(metadata["payment_id"] if metadata and "payment_id" in metadata else None)
