"""HTTP routes of payment providers: the webhook, and the sandbox's checkout page.

- `POST /webhooks/payments/{provider}`: a signed event (the sandbox's, see
  payment_providers; a real provider's, see payments/gateway.py, whose state
  is then fetched from the provider); 400 when the signature or body is bad,
  503 when the provider cannot be asked (it retries), 200 otherwise (also for
  a repeat, which changes nothing), so the provider stops retrying.
- `GET /payments/sandbox/{id}`: a page that says it is a sandbox, with
  Approve and Decline buttons; `POST` there sends the signed event the way a
  real provider would, then returns the customer to the portal. Only when
  a currency is paid through the sandbox and ENVIRONMENT is not production.
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from clientzone.config import Environment, Settings
from clientzone.core.ids import encode_global_id
from clientzone.core.money import from_minor
from clientzone.db import Database
from clientzone.models.payments import Payment, PaymentStatus
from clientzone.payments import providers as payment_providers
from clientzone.payments.gateway import Gateway, ProviderError, call, gateway
from clientzone.payments.providers import BadWebhook, EventOutcome, ProviderEvent
from clientzone.resolvers.payments import apply_event, event_of

logger = logging.getLogger("clientzone.payments")

Endpoint = Callable[[Request], Awaitable[Response]]


def payment_routes(database: Database, settings: Settings) -> list[Route]:
    sandbox = settings.environment is not Environment.PRODUCTION and "sandbox" in {
        settings.payment_provider,
        *settings.payment_providers.values(),
    }

    async def webhook(request: Request) -> Response:
        provider = request.path_params["provider"]
        body = await request.body()
        if provider == "sandbox" and sandbox:
            try:
                event = payment_providers.parse_webhook(
                    settings, body, request.headers.get("x-signature")
                )
            except BadWebhook as exc:
                logger.warning("payment webhook refused: %s", exc)
                return JSONResponse({"error": str(exc)}, status_code=400)
        else:
            real = gateway(settings, provider)
            if real is None:
                return JSONResponse({"error": "unknown provider"}, status_code=404)
            try:
                found = await provider_event(settings, real, request, body)
            except BadWebhook as exc:
                logger.warning("%s webhook refused: %s", provider, exc)
                return JSONResponse({"error": str(exc)}, status_code=400)
            except ProviderError as exc:
                # Not acknowledged: the provider sends it again later.
                logger.warning("%s webhook not applied: %s", provider, exc)
                return JSONResponse({"error": "provider unavailable"}, status_code=503)
            if found is None:
                return JSONResponse({"result": "ignored"})
            event = found
        result = await apply_event(database, settings, provider, event)
        logger.info("payment event %s for %s: %s", event.event_id, event.payment_id, result)
        return JSONResponse({"result": result})

    async def checkout(request: Request) -> Response:
        payment = await _pending(database, request.path_params["payment_id"])
        if payment is None:
            return HTMLResponse("<p>Payment not found or already settled.</p>", status_code=404)
        amount = html.escape(
            f"{from_minor(payment.amount_minor, payment.currency):,} {payment.currency}"
        )
        page = f"""<!doctype html><html lang="es"><head><meta charset="utf-8">
<title>Sandbox checkout</title></head><body style="font-family: sans-serif; margin: 2em">
<p style="background:#fde68a;padding:8px">
<strong>SANDBOX</strong>: development only, no money moves.</p>
<h1>{amount}</h1>
<form method="post"><button name="outcome" value="approved">Aprobar / Approve</button>
<button name="outcome" value="declined">Rechazar / Decline</button></form></body></html>"""
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def decide(request: Request) -> Response:
        payment = await _pending(database, request.path_params["payment_id"])
        if payment is None:
            return HTMLResponse("<p>Payment not found or already settled.</p>", status_code=404)
        form = await request.form()
        outcome = EventOutcome(str(form.get("outcome", "declined")))
        body = payment_providers.sandbox_event_body(
            payment.id, outcome, payment.amount_minor, payment.currency
        )
        event = payment_providers.parse_webhook(
            settings, body, payment_providers.signature(settings, body)
        )
        await apply_event(database, settings, "sandbox", event)
        # The payment's GraphQL ID: the portal can show it with node(id:).
        payment_gid = encode_global_id("Payment", payment.id)
        target = f"{settings.portal_base_url}/payments/{payment_gid}?status={outcome.value}"
        return RedirectResponse(target, status_code=303)

    routes = [Route("/webhooks/payments/{provider}", webhook, methods=["POST"])]
    if sandbox:
        routes += [
            Route("/payments/sandbox/{payment_id}", checkout, methods=["GET"]),
            Route("/payments/sandbox/{payment_id}", decide, methods=["POST"]),
        ]
    return routes


async def _pending(database: Database, raw_id: str) -> Payment | None:
    try:
        payment_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    async with database.session() as session:
        payment = await session.get(Payment, payment_id)
    if payment is None or payment.status is not PaymentStatus.PENDING:
        return None
    return payment


async def provider_event(
    settings: Settings, provider: Gateway, request: Request, body: bytes
) -> ProviderEvent | None:
    """Verify a real provider's webhook, then fetch the payment it names: a
    webhook is a hint, the provider's API is the truth."""
    hint = provider.parse_webhook(request.headers, request.query_params, body, time.time())
    if hint is None:
        return None
    return event_of(await call(settings, provider.fetch_payment, hint.reference))
