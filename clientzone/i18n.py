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
    "error.csrf": {
        Locale.ES: "Solicitud rechazada: falta la cabecera X-CSRF-Protection "
        "o el origen no está permitido.",
        Locale.EN: "Request refused: the X-CSRF-Protection header is missing "
        "or the origin is not allowed.",
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
    "auth.invalid_credentials": {
        Locale.ES: "El email o la contraseña no son correctos.",
        Locale.EN: "The email or password is incorrect.",
    },
    "auth.email_not_verified": {
        Locale.ES: "Confirma tu email antes de entrar: te hemos enviado un enlace.",
        Locale.EN: "Confirm your email before signing in: we have sent you a link.",
    },
    "auth.invalid_password": {
        Locale.ES: "La contraseña actual no es correcta.",
        Locale.EN: "The current password is incorrect.",
    },
    "auth.invalid_email": {
        Locale.ES: "Escribe un email válido, como nombre@empresa.com.",
        Locale.EN: "Enter a valid email, such as name@company.com.",
    },
    "auth.same_email": {
        Locale.ES: "Ya es el email de tu acceso.",
        Locale.EN: "That is already your login email.",
    },
    "auth.invalid_code": {
        Locale.ES: "El código no es correcto o ha caducado. Pide uno nuevo si hace falta.",
        Locale.EN: "The code is wrong or has expired. Ask for a new one if needed.",
    },
    "auth.invalid_token": {
        Locale.ES: "El enlace no es válido o ha caducado. Pide uno nuevo.",
        Locale.EN: "The link is not valid or has expired. Ask for a new one.",
    },
    "auth.email_taken": {
        Locale.ES: "Ese email ya lo usa otro acceso.",
        Locale.EN: "That email is already used by another login.",
    },
    "auth.signup_disabled": {
        Locale.ES: "El registro está desactivado. Pide una invitación.",
        Locale.EN: "Sign-up is disabled. Ask for an invitation.",
    },
    "auth.legacy_invalid": {
        Locale.ES: "El número de cliente, el usuario o la contraseña no son correctos.",
        Locale.EN: "The customer number, username or password is incorrect.",
    },
    "auth.verify_first": {
        Locale.ES: "Confirma tu email antes de añadir cuentas.",
        Locale.EN: "Confirm your email before adding accounts.",
    },
    "password.too_short": {
        Locale.ES: "Usa al menos {minimum} caracteres.",
        Locale.EN: "Use at least {minimum} characters.",
    },
    "password.too_long": {
        Locale.ES: "Usa como máximo {maximum} caracteres.",
        Locale.EN: "Use at most {maximum} characters.",
    },
    "password.personal": {
        Locale.ES: "No incluyas tu nombre ni tu email en la contraseña.",
        Locale.EN: "Do not include your name or email in the password.",
    },
    "password.too_weak": {
        Locale.ES: "Es fácil de adivinar. Prueba con varias palabras poco comunes.",
        Locale.EN: "It is easy to guess. Try several uncommon words.",
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
