"""Contacts who can sign in: the invitation sent to a contact's email and the
membership it became (or the member the contact was linked to directly)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.models.contacts import Contact
from clientzone.models.invitations import Invitation
from clientzone.models.memberships import Membership
from clientzone.models.users import User


@dataclass(frozen=True)
class ContactAccess:
    invitation: Invitation | None
    membership: Membership | None
    user: User | None


async def access_of_contacts(
    session: AsyncSession, contact_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ContactAccess]:
    """For each linked contact: its invitation, and the membership it leads to
    (the linked one, else the one its accepted invitation made). One statement."""
    if not contact_ids:
        return {}
    membership_of = or_(
        col(Membership.id) == col(Contact.membership_id),
        and_(
            col(Contact.membership_id).is_(None),
            col(Membership.account_id) == col(Contact.account_id),
            col(Membership.user_id) == col(Invitation.accepted_by),
        ),
    )
    statement = (
        select(col(Contact.id), Invitation, Membership, User)
        .select_from(Contact)
        .outerjoin(Invitation, col(Invitation.id) == col(Contact.invitation_id))
        .outerjoin(Membership, membership_of)
        .outerjoin(User, col(User.id) == col(Membership.user_id))
        .where(
            col(Contact.id).in_(list(contact_ids)),
            or_(col(Contact.invitation_id).is_not(None), col(Contact.membership_id).is_not(None)),
        )
    )
    rows = (await session.execute(statement)).all()
    return {
        contact_id: ContactAccess(invitation, membership, user)
        for contact_id, invitation, membership, user in rows
    }


async def member_with_email(
    session: AsyncSession, *, account_id: uuid.UUID, email: str
) -> Membership | None:
    """The direct membership here of the login with this email."""
    statement = (
        select(Membership)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(col(Membership.account_id) == account_id, col(User.email) == email)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def link_contact(
    session: AsyncSession,
    contact_id: uuid.UUID,
    *,
    invitation_id: uuid.UUID | None,
    membership_id: uuid.UUID | None,
) -> Contact:
    row = await session.get(Contact, contact_id)
    assert row is not None
    row.invitation_id, row.membership_id = invitation_id, membership_id
    session.add(row)
    await session.flush()
    return row
