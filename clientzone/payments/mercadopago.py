"""Mercado Pago through its official SDK: Checkout Pro preferences, signed
webhooks (x-signature), payments fetched from the API, refunds, search.

The webhook's manifest is `id:{data.id};request-id:{x-request-id};ts:{ts};`,
HMAC-SHA256 with the application's secret signature; `ts` is in seconds and
must be within PAYMENT_WEBHOOK_TOLERANCE_SECONDS of now.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import mercadopago  # type: ignore[import-untyped]
from mercadopago.config import RequestOptions  # type: ignore[import-untyped]
from mercadopago.webhook import (  # type: ignore[import-untyped]
    InvalidWebhookSignatureError,
    WebhookSignatureValidator,
)

from clientzone.config import Settings
from clientzone.core.money import from_minor, to_minor
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

# https://www.mercadopago.com/developers: a payment's `status`.
STATES = {
    "approved": ProviderState.APPROVED,
    "authorized": ProviderState.PENDING,
    "pending": ProviderState.PENDING,
    "in_process": ProviderState.PENDING,
    "in_mediation": ProviderState.PENDING,
    "rejected": ProviderState.DECLINED,
    "cancelled": ProviderState.DECLINED,
    "refunded": ProviderState.REFUNDED,
    "charged_back": ProviderState.CHARGED_BACK,
}


class MercadoPago:
    name = "mercadopago"

    def __init__(self, settings: Settings) -> None:
        assert settings.mercadopago_access_token
        assert settings.mercadopago_webhook_secret
        self.settings = settings
        self.secret = settings.mercadopago_webhook_secret
        self.sdk = mercadopago.SDK(
            settings.mercadopago_access_token,
            request_options=RequestOptions(
                connection_timeout=settings.payment_provider_timeout_seconds, max_retries=1
            ),
        )

    def _options(self, idempotency_key: str) -> Any:
        return RequestOptions(
            access_token=self.settings.mercadopago_access_token,
            connection_timeout=self.settings.payment_provider_timeout_seconds,
            max_retries=1,
            custom_headers={"x-idempotency-key": idempotency_key},
        )

    @staticmethod
    def _body(result: Mapping[str, Any], what: str) -> dict[str, Any]:
        status = int(result.get("status", 0))
        body = result.get("response")
        if not 200 <= status < 300 or not isinstance(body, dict):
            raise ProviderError(f"Mercado Pago {what}: HTTP {status}")
        return body

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        preference = {
            "items": [
                {
                    "id": f"{request.payment_id}-{n}",
                    "title": item.title,
                    "quantity": 1,
                    "currency_id": request.currency,
                    "unit_price": float(from_minor(item.amount_minor, request.currency)),
                }
                for n, item in enumerate(request.items, 1)
            ],
            "external_reference": str(request.payment_id),
            "back_urls": {
                "success": request.return_url,
                "pending": request.return_url,
                "failure": request.return_url,
            },
            "auto_return": "approved",
            "statement_descriptor": "CLIENTZONE",
        }
        result = self.sdk.preference().create(
            preference, request_options=self._options(f"checkout-{request.payment_id}")
        )
        body = self._body(result, "preference")
        return Checkout(url=str(body["init_point"]), reference=str(body["id"]))

    def parse_webhook(
        self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes, now: float
    ) -> WebhookHint | None:
        data_id = query.get("data.id")
        try:
            event = json.loads(body) if body else {}
            if not data_id and isinstance(event, dict):
                data_id = str((event.get("data") or {}).get("id") or "") or None
        except (ValueError, AttributeError) as exc:
            raise BadWebhook("malformed event") from exc
        # Alphanumeric ids are signed in lower case (numeric ones are unchanged).
        signed_id = data_id.lower() if data_id else None
        try:
            WebhookSignatureValidator.validate(
                headers.get("x-signature"),
                headers.get("x-request-id"),
                signed_id,
                self.secret,
                tolerance_seconds=self.settings.payment_webhook_tolerance_seconds,
                now=lambda: int(now * 1000),
            )
        except InvalidWebhookSignatureError as exc:
            raise BadWebhook(f"signature: {exc.reason.value}") from exc
        kind = query.get("type") or query.get("topic") or (event or {}).get("type")
        if kind != "payment" or not data_id:
            return None
        return WebhookHint(reference=data_id)

    def fetch_payment(self, reference: str) -> ProviderPayment:
        result = self.sdk.payment().get(reference)
        return _payment(self._body(result, "payment"))

    def refund(self, reference: str, amount_minor: int | None, currency: str) -> None:
        refund: dict[str, Any] = {}
        if amount_minor is not None:
            refund["amount"] = float(from_minor(amount_minor, currency))
        result = self.sdk.refund().create(
            reference,
            refund,
            request_options=self._options(f"refund-{reference}-{amount_minor}"),
        )
        self._body(result, "refund")

    def payments_since(self, since: datetime) -> list[ProviderPayment]:
        found: list[ProviderPayment] = []
        offset = 0
        while True:
            result = self.sdk.payment().search(
                {
                    "range": "date_created",
                    "begin_date": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "end_date": "NOW",
                    "sort": "date_created",
                    "criteria": "asc",
                    "limit": 100,
                    "offset": offset,
                }
            )
            body = self._body(result, "search")
            rows = [r for r in body.get("results") or [] if isinstance(r, dict)]
            found += [_payment(r) for r in rows]
            total = int((body.get("paging") or {}).get("total") or 0)
            offset += len(rows)
            if not rows or offset >= total:
                return found


def _payment(body: Mapping[str, Any]) -> ProviderPayment:
    try:
        currency = str(body["currency_id"]).upper()
        return ProviderPayment(
            payment_id=our_id(body.get("external_reference")),
            reference=str(body["id"]),
            state=STATES.get(str(body["status"]), ProviderState.PENDING),
            amount_minor=to_minor(Decimal(str(body["transaction_amount"])), currency),
            currency=currency,
            refunded_minor=to_minor(
                Decimal(str(body.get("transaction_amount_refunded") or 0)), currency
            ),
        )
    except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
        raise ProviderError("Mercado Pago payment: unexpected answer") from exc
