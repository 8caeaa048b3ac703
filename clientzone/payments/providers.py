"""Payment providers. One is built in: `sandbox`, a local checkout page that
approves or declines, for development and tests only.

A provider gives the URL to send the customer to, and turns a signed webhook
request into an event. Webhooks are signed with HMAC-SHA256 over the raw body
(`X-Signature: sha256=<hex>`), keyed with PAYMENT_WEBHOOK_SECRET (by default
derived from SECRET_KEY).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from enum import StrEnum

from clientzone.config import Settings
from clientzone.payments.gateway import BadWebhook

__all__ = ["BadWebhook", "EventOutcome", "ProviderEvent"]


class EventOutcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    REFUNDED = "refunded"  # given back by the provider (a real provider's refund)
    CHARGED_BACK = "charged_back"  # disputed by the customer's bank and lost


@dataclass(frozen=True)
class ProviderEvent:
    event_id: str
    payment_id: uuid.UUID
    outcome: EventOutcome
    amount_minor: int
    currency: str
    reference: str | None = None  # the provider's id of the payment


def webhook_secret(settings: Settings) -> bytes:
    if settings.payment_webhook_secret:
        return settings.payment_webhook_secret.encode()
    return settings.key("payments-sandbox-webhook")


def signature(settings: Settings, body: bytes) -> str:
    return "sha256=" + hmac.new(webhook_secret(settings), body, hashlib.sha256).hexdigest()


def parse_webhook(settings: Settings, body: bytes, signature_header: str | None) -> ProviderEvent:
    if not signature_header or not hmac.compare_digest(
        signature_header.encode(), signature(settings, body).encode()
    ):
        raise BadWebhook("bad signature")
    try:
        data = json.loads(body)
        return ProviderEvent(
            event_id=str(data["id"])[:100],
            payment_id=uuid.UUID(str(data["payment_id"])),
            outcome=EventOutcome(data["status"]),
            amount_minor=int(data["amount_minor"]),
            currency=str(data["currency"]).upper(),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BadWebhook("malformed event") from exc


def sandbox_event_body(
    payment_id: uuid.UUID, outcome: EventOutcome, amount: int, currency: str
) -> bytes:
    """What the sandbox 'provider' sends when its page is clicked."""
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "payment_id": str(payment_id),
            "status": outcome.value,
            "amount_minor": amount,
            "currency": currency,
        }
    ).encode()


def checkout_url(settings: Settings, payment_id: uuid.UUID) -> str:
    return f"{settings.public_base_url}/payments/sandbox/{payment_id}"
