"""The interface every real payment provider implements, kept small: create a
checkout, verify and parse a webhook, fetch a payment's state, refund, and list
payments for reconciliation.

Provider SDKs block: the service calls these methods through `call`, in a
thread with a timeout, and never while it holds a database connection. A
webhook is only a hint: what is posted is the state fetched from the provider.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from clientzone.config import Environment, Settings


class ProviderState(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    DECLINED = "declined"
    REFUNDED = "refunded"
    CHARGED_BACK = "charged_back"


@dataclass(frozen=True)
class CheckoutItem:
    title: str
    amount_minor: int


@dataclass(frozen=True)
class CheckoutRequest:
    payment_id: uuid.UUID
    amount_minor: int
    currency: str
    items: list[CheckoutItem]
    # Where the customer comes back to (the portal's page of this payment).
    return_url: str
    # Where the provider sends its webhooks.
    notification_url: str


@dataclass(frozen=True)
class Checkout:
    url: str
    reference: str  # the provider's id of the checkout


@dataclass(frozen=True)
class WebhookHint:
    """A verified notification: which of the provider's objects to look at."""

    reference: str


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider's API reports it (the truth to post)."""

    payment_id: uuid.UUID | None  # ours, as we gave it to the provider
    reference: str  # the provider's payment id (what a refund names)
    state: ProviderState
    amount_minor: int
    currency: str
    refunded_minor: int = 0


def our_id(value: object) -> uuid.UUID | None:
    """Our payment id as we gave it to a provider (None: not one of ours)."""
    try:
        return uuid.UUID(str(value or ""))
    except ValueError:
        return None


class BadWebhook(Exception):
    """Unsigned, wrongly signed, stale or malformed: refused with 400."""


class ProviderError(Exception):
    """The provider refused a call or could not be reached in time."""


class Gateway(Protocol):
    name: str

    def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    def parse_webhook(
        self, headers: Mapping[str, str], query: Mapping[str, str], body: bytes, now: float
    ) -> WebhookHint | None:
        """The hint, None for an event the service does not act on; BadWebhook if forged."""

    def fetch_payment(self, reference: str) -> ProviderPayment: ...

    def refund(self, reference: str, amount_minor: int | None, currency: str) -> None: ...

    def payments_since(self, since: datetime) -> list[ProviderPayment]: ...


class Unavailable(StrEnum):
    """Why no provider takes a currency's payments (PaymentRule codes)."""

    NO_PROVIDER_FOR_CURRENCY = "NO_PROVIDER_FOR_CURRENCY"
    PROVIDER_NOT_CONFIGURED = "PROVIDER_NOT_CONFIGURED"


def provider_name(settings: Settings, currency: str) -> str:
    return settings.payment_providers.get(currency.upper(), settings.payment_provider)


def unavailable(settings: Settings, currency: str) -> Unavailable | None:
    """Why `currency` cannot be paid online now, or None when it can."""
    name = provider_name(settings, currency)
    if name == "sandbox":
        production = settings.environment is Environment.PRODUCTION
        return Unavailable.PROVIDER_NOT_CONFIGURED if production else None
    return unavailable_named(settings, name)


def unavailable_named(settings: Settings, name: str) -> Unavailable | None:
    """Why the real provider `name` cannot be used (its keys are missing)."""
    if name == "mercadopago":
        keys = settings.mercadopago_access_token and settings.mercadopago_webhook_secret
    elif name == "stripe":
        keys = settings.stripe_secret_key and settings.stripe_webhook_secret
    else:
        return Unavailable.NO_PROVIDER_FOR_CURRENCY
    return None if keys else Unavailable.PROVIDER_NOT_CONFIGURED


def gateway(settings: Settings, name: str) -> Gateway | None:
    """The real provider called `name`, when its keys are configured."""
    if unavailable_named(settings, name) is not None:
        return None
    if name == "mercadopago":
        from clientzone.payments.mercadopago import MercadoPago

        return MercadoPago(settings)
    if name == "stripe":
        from clientzone.payments.stripe import Stripe

        return Stripe(settings)
    return None


def configured_gateways(settings: Settings) -> list[Gateway]:
    names = {*settings.payment_providers.values(), settings.payment_provider}
    return [g for name in sorted(names) if (g := gateway(settings, name)) is not None]


T = TypeVar("T")


async def call(settings: Settings, function: Callable[..., T], *args: object) -> T:
    """Run a blocking SDK call in a thread, bounded by the provider timeout."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(function, *args), settings.payment_provider_timeout_seconds + 1
        )
    except TimeoutError as exc:
        raise ProviderError("the provider did not answer in time") from exc
    except ProviderError:
        raise
    except Exception as exc:  # an SDK's own errors (network, HTTP, parsing)
        raise ProviderError(f"{type(exc).__name__}: {exc}") from exc
