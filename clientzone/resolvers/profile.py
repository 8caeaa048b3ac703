"""An account's profile and its security PIN (PROFILE_EDIT)."""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise
from typing import Any

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.auth.passwords import hash_password
from clientzone.mailers.outbox import notify_account
from clientzone.models.accounts import Account, update_account
from clientzone.models.activity import ActivityAction, Change, record_activity
from clientzone.models.contacts import EmailCategory
from clientzone.models.users import Locale
from clientzone.resolvers.activity import actor
from clientzone.resolvers.email_verification import confirm_password
from clientzone.resolvers.validation import FieldErrors, Kind, Outcome, Rule, check_fields

# Input path -> (column, rule).
PROFILE_FIELDS: dict[str, tuple[str, Rule]] = {
    "companyName": ("company_name", Rule(maximum=200)),
    "firstName": ("first_name", Rule(maximum=100)),
    "lastName": ("last_name", Rule(maximum=100)),
    "email": ("email", Rule(Kind.EMAIL, 254)),
    "phone": ("phone", Rule(Kind.PHONE, 40)),
    "mobilePhone": ("mobile_phone", Rule(Kind.PHONE, 40)),
    "address.street": ("street", Rule(maximum=200)),
    "address.neighborhood": ("neighborhood", Rule(maximum=120)),
    "address.city": ("city", Rule(maximum=120)),
    "address.state": ("state", Rule(maximum=120)),
    "address.postalCode": ("postal_code", Rule(Kind.POSTAL_CODE, 20)),
    "address.country": ("country", Rule(Kind.COUNTRY, 60)),
    "taxId": ("tax_id", Rule(Kind.TAX_ID, 32)),
}


class UpdateAccountProfileErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_POSTAL_CODE = "INVALID_POSTAL_CODE"
    INVALID_TAX_ID = "INVALID_TAX_ID"


async def update_account_profile(
    ctx: Context,
    account: Account,
    values: dict[str, str | None],
    locale: Locale | None,
    monthly_statement: bool | None = None,
) -> Outcome[Account, UpdateAccountProfileErrorCode]:
    """Change the given fields; any bad field changes nothing. A change is
    recorded in the activity and announced to the account (GENERAL)."""
    errors: FieldErrors[UpdateAccountProfileErrorCode] = FieldErrors()
    rules = {path: rule for path, (_, rule) in PROFILE_FIELDS.items()}
    cleaned = check_fields(
        errors, UpdateAccountProfileErrorCode, values, rules, country=account.country
    )
    if errors:
        return Outcome(errors=errors.errors)
    new_values: dict[str, Any] = {PROFILE_FIELDS[path][0]: value for path, value in cleaned.items()}
    if locale is not None:
        new_values["locale"] = locale
    if monthly_statement is not None:
        new_values["monthly_statement"] = monthly_statement
    changes = [
        Change(column, _text(getattr(account, column)), _text(value))
        for column, value in new_values.items()
        if getattr(account, column) != value
    ]
    if not changes:
        return Outcome(value=account)
    async with ctx.transaction() as session:
        updated = await update_account(
            session, account.id, **{c.field: new_values[c.field] for c in changes}
        )
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.PROFILE_UPDATED,
            changes=changes,
        )
        await notify_account(
            session,
            ctx.settings,
            account=updated,
            category=EmailCategory.GENERAL,
            template="account_profile_changed",
            changed=[c.field for c in changes],
            actor_email=actor(ctx).label,
        )
    return Outcome(value=updated)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class SetSecurityPinErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_PIN = "INVALID_PIN"
    TRIVIAL_PIN = "TRIVIAL_PIN"
    INVALID_PASSWORD = "INVALID_PASSWORD"  # noqa: S105 (an error code)


def is_trivial_pin(pin: str) -> bool:
    """All one digit, a run up or down (wrapping 9->0), or a block repeated (1212)."""
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in pairwise(digits)}
    if steps <= {0} or steps == {1} or steps == {9}:
        return True
    return any(
        len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size)
        for size in range(1, len(pin) // 2 + 1)
    )


async def set_security_pin(
    ctx: Context, account: Account, pin: str, current_password: str
) -> Outcome[Account, SetSecurityPinErrorCode]:
    code = SetSecurityPinErrorCode
    errors: FieldErrors[SetSecurityPinErrorCode] = FieldErrors()
    pin = pin.strip()
    if not pin:
        errors.add("pin", code.REQUIRED, "field.required")
    elif not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        errors.add("pin", code.INVALID_PIN, "pin.invalid")
    elif is_trivial_pin(pin):
        errors.add("pin", code.TRIVIAL_PIN, "pin.trivial")
    if not current_password:
        errors.add("currentPassword", code.REQUIRED, "field.required")
    elif not await confirm_password(ctx, require_viewer(ctx).user, current_password):
        errors.add("currentPassword", code.INVALID_PASSWORD, "auth.invalid_password")
    if errors:
        return Outcome(errors=errors.errors)
    pin_hash = await hash_password(pin)
    async with ctx.transaction() as session:
        updated = await update_account(session, account.id, security_pin_hash=pin_hash)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.SECURITY_PIN_SET,
            changes=[Change("security_pin", None, None)],
        )
        await notify_account(
            session,
            ctx.settings,
            account=updated,
            category=EmailCategory.GENERAL,
            template="account_profile_changed",
            changed=["security_pin"],
            actor_email=actor(ctx).label,
        )
    return Outcome(value=updated)
