"""An account's contacts: who receives its emails, by category (CONTACTS_MANAGE).

Contacts are recipients, not logins. An email appears once per account.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from clientzone.auth.context import Context
from clientzone.core.ids import encode_global_id
from clientzone.models import contacts as models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Change, record_activity
from clientzone.models.base import utcnow
from clientzone.models.contacts import Contact, ContactFilter, EmailCategory
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.webhooks import emit
from clientzone.resolvers.activity import actor
from clientzone.resolvers.validation import FieldErrors, Kind, Outcome, Rule, check_fields

# Input field -> (column, rule).
CONTACT_FIELDS: dict[str, tuple[str, Rule]] = {
    "firstName": ("first_name", Rule(maximum=100, required=True)),
    "lastName": ("last_name", Rule(maximum=100)),
    "company": ("company", Rule(maximum=200)),
    "email": ("email", Rule(Kind.EMAIL, 254, required=True)),
    "phone": ("phone", Rule(Kind.PHONE, 40)),
    "street": ("street", Rule(maximum=200)),
    "neighborhood": ("neighborhood", Rule(maximum=120)),
    "city": ("city", Rule(maximum=120)),
    "state": ("state", Rule(maximum=120)),
    "postalCode": ("postal_code", Rule(Kind.POSTAL_CODE, 20)),
    "country": ("country", Rule(Kind.COUNTRY, 60)),
}


class ContactErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_POSTAL_CODE = "INVALID_POSTAL_CODE"
    EMAIL_TAKEN = "EMAIL_TAKEN"


async def contacts(
    ctx: Context, account: Account, page: PageRequest, contact_filter: ContactFilter
) -> Page[Contact]:
    async with ctx.db.read() as session:
        return await models.contacts_page(
            session, account_id=account.id, page=page, contact_filter=contact_filter
        )


async def contacts_count(ctx: Context, account: Account, contact_filter: ContactFilter) -> int:
    async with ctx.db.read() as session:
        return await models.count_contacts(
            session, account_id=account.id, contact_filter=contact_filter
        )


async def account_of_contact(ctx: Context, contact_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await models.account_of_contact(session, contact_id)


async def contact(ctx: Context, account: Account, contact_id: uuid.UUID) -> Contact | None:
    async with ctx.db.read() as session:
        return await models.contact_in_account(
            session, account_id=account.id, contact_id=contact_id
        )


async def _validated(
    ctx: Context,
    account: Account,
    values: dict[str, str | None],
    *,
    current: Contact | None,
) -> tuple[dict[str, Any], list[Any]]:
    errors: FieldErrors[ContactErrorCode] = FieldErrors()
    rules = {path: rule for path, (_, rule) in CONTACT_FIELDS.items()}
    if current is None:  # creating: a missing required field is an error, not "unchanged"
        missing = {p: "" for p, rule in rules.items() if rule.required and values.get(p) is None}
        values = {**values, **missing}
    country = values.get("country") or (current.country if current else None) or account.country
    cleaned = check_fields(errors, ContactErrorCode, values, rules, country=country)
    email = cleaned.get("email")
    if email and (current is None or email != current.email.lower()):
        async with ctx.db.read() as session:
            taken = await models.contact_with_email(session, account_id=account.id, email=email)
        if taken is not None:
            errors.add("email", ContactErrorCode.EMAIL_TAKEN, "contact.email_taken")
    columns = {CONTACT_FIELDS[path][0]: value for path, value in cleaned.items()}
    if "last_name" in columns and columns["last_name"] is None:
        columns["last_name"] = ""  # stored as "" so that contacts sort by it
    return columns, errors.errors


async def create_contact(
    ctx: Context,
    account: Account,
    values: dict[str, str | None],
    *,
    active: bool,
    categories: frozenset[EmailCategory],
) -> Outcome[Contact, ContactErrorCode]:
    columns, errors = await _validated(ctx, account, values, current=None)
    if errors:
        return Outcome(errors=errors)
    async with ctx.transaction() as session:
        row = Contact(account_id=account.id, active=active, categories=categories, **columns)
        session.add(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.CONTACT_CREATED,
            target=row.email,
        )
    return Outcome(value=row)


async def update_contact(
    ctx: Context,
    account: Account,
    contact_id: uuid.UUID,
    values: dict[str, str | None],
    *,
    active: bool | None,
    categories: frozenset[EmailCategory] | None,
) -> Outcome[Contact, ContactErrorCode]:
    current = await contact(ctx, account, contact_id)
    assert current is not None, "the permission check found its account"
    columns, errors = await _validated(ctx, account, values, current=current)
    if errors:
        return Outcome(errors=errors)
    if active is not None:
        columns["active"] = active
    if categories is not None:
        columns["categories"] = categories
    changes = [
        Change(column, _text(getattr(current, column)), _text(value))
        for column, value in columns.items()
        if getattr(current, column) != value
    ]
    if not changes:
        return Outcome(value=current)
    async with ctx.transaction() as session:
        row = await models.contact_in_account(session, account_id=account.id, contact_id=contact_id)
        assert row is not None
        for change in changes:
            setattr(row, change.field, columns[change.field])
        if any(change.field == "email" for change in changes):
            # A new address is mailed again (it is the one that bounced no more).
            row.bouncing, row.bounced_at = False, None
        row.updated_at = utcnow()
        session.add(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.CONTACT_UPDATED,
            target=row.email,
            changes=changes,
        )
        await emit(
            session,
            account.id,
            "contact.updated",
            {
                "contactId": encode_global_id("Contact", row.id),
                "changes": {_camel(change.field): change.after for change in changes},
            },
        )
    return Outcome(value=row)


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.title() for part in rest)


async def delete_contact(ctx: Context, account: Account, contact_id: uuid.UUID) -> uuid.UUID:
    async with ctx.transaction() as session:
        row = await models.contact_in_account(session, account_id=account.id, contact_id=contact_id)
        assert row is not None, "the permission check found its account"
        await session.delete(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.CONTACT_DELETED,
            target=row.email,
        )
    return contact_id


def _text(value: object) -> str | None:
    if isinstance(value, frozenset):
        return ",".join(sorted(str(v) for v in value))
    return None if value is None else str(value)
