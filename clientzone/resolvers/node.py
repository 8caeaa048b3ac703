"""`node(id:)`: any object by global ID, under the same rules as everywhere.

Each account-scoped type names the permission it needs and how to find its
account, in NODE_KINDS: an object of an account the viewer does not belong to
is NOT_FOUND, exactly like a missing one; a member without the permission gets
FORBIDDEN naming it, as on the list field.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.access import reachable_account, require_permission, require_viewer
from clientzone.auth.context import Context
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_global_id
from clientzone.models import (
    activity,
    cases,
    contacts,
    invitations,
    invoices,
    ledger,
    mail,
    memberships,
    orders,
    payments,
)
from clientzone.models.memberships import Permission


@dataclass(frozen=True)
class NodeKind:
    permission: Permission
    account_of: Callable[[AsyncSession, uuid.UUID], Awaitable[uuid.UUID | None]]
    load: Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[Any]]


NODE_KINDS: dict[str, NodeKind] = {
    "EmailMessage": NodeKind(
        Permission.EMAILS_VIEW,
        mail.account_of_email,
        lambda s, account_id, i: mail.account_email(s, account_id=account_id, email_id=i),
    ),
    "Contact": NodeKind(
        Permission.CONTACTS_MANAGE,
        contacts.account_of_contact,
        lambda s, account_id, i: contacts.contact_in_account(
            s, account_id=account_id, contact_id=i
        ),
    ),
    "Member": NodeKind(
        Permission.USERS_MANAGE,
        memberships.account_of_membership,
        lambda s, account_id, i: memberships.member_in_account(
            s, account_id=account_id, membership_id=i
        ),
    ),
    "Invitation": NodeKind(
        Permission.USERS_MANAGE,
        invitations.account_of_invitation,
        lambda s, account_id, i: invitations.invitation_in_account(
            s, account_id=account_id, invitation_id=i
        ),
    ),
    "Invoice": NodeKind(
        Permission.INVOICES_VIEW,
        invoices.account_of_invoice,
        lambda s, account_id, i: invoices.invoice_in_account(
            s, account_id=account_id, invoice_id=i
        ),
    ),
    "Order": NodeKind(
        Permission.ORDERS_VIEW,
        orders.account_of_order,
        lambda s, account_id, i: orders.order_in_account(s, account_id=account_id, order_id=i),
    ),
    "Service": NodeKind(
        Permission.SERVICES_VIEW,
        orders.account_of_service,
        lambda s, account_id, i: orders.service_in_account(s, account_id=account_id, service_id=i),
    ),
    "Payment": NodeKind(
        Permission.INVOICES_VIEW,
        payments.account_of_payment,
        lambda s, account_id, i: payments.payment_in_account(
            s, account_id=account_id, payment_id=i
        ),
    ),
    "LedgerEntry": NodeKind(
        Permission.INVOICES_VIEW,
        ledger.account_of_entry,
        lambda s, account_id, i: ledger.entry_in_account(s, account_id=account_id, entry_id=i),
    ),
    "Case": NodeKind(
        Permission.CASES_VIEW,
        cases.account_of_case,
        lambda s, account_id, i: cases.case_in_account(s, account_id=account_id, case_id=i),
    ),
    # Internal staff notes are not found: customers never see them, by any path.
    "CaseComment": NodeKind(
        Permission.CASES_VIEW,
        cases.account_of_comment,
        lambda s, account_id, i: cases.comment_in_account(
            s, account_id=account_id, comment_id=i, include_internal=False
        ),
    ),
    "CaseAttachment": NodeKind(
        Permission.CASES_VIEW,
        cases.account_of_attachment,
        lambda s, account_id, i: cases.attachment_in_account(
            s, account_id=account_id, attachment_id=i
        ),
    ),
    "Activity": NodeKind(
        Permission.ACTIVITY_VIEW,
        activity.account_of_activity,
        lambda s, account_id, i: activity.activity_in_account(s, account_id=account_id, entry_id=i),
    ),
}


async def node(ctx: Context, global_id: str) -> tuple[str, Any]:
    """The type name and the row (or rows) behind a global ID."""
    viewer = require_viewer(ctx) if ctx.api_client is None else None
    try:
        type_name, row_id = decode_global_id(global_id)
    except ValueError:
        raise NotFound from None
    if type_name == "Account":
        account, _grant = await reachable_account(ctx, row_id)
        return type_name, account
    if type_name == "User" and viewer is not None and row_id == viewer.user.id:
        return type_name, viewer.user
    kind = NODE_KINDS.get(type_name)
    if kind is None:
        raise NotFound
    async with ctx.db.read() as session:
        account_id = await kind.account_of(session, row_id)
    if account_id is None:
        raise NotFound
    await require_permission(ctx, account_id, kind.permission)
    async with ctx.db.read() as session:
        found = await kind.load(session, account_id, row_id)
    if found is None:
        raise NotFound
    return type_name, found
