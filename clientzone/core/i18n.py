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
    "error.staff_forbidden": {
        Locale.ES: "Solo personal de soporte con el rol {permission} puede hacer esto.",
        Locale.EN: "Only support staff with the {permission} role may do this.",
    },
    "error.second_factor_required": {
        Locale.ES: "Confirma tu segundo factor (código TOTP) antes de continuar.",
        Locale.EN: "Confirm your second factor (TOTP code) before going on.",
    },
    "staff.already_enrolled": {
        Locale.ES: "El segundo factor ya está activado.",
        Locale.EN: "The second factor is already enrolled.",
    },
    "staff.not_enrolled": {
        Locale.ES: "Primero activa el segundo factor (staffEnrolSecondFactor).",
        Locale.EN: "Enrol the second factor first (staffEnrolSecondFactor).",
    },
    "staff.invalid_code": {
        Locale.ES: "El código no es correcto o ya se usó.",
        Locale.EN: "The code is wrong or was already used.",
    },
    "staff.reason_required": {
        Locale.ES: "Indica por qué abres la cuenta.",
        Locale.EN: "Say why you are opening the account.",
    },
    "staff.too_long": {
        Locale.ES: "Demasiado largo: como mucho {maximum} caracteres.",
        Locale.EN: "Too long: at most {maximum} characters.",
    },
    "staff.invalid_transition": {
        Locale.ES: "El caso {number} no puede pasar de {current} a {status}.",
        Locale.EN: "Case {number} cannot go from {current} to {status}.",
    },
    "staff.not_staff": {
        Locale.ES: "Solo se puede asignar a personal de soporte activo.",
        Locale.EN: "Cases can only be assigned to active support staff.",
    },
    "error.member_suspended": {
        Locale.ES: "Tu acceso a esta cuenta está suspendido. "
        "Habla con quien gestiona sus usuarios.",
        Locale.EN: "Your access to this account is suspended. Ask whoever manages its users.",
    },
    "staff.no_such_login": {
        Locale.ES: "No hay ningún acceso con ese email.",
        Locale.EN: "There is no login with that email.",
    },
    "staff.already_disabled": {
        Locale.ES: "Ese acceso ya está desactivado.",
        Locale.EN: "That login is already disabled.",
    },
    "staff.already_active": {
        Locale.ES: "Ese acceso ya está activo.",
        Locale.EN: "That login is already active.",
    },
    "staff.not_self": {
        Locale.ES: "No puedes desactivar tu propio acceso.",
        Locale.EN: "You cannot disable your own login.",
    },
    "staff.login_disabled": {
        Locale.ES: "Ese acceso está desactivado.",
        Locale.EN: "That login is disabled.",
    },
    "staff.already_verified": {
        Locale.ES: "Ese email ya está confirmado.",
        Locale.EN: "That email is already confirmed.",
    },
    "staff.email_change_not_pending": {
        Locale.ES: "Esa solicitud ya no está pendiente.",
        Locale.EN: "That request is no longer pending.",
    },
    "staff.email_change_taken": {
        Locale.ES: "Otro acceso ya usa ese email.",
        Locale.EN: "Another login already uses that email.",
    },
    "staff.no_pin": {
        Locale.ES: "La cuenta no tiene PIN de seguridad.",
        Locale.EN: "The account has no security PIN.",
    },
    "staff.has_users": {
        Locale.ES: "La cuenta ya tiene usuarios: que la invitación la envíe su titular.",
        Locale.EN: "The account already has users: its owner sends invitations.",
    },
    "staff.already_invited": {
        Locale.ES: "Ya hay una invitación abierta para esa cuenta.",
        Locale.EN: "There is already an open invitation for that account.",
    },
    "announcement.invalid_window": {
        Locale.ES: "La fecha de fin debe ser posterior a la de inicio.",
        Locale.EN: "The end must be after the start.",
    },
    "announcement.audience_value_required": {
        Locale.ES: "Indica el país o la moneda de la audiencia.",
        Locale.EN: "Say the audience's country or currency.",
    },
    "announcement.invalid_currency": {
        Locale.ES: "Usa un código de moneda ISO de tres letras, como MXN, ARS o EUR.",
        Locale.EN: "Use a three-letter ISO currency code, such as MXN, ARS or EUR.",
    },
    "announcement.accounts_required": {
        Locale.ES: "Indica al menos un número de cliente.",
        Locale.EN: "Give at least one customer number.",
    },
    "announcement.too_many_accounts": {
        Locale.ES: "Como máximo {maximum} números de cliente; para más, usa otra audiencia.",
        Locale.EN: "At most {maximum} customer numbers; for more, use another audience.",
    },
    "announcement.unknown_accounts": {
        Locale.ES: "Estos números de cliente no existen: {numbers}.",
        Locale.EN: "These customer numbers do not exist: {numbers}.",
    },
    "announcement.already_withdrawn": {
        Locale.ES: "El anuncio ya fue retirado.",
        Locale.EN: "The announcement was already withdrawn.",
    },
    "staff.not_a_transfer": {
        Locale.ES: "Ese pago no es una transferencia informada.",
        Locale.EN: "That payment is not a reported transfer.",
    },
    "staff.already_decided": {
        Locale.ES: "Esa transferencia ya se confirmó o se rechazó.",
        Locale.EN: "That transfer was already confirmed or rejected.",
    },
    "staff.not_refundable": {
        Locale.ES: "Solo se devuelve un pago en línea acreditado.",
        Locale.EN: "Only a settled online payment can be refunded.",
    },
    "staff.no_such_document_type": {
        Locale.ES: "No existe ese tipo de documento.",
        Locale.EN: "There is no such document type.",
    },
    "staff.email_not_dead": {
        Locale.ES: "Ese email no está muerto ni rechazado: no se puede reenviar.",
        Locale.EN: "That email is neither dead nor refused: it cannot be sent again.",
    },
    "staff.email_expired_link": {
        Locale.ES: "El enlace o código de ese email ya no sirve: no se reenvía. "
        "La persona debe pedirlo de nuevo (o reenviarse la invitación).",
        Locale.EN: "That email's link or code no longer works: it is not sent again. "
        "The person must ask again (or the invitation be resent).",
    },
    "staff.link_self": {
        Locale.ES: "Una cuenta no puede vincularse a sí misma.",
        Locale.EN: "An account cannot be linked under itself.",
    },
    "staff.link_parent_linked": {
        Locale.ES: "La cuenta {parent} ya está vinculada a otra: los vínculos son de un nivel.",
        Locale.EN: "Account {parent} is itself linked: links are one level deep.",
    },
    "staff.link_has_children": {
        Locale.ES: "La cuenta {account} tiene cuentas vinculadas: los vínculos son de un nivel.",
        Locale.EN: "Account {account} has linked accounts: links are one level deep.",
    },
    "staff.already_linked": {
        Locale.ES: "La cuenta ya está vinculada a {parent}.",
        Locale.EN: "The account is already linked under {parent}.",
    },
    "staff.not_linked": {
        Locale.ES: "La cuenta no está vinculada a ninguna otra.",
        Locale.EN: "The account is not linked under another.",
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
    "error.unavailable": {
        Locale.ES: "El servicio está ocupado. Vuelve a intentarlo en {seconds} segundos.",
        Locale.EN: "The service is busy. Try again in {seconds} seconds.",
    },
    "request.method": {
        Locale.ES: "GraphQL acepta solo GET y POST.",
        Locale.EN: "GraphQL accepts only GET and POST.",
    },
    "request.not_acceptable": {
        Locale.ES: "Pide application/graphql-response+json o application/json en Accept.",
        Locale.EN: "Ask for application/graphql-response+json or application/json in Accept.",
    },
    "request.media_type": {
        Locale.ES: "Envía el cuerpo como application/json (o multipart/form-data con archivos).",
        Locale.EN: "Send the body as application/json (or multipart/form-data with files).",
    },
    "request.charset": {
        Locale.ES: "El cuerpo debe estar en UTF-8.",
        Locale.EN: "The body must be UTF-8.",
    },
    "request.malformed_json": {
        Locale.ES: "El cuerpo no es JSON válido.",
        Locale.EN: "The body is not valid JSON.",
    },
    "request.not_an_object": {
        Locale.ES: "El cuerpo debe ser un objeto JSON con query, variables y operationName.",
        Locale.EN: "The body must be a JSON object with query, variables and operationName.",
    },
    "request.parameter_type": {
        Locale.ES: "{parameter} no tiene el tipo correcto.",
        Locale.EN: "{parameter} does not have the right type.",
    },
    "request.missing_query": {
        Locale.ES: "Envía el documento GraphQL en query.",
        Locale.EN: "Send the GraphQL document in query.",
    },
    "request.several_operations": {
        Locale.ES: "El documento tiene varias operaciones: indica cuál en operationName.",
        Locale.EN: "The document has several operations: say which one in operationName.",
    },
    "request.unknown_operation": {
        Locale.ES: "El documento no tiene ninguna operación llamada {name}.",
        Locale.EN: "The document has no operation named {name}.",
    },
    "request.too_nested": {
        Locale.ES: "El documento está anidado demasiado.",
        Locale.EN: "The document is nested too deeply.",
    },
    "request.unstorable_text": {
        Locale.ES: "El texto no puede contener caracteres NUL ni sustitutos sueltos ({path}).",
        Locale.EN: "Text may not contain NUL characters or unpaired surrogates ({path}).",
    },
    "request.cost": {
        Locale.ES: "Esta operación podría costar {requested} puntos y una solicitud puede "
        "costar como máximo {limit}: pide páginas más pequeñas o menos campos.",
        Locale.EN: "This operation could cost {requested} points and one request may cost "
        "at most {limit}: ask for smaller pages or fewer fields.",
    },
    "request.cost_budget": {
        Locale.ES: "Has usado tu presupuesto de consultas de este minuto. Vuelve a "
        "intentarlo en {seconds} segundos.",
        Locale.EN: "You have used this minute's query budget. Try again in {seconds} seconds.",
    },
    "request.mutation_over_get": {
        Locale.ES: "Las mutaciones se envían por POST.",
        Locale.EN: "Send mutations with POST.",
    },
    "request.subscription_over_http": {
        Locale.ES: "Las suscripciones van por WebSocket (graphql-transport-ws) en /graphql.",
        Locale.EN: "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql.",
    },
    "request.batch": {
        Locale.ES: "Envía una operación por solicitud.",
        Locale.EN: "Send one operation per request.",
    },
    "request.multipart": {
        Locale.ES: "Solicitud multipart no válida: {problem}.",
        Locale.EN: "Invalid multipart request: {problem}.",
    },
    "request.response_too_large": {
        Locale.ES: "La respuesta superaría {maximum} bytes: pide páginas más pequeñas.",
        Locale.EN: "The response would exceed {maximum} bytes: ask for smaller pages.",
    },
    "request.timeout": {
        Locale.ES: "La operación tardó demasiado y se canceló; no se cambió nada. "
        "Vuelve a intentarlo en {seconds} segundos.",
        Locale.EN: "The operation took too long and was cancelled; nothing was changed. "
        "Try again in {seconds} seconds.",
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
    "auth.invalid_grant": {
        Locale.ES: "El permiso para cambiar la contraseña ya se usó o ha caducado. "
        "Vuelve a pedir un código.",
        Locale.EN: "The permission to change the password was used or has expired. "
        "Ask for a new code.",
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
    "auth.unify_not_eligible": {
        Locale.ES: "No hay ninguna cuenta con ese número de cliente y el email de tu acceso.",
        Locale.EN: "There is no account with that customer number and your login email.",
    },
    "auth.unify_already_member": {
        Locale.ES: "Esa cuenta ya está en tu acceso.",
        Locale.EN: "That account is already in your login.",
    },
    "auth.unify_invalid_code": {
        Locale.ES: "El código no es correcto, ya se usó o ha caducado: pide uno nuevo.",
        Locale.EN: "The code is wrong, already used or expired: ask for a new one.",
    },
    "auth.unify_invalid_token": {
        Locale.ES: "El enlace no es válido, ya se usó o ha caducado: pide uno nuevo.",
        Locale.EN: "The link is not valid, already used or expired: ask for a new one.",
    },
    "auth.unify_code_or_token": {
        Locale.ES: "Escribe el código del email o abre su enlace.",
        Locale.EN: "Enter the code from the email or open its link.",
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
    "webhook.invalid_url": {
        Locale.ES: "Escribe una URL completa, como https://example.com/webhooks.",
        Locale.EN: "Enter a full URL, such as https://example.com/webhooks.",
    },
    "webhook.https_required": {
        Locale.ES: "La URL debe empezar por https://.",
        Locale.EN: "The URL must start with https://.",
    },
    "webhook.unknown_event_type": {
        Locale.ES: "Tipos de evento desconocidos: {types}.",
        Locale.EN: "Unknown event types: {types}.",
    },
    "webhook.too_many_endpoints": {
        Locale.ES: "Una cuenta puede tener como máximo {maximum} endpoints de webhooks.",
        Locale.EN: "An account can have at most {maximum} webhook endpoints.",
    },
    "webhook.invalid_range": {
        Locale.ES: "La fecha inicial debe ser anterior a la final.",
        Locale.EN: "The start must be before the end.",
    },
    "api_client.expires_in_past": {
        Locale.ES: "La fecha de caducidad debe ser futura.",
        Locale.EN: "The expiry must be in the future.",
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
    "payment.no_provider_for_currency": {
        Locale.ES: "El pago en línea no está disponible en la moneda de esta cuenta.",
        Locale.EN: "Online payment is not offered in this account's currency.",
    },
    "payment.provider_not_configured": {
        Locale.ES: "El pago en línea no está configurado todavía.",
        Locale.EN: "Online payment is not set up yet.",
    },
    "payment.provider_unavailable": {
        Locale.ES: "El proveedor de pagos no respondió. Inténtalo de nuevo en unos minutos.",
        Locale.EN: "The payment provider did not answer. Try again in a few minutes.",
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
    "payment.invoice_in_progress": {
        Locale.ES: "La factura {number} ya tiene un pago en curso: espera su resultado.",
        Locale.EN: "Invoice {number} already has a payment in progress: wait for its result.",
    },
    "payment.amount_in_progress": {
        Locale.ES: "Ya hay pagos en curso por {reserved}: puedes pagar hasta {available}.",
        Locale.EN: "Payments in progress already cover {reserved}: you can pay up to {available}.",
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
    "case.field_email": {
        Locale.ES: "El campo «{label}» debe ser un email válido, como nombre@empresa.com.",
        Locale.EN: "The field \u201c{label}\u201d must be a valid email, like name@company.com.",
    },
    "case.field_phone": {
        Locale.ES: "El campo «{label}» debe ser un teléfono válido; "
        "de otro país, con su prefijo (+52...).",
        Locale.EN: "The field \u201c{label}\u201d must be a valid phone number; "
        "from another country, with its code (+52...).",
    },
    "case.duplicate_field": {
        Locale.ES: "El campo «{name}» se envió más de una vez.",
        Locale.EN: "The field \u201c{name}\u201d was sent more than once.",
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
    "order.unknown_product": {
        Locale.ES: "No tenemos a la venta el producto «{product}».",
        Locale.EN: "We do not sell a product \u201c{product}\u201d.",
    },
    "order.not_sold_in_currency": {
        Locale.ES: "El producto «{product}» no se vende en {currency}.",
        Locale.EN: "The product \u201c{product}\u201d is not sold in {currency}.",
    },
    "order.invalid_quantity": {
        Locale.ES: "La cantidad va de 1 a {maximum}.",
        Locale.EN: "The quantity goes from 1 to {maximum}.",
    },
    "order.no_lines": {
        Locale.ES: "Añade al menos un producto al pedido.",
        Locale.EN: "Add at least one product to the order.",
    },
    "order.too_many_lines": {
        Locale.ES: "Un pedido tiene como máximo {maximum} líneas.",
        Locale.EN: "An order has at most {maximum} lines.",
    },
    "service.change_note_required": {
        Locale.ES: "Cuéntanos por qué quieres darlo de baja.",
        Locale.EN: "Tell us why you want to cancel it.",
    },
    "service.no_credentials": {
        Locale.ES: "No guardamos credenciales de este servicio.",
        Locale.EN: "We hold no credentials for this service.",
    },
    "service.change_already_requested": {
        Locale.ES: "Ya hay una solicitud abierta para este servicio (caso {number}).",
        Locale.EN: "There is already an open request for this service (case {number}).",
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
