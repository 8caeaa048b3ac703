"""Letting a contact sign in (grantContactAccess): their email is invited as a
member with the usual 48-hour invitation, and the contact stays linked to the
invitation and to the member it becomes. A contact whose email already is a
member's login is linked to that member at once (no email is sent)."""

from __future__ import annotations

import uuid

from clientzone.auth.access import holds_permission, require_viewer
from clientzone.auth.context import Context
from clientzone.models import contact_access as models
from clientzone.models.accounts import Account
from clientzone.models.contact_access import ContactAccess
from clientzone.models.contacts import Contact
from clientzone.models.memberships import Permission
from clientzone.models.users import normalize_email
from clientzone.resolvers.contacts import contact
from clientzone.resolvers.invitations import (
    InviteUserErrorCode,
    check_invitation,
    issue_invitation,
)
from clientzone.resolvers.validation import FieldErrors, Outcome


async def grant_contact_access(
    ctx: Context, account: Account, contact_id: uuid.UUID, permissions: frozenset[Permission]
) -> Outcome[Contact, InviteUserErrorCode]:
    require_viewer(ctx)  # people are invited by people, not by API clients
    found = await contact(ctx, account, contact_id)
    assert found is not None, "the permission check found its account"
    address = normalize_email(found.email)
    async with ctx.db.read() as session:
        member = await models.member_with_email(session, account_id=account.id, email=address)
    if member is not None:
        async with ctx.transaction() as session:
            row = await models.link_contact(
                session, found.id, invitation_id=None, membership_id=member.id
            )
        return Outcome(value=row)
    errors: FieldErrors[InviteUserErrorCode] = FieldErrors()
    await check_invitation(ctx, account, address, permissions, errors, email_field="contactId")
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        invitation = await issue_invitation(ctx, session, account, address, permissions)
        row = await models.link_contact(
            session, found.id, invitation_id=invitation.id, membership_id=None
        )
    return Outcome(value=row)


async def contact_access(ctx: Context, row: Contact) -> ContactAccess | None:
    """Shown to those who manage the account's users; batched per request."""
    if row.invitation_id is None and row.membership_id is None:
        return None
    if not await holds_permission(ctx, row.account_id, Permission.USERS_MANAGE):
        return None
    return await ctx.loaders.contact_access.load(row.id)
