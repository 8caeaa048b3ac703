"""`/unsubscribe/<token>`: the one-click unsubscribe link of an email.

GET shows what the link does and a button (mail clients and scanners follow
links: a GET changes nothing); POST, from that button or from a mail
provider's one-click request (RFC 8058), removes the category from the
contact with that address on that account, without signing in. A forged,
altered or expired token is refused (404), a repeated POST is harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from sqlalchemy import update
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from clientzone.config import Settings
from clientzone.core import signed_links
from clientzone.core.i18n import negotiate_locale
from clientzone.db import Database
from clientzone.mailers import unsubscribe
from clientzone.models.base import utcnow
from clientzone.models.contacts import Contact, contact_with_email
from clientzone.models.users import Locale

CATEGORY_NAMES = {
    Locale.ES: {
        "GENERAL": "noticias y avisos generales",
        "PRODUCTS": "pedidos y productos",
        "DOMAINS": "dominios",
        "INVOICES": "facturas y recordatorios de pago",
        "SUPPORT": "soporte",
    },
    Locale.EN: {
        "GENERAL": "news and general notices",
        "PRODUCTS": "orders and products",
        "DOMAINS": "domains",
        "INVOICES": "invoices and payment reminders",
        "SUPPORT": "support",
    },
}
TEXTS = {
    Locale.ES: {
        "title": "Darse de baja",
        "ask": "¿Dejar de enviar emails de {category} a {email}?",
        "button": "Darme de baja",
        "done": "Listo: {email} ya no recibirá emails de {category}.",
        "manage": "Puede cambiar sus preferencias en el área de clientes.",
        "bad": "Este enlace no es válido o ha caducado.",
    },
    Locale.EN: {
        "title": "Unsubscribe",
        "ask": "Stop sending {category} emails to {email}?",
        "button": "Unsubscribe me",
        "done": "Done: {email} will no longer receive {category} emails.",
        "manage": "You can change your preferences in the customer area.",
        "bad": "This link is not valid or has expired.",
    },
}


def _page(locale: Locale, body: str, status: int = 200) -> HTMLResponse:
    title = TEXTS[locale]["title"]
    html = (
        f'<!doctype html><html lang="{locale.value}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
    )
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'"}
    return HTMLResponse(html, status_code=status, headers=headers)


def unsubscribe_endpoint(
    database: Database, settings: Settings
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        locale = negotiate_locale(request.headers.get("accept-language")) or Locale.ES
        texts = TEXTS[locale]
        try:
            wanted = unsubscribe.verify(settings, request.path_params["token"])
        except signed_links.BadLink:
            return _page(locale, f"<p>{texts['bad']}</p>", status=404)
        values = {
            "email": escape(wanted.email),
            "category": CATEGORY_NAMES[locale][wanted.category.value],
        }
        if request.method == "GET":
            form = (
                f"<p>{texts['ask'].format(**values)}</p>"
                '<form method="post"><input type="hidden" name="List-Unsubscribe" '
                f'value="One-Click"><button type="submit">{texts["button"]}</button></form>'
            )
            return _page(locale, form)
        async with database.session() as session, session.begin():
            contact = await contact_with_email(
                session, account_id=wanted.account_id, email=wanted.email
            )
            if contact is not None and wanted.category in contact.categories:
                await session.execute(
                    update(Contact)
                    .where(col(Contact.id) == contact.id)
                    .values(categories=contact.categories - {wanted.category}, updated_at=utcnow())
                )
        done = f"<p>{texts['done'].format(**values)}</p><p>{texts['manage']}</p>"
        return _page(locale, done)

    return endpoint
