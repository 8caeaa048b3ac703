"""Localized messages (es, en) and the choice of locale for a request.

Messages are looked up by a stable key; the key, not the text, is what code and
tests rely on. Spanish is the default. A request's locale comes from
Accept-Language; later, the signed-in user's own locale is used when the
header does not name a supported language.
"""

from __future__ import annotations

from typing import Any

from clientzone.models.users import Locale

DEFAULT_LOCALE = Locale.ES

MESSAGES: dict[str, dict[Locale, str]] = {
    "error.internal": {
        Locale.ES: "Error interno. Referencia: {request_id}.",
        Locale.EN: "Internal error. Reference: {request_id}.",
    },
    "error.unauthenticated": {
        Locale.ES: "Inicia sesión para continuar.",
        Locale.EN: "Sign in to continue.",
    },
    "error.forbidden": {
        Locale.ES: "No tienes el permiso {permission} en esta cuenta.",
        Locale.EN: "You do not have the {permission} permission on this account.",
    },
    "error.not_found": {
        Locale.ES: "No encontrado.",
        Locale.EN: "Not found.",
    },
    "error.bad_user_input": {
        Locale.ES: "Datos de entrada no válidos.",
        Locale.EN: "Invalid input.",
    },
    "error.rate_limited": {
        Locale.ES: "Demasiados intentos. Vuelve a intentarlo en {seconds} segundos.",
        Locale.EN: "Too many attempts. Try again in {seconds} seconds.",
    },
    "pagination.first_and_last": {
        Locale.ES: "Usa first o last, no ambos.",
        Locale.EN: "Use first or last, not both.",
    },
    "pagination.negative": {
        Locale.ES: "{argument} no puede ser negativo.",
        Locale.EN: "{argument} cannot be negative.",
    },
    "pagination.too_large": {
        Locale.ES: "{argument} no puede ser mayor que {maximum}.",
        Locale.EN: "{argument} cannot be greater than {maximum}.",
    },
    "pagination.invalid_cursor": {
        Locale.ES: "El cursor {argument} no es válido.",
        Locale.EN: "The {argument} cursor is not valid.",
    },
    "field.required": {
        Locale.ES: "Este campo es obligatorio.",
        Locale.EN: "This field is required.",
    },
    "field.too_long": {
        Locale.ES: "Máximo {maximum} caracteres.",
        Locale.EN: "At most {maximum} characters.",
    },
}


def translate(key: str, locale: Locale, **params: Any) -> str:
    texts = MESSAGES[key]
    return (texts.get(locale) or texts[DEFAULT_LOCALE]).format(**params)


def negotiate_locale(accept_language: str | None) -> Locale | None:
    """The first supported language in an Accept-Language header, by q-value."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            continue
        language = tag.split("-")[0]
        if language in {locale.value for locale in Locale}:
            return Locale(language)
    return None
