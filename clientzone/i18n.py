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
    "field.invalid_phone": {
        Locale.ES: "Escribe un teléfono válido; si es de otro país, con su prefijo (+52...).",
        Locale.EN: "Enter a valid phone number; from another country, with its code (+52...).",
    },
    "field.invalid_country": {
        Locale.ES: "Usa un código de país ISO de dos letras, como MX, AR o ES.",
        Locale.EN: "Use a two-letter ISO country code, such as MX, AR or ES.",
    },
    "field.invalid_postal_code": {
        Locale.ES: "El código postal no es válido para {country}.",
        Locale.EN: "The postal code is not valid for {country}.",
    },
    "field.invalid_tax_id": {
        Locale.ES: "La identificación fiscal no es válida para {country}.",
        Locale.EN: "The tax id is not valid for {country}.",
    },
    "pin.invalid": {
        Locale.ES: "El PIN debe tener de 4 a 8 cifras.",
        Locale.EN: "The PIN must have 4 to 8 digits.",
    },
    "pin.trivial": {
        Locale.ES: "Ese PIN es fácil de adivinar (repetido o seguido). Elige otro.",
        Locale.EN: "That PIN is easy to guess (repeated or in sequence). Choose another.",
    },
    "contact.email_taken": {
        Locale.ES: "Esta cuenta ya tiene un contacto con ese email.",
        Locale.EN: "This account already has a contact with that email.",
    },
    "member.owner_protected": {
        Locale.ES: "Un miembro no puede cambiar ni quitar a un propietario.",
        Locale.EN: "A member cannot change or remove an owner.",
    },
    "member.self": {
        Locale.ES: "No puedes cambiar tus propios permisos.",
        Locale.EN: "You cannot change your own permissions.",
    },
    "member.not_held": {
        Locale.ES: "No puedes dar permisos que no tienes: {permissions}.",
        Locale.EN: "You cannot grant permissions you do not hold: {permissions}.",
    },
    "member.last_owner": {
        Locale.ES: "La cuenta necesita al menos un propietario.",
        Locale.EN: "The account needs at least one owner.",
    },
    "member.not_owner": {
        Locale.ES: "Solo un propietario puede ceder la propiedad.",
        Locale.EN: "Only an owner can transfer ownership.",
    },
    "member.already_owner": {
        Locale.ES: "Esa persona ya es propietaria.",
        Locale.EN: "That person is already an owner.",
    },
    "invitation.already_member": {
        Locale.ES: "Esa persona ya tiene acceso a esta cuenta.",
        Locale.EN: "That person already has access to this account.",
    },
    "invitation.already_invited": {
        Locale.ES: "Ya hay una invitación pendiente para ese email: reenvíala si hace falta.",
        Locale.EN: "There is already a pending invitation for that email: resend it if needed.",
    },
    "invitation.not_open": {
        Locale.ES: "Esta invitación ya se aceptó o se anuló.",
        Locale.EN: "This invitation was already accepted or revoked.",
    },
    "invitation.expired": {
        Locale.ES: "La invitación ha caducado. Pide que te la reenvíen.",
        Locale.EN: "The invitation has expired. Ask for it to be resent.",
    },
    "invitation.revoked": {
        Locale.ES: "La invitación se ha anulado.",
        Locale.EN: "The invitation was revoked.",
    },
    "invitation.used": {
        Locale.ES: "Esta invitación ya se ha usado.",
        Locale.EN: "This invitation has already been used.",
    },
    "invitation.wrong_email": {
        Locale.ES: "Esta invitación es para otro email. Entra con ese email para aceptarla.",
        Locale.EN: "This invitation is for another email. Sign in with that email to accept it.",
    },
    "invitation.sign_in": {
        Locale.ES: "Ese email ya tiene acceso: entra con él y vuelve a abrir el enlace.",
        Locale.EN: "That email already has a login: sign in with it and open the link again.",
    },
    "payment.no_invoice": {
        Locale.ES: "Todavía no hay ninguna factura.",
        Locale.EN: "There is no invoice yet.",
    },
    "payment.document_type_not_payable_online": {
        Locale.ES: "El tipo de tu última factura no se puede pagar en línea.",
        Locale.EN: "Your latest invoice's document type cannot be paid online.",
    },
    "payment.no_balance_due": {
        Locale.ES: "No tienes saldo pendiente.",
        Locale.EN: "You have no balance due.",
    },
    "payment.balance_not_below_limit": {
        Locale.ES: "El saldo alcanza o supera el máximo que se puede pagar en línea.",
        Locale.EN: "The balance reaches or exceeds the most that can be paid online.",
    },
    "payment.no_limit_for_currency": {
        Locale.ES: "El pago en línea no está disponible en esta moneda.",
        Locale.EN: "Online payment is not available in this currency.",
    },
    "payment.balance_due_within_limit": {
        Locale.ES: "Tienes saldo pendiente: págalo primero.",
        Locale.EN: "You have a balance due: pay it first.",
    },
    "statement.order": {
        Locale.ES: "La fecha final no puede ser anterior a la inicial.",
        Locale.EN: "The end date cannot be before the start date.",
    },
    "statement.too_long": {
        Locale.ES: "Un estado de cuenta abarca como máximo {days} días.",
        Locale.EN: "A statement covers at most {days} days.",
    },
    "payment.required": {
        Locale.ES: "Elige las facturas a pagar o escribe un importe.",
        Locale.EN: "Choose the invoices to pay or enter an amount.",
    },
    "payment.invalid_amount": {
        Locale.ES: "Escribe un importe mayor que cero, con los decimales de la moneda.",
        Locale.EN: "Enter an amount above zero, with the currency's decimals.",
    },
    "payment.invoice_not_open": {
        Locale.ES: "La factura {number} no está pendiente de pago.",
        Locale.EN: "Invoice {number} is not awaiting payment.",
    },
    "payment.not_available": {
        Locale.ES: "El pago en línea no está disponible ahora. {reasons}",
        Locale.EN: "Online payment is not available now. {reasons}",
    },
    "payment.above_balance": {
        Locale.ES: "El importe supera tu saldo pendiente.",
        Locale.EN: "The amount is above your balance due.",
    },
    "payment.in_the_future": {
        Locale.ES: "La fecha de pago no puede ser futura.",
        Locale.EN: "The payment date cannot be in the future.",
    },
    "payment.file_too_large": {
        Locale.ES: "El comprobante supera {maximum} KB.",
        Locale.EN: "The receipt is larger than {maximum} KB.",
    },
    "payment.file_type": {
        Locale.ES: "El comprobante debe ser PDF, PNG o JPEG.",
        Locale.EN: "The receipt must be a PDF, PNG or JPEG.",
    },
    "field.required": {
        Locale.ES: "Este campo es obligatorio.",
        Locale.EN: "This field is required.",
    },
    "field.too_long": {
        Locale.ES: "Máximo {maximum} caracteres.",
        Locale.EN: "At most {maximum} characters.",
    },
    "case.subject_too_long": {
        Locale.ES: "El asunto admite como máximo {maximum} caracteres (tiene {length}).",
        Locale.EN: "The subject can have at most {maximum} characters (it has {length}).",
    },
    "case.description_too_long": {
        Locale.ES: "La descripción admite como máximo {maximum} caracteres (tiene {length}). "
        "Acórtala o adjunta el texto como archivo.",
        Locale.EN: "The description can have at most {maximum} characters (it has {length}). "
        "Shorten it or attach the text as a file.",
    },
    "case.comment_too_long": {
        Locale.ES: "El comentario admite como máximo {maximum} caracteres (tiene {length}).",
        Locale.EN: "The comment can have at most {maximum} characters (it has {length}).",
    },
    "case.category_required": {
        Locale.ES: "Elige una categoría.",
        Locale.EN: "Choose a category.",
    },
    "case.subcategory_required": {
        Locale.ES: "Elige una subcategoría.",
        Locale.EN: "Choose a subcategory.",
    },
    "case.invalid_category": {
        Locale.ES: "Esa categoría no existe.",
        Locale.EN: "That category does not exist.",
    },
    "case.invalid_subcategory": {
        Locale.ES: "Esa subcategoría no pertenece a la categoría elegida.",
        Locale.EN: "That subcategory does not belong to the chosen category.",
    },
    "case.field_required": {
        Locale.ES: "El campo «{label}» es obligatorio.",
        Locale.EN: "The field \u201c{label}\u201d is required.",
    },
    "case.field_too_long": {
        Locale.ES: "El campo «{label}» admite como máximo {maximum} caracteres.",
        Locale.EN: "The field \u201c{label}\u201d can have at most {maximum} characters.",
    },
    "case.field_number": {
        Locale.ES: "El campo «{label}» debe ser un número entre {minimum} y {maximum}.",
        Locale.EN: "The field \u201c{label}\u201d must be a number from {minimum} to {maximum}.",
    },
    "case.unknown_field": {
        Locale.ES: "Esta subcategoría no tiene el campo «{name}».",
        Locale.EN: "This subcategory has no field \u201c{name}\u201d.",
    },
    "case.invoice_required": {
        Locale.ES: "Indica la factura que reclamas.",
        Locale.EN: "Choose the invoice this claim is about.",
    },
    "case.order_required": {
        Locale.ES: "Indica el pedido.",
        Locale.EN: "Choose the order.",
    },
    "case.invoice_not_found": {
        Locale.ES: "No encontramos esa factura en esta cuenta.",
        Locale.EN: "That invoice is not in this account.",
    },
    "case.order_not_found": {
        Locale.ES: "No encontramos ese pedido en esta cuenta.",
        Locale.EN: "That order is not in this account.",
    },
    "case.file_too_large": {
        Locale.ES: "«{filename}» supera el máximo de {maximum} MB por archivo.",
        Locale.EN: "\u201c{filename}\u201d is larger than {maximum} MB, the limit per file.",
    },
    "case.files_too_large": {
        Locale.ES: "Los archivos de un caso suman como máximo {maximum} MB.",
        Locale.EN: "A case's files can add up to at most {maximum} MB.",
    },
    "case.file_type": {
        Locale.ES: "«{filename}» no es de un tipo admitido ({allowed}).",
        Locale.EN: "\u201c{filename}\u201d is not of an accepted type ({allowed}).",
    },
    "case.file_empty": {
        Locale.ES: "«{filename}» está vacío.",
        Locale.EN: "\u201c{filename}\u201d is empty.",
    },
    "case.closed": {
        Locale.ES: "El caso {number} está cerrado; abre uno nuevo si necesitas algo más.",
        Locale.EN: "Case {number} is closed; open a new one if you need anything else.",
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
