"""An account's contacts and the mutations that manage them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from clientzone.auth.permissions import input_object, scoped_account
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.models import contacts as models
from clientzone.models.contact_access import ContactAccess as AccessRow
from clientzone.models.invitations import InvitationStatus
from clientzone.resolvers import contact_access as access_resolvers
from clientzone.resolvers import contacts as resolvers
from clientzone.resolvers.contacts import ContactErrorCode
from clientzone.resolvers.invitations import InviteUserErrorCode
from clientzone.schema.enums import EmailCategory, Permission
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.members import Invitation, Member
from clientzone.schema.node import Node
from clientzone.schema.payloads import user_errors

strawberry.enum(ContactErrorCode)


@strawberry.enum(description="Where a contact's sign-in access stands.")
class ContactAccessStatus(Enum):
    INVITED = "INVITED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REMOVED = "REMOVED"


@strawberry.type(description="A contact who can sign in: the invitation and the member it became.")
class ContactAccess:
    status: ContactAccessStatus
    member: Member | None = strawberry.field(description="Once the invitation is accepted.")
    invitation: Invitation | None = strawberry.field(
        description="The invitation sent to the contact's email (none when linked to a member)."
    )

    @classmethod
    def from_row(cls, row: AccessRow) -> ContactAccess:
        member = Member.from_row(row.membership, row.user) if row.membership and row.user else None
        invitation = Invitation.from_row(row.invitation) if row.invitation else None
        if row.membership is not None:
            status = (
                ContactAccessStatus.SUSPENDED
                if row.membership.suspended_at
                else ContactAccessStatus.ACTIVE
            )
        elif row.invitation is None or row.invitation.status is InvitationStatus.ACCEPTED:
            status = ContactAccessStatus.REMOVED
        elif row.invitation.status is InvitationStatus.PENDING:
            status = ContactAccessStatus.INVITED
        else:
            status = ContactAccessStatus(row.invitation.status.value)
        return cls(status=status, member=member, invitation=invitation)


@strawberry.type(description="Someone who receives the account's emails; can be given a login.")
class Contact(Node):
    first_name: str
    last_name: str
    company: str | None
    email: str
    phone: str | None = strawberry.field(description="E.164, e.g. +525512345678.")
    street: str | None
    neighborhood: str | None = strawberry.field(description="Colonia, barrio.")
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    active: bool = strawberry.field(description="Inactive contacts receive nothing.")
    categories: list[EmailCategory] = strawberry.field(
        description="The kinds of email this contact receives."
    )
    bouncing: bool = strawberry.field(
        description="The mail server refused this address for good: the contact "
        "receives nothing until the email is changed (which clears it)."
    )
    bounced_at: datetime | None = strawberry.field(
        description="When the address was first refused; null when not bouncing."
    )
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Contact]

    @strawberry.field(
        description="Whether the contact can sign in (grantContactAccess); "
        "null when never given access, or for a viewer without USERS_MANAGE."
    )
    async def access(self, info: Info) -> ContactAccess | None:
        found = await access_resolvers.contact_access(info.context, self.row)
        return ContactAccess.from_row(found) if found else None

    @classmethod
    def from_row(cls, row: models.Contact) -> Contact:
        return cls(
            row=row,
            id=strawberry.ID(encode_global_id("Contact", row.id)),
            first_name=row.first_name,
            last_name=row.last_name,
            company=row.company,
            email=row.email,
            phone=row.phone,
            street=row.street,
            neighborhood=row.neighborhood,
            city=row.city,
            state=row.state,
            postal_code=row.postal_code,
            country=row.country,
            active=row.active,
            categories=sorted(row.categories),
            bouncing=row.bouncing,
            bounced_at=row.bounced_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.input(description="Narrow the contacts list.")
class ContactFilterInput:
    active: bool | None = None
    category: EmailCategory | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the name, company or email (any case)."
    )

    def to_filter(self) -> models.ContactFilter:
        search = (self.search or "").strip()[:100] or None
        return models.ContactFilter(active=self.active, category=self.category, search=search)


@strawberry.input(description='Omitted fields stay as they are; "" clears an optional field.')
class ContactFields:
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    email: str | None = None
    phone: str | None = strawberry.field(
        default=None, description="Read in the contact's (or account's) country without +."
    )
    street: str | None = None
    neighborhood: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def values(self) -> dict[str, str | None]:
        return {
            "firstName": self.first_name,
            "lastName": self.last_name,
            "company": self.company,
            "email": self.email,
            "phone": self.phone,
            "street": self.street,
            "neighborhood": self.neighborhood,
            "city": self.city,
            "state": self.state,
            "postalCode": self.postal_code,
            "country": self.country,
        }


@strawberry.input
class CreateContactInput(ContactFields):
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    active: bool = True
    categories: list[EmailCategory] = strawberry.field(
        default_factory=lambda: [EmailCategory.GENERAL]
    )


@strawberry.input
class UpdateContactInput(ContactFields):
    contact_id: strawberry.ID
    active: bool | None = None
    categories: list[EmailCategory] | None = None


@strawberry.input
class DeleteContactInput:
    contact_id: strawberry.ID


@strawberry.type
class ContactError(UserError):
    code: ContactErrorCode


@strawberry.type
class ContactPayload:
    contact: Contact | None
    user_errors: list[ContactError]


@strawberry.type
class DeleteContactPayload:
    deleted_contact_id: strawberry.ID


contact_in_input = input_object("contact_id", "Contact", resolvers.account_of_contact)


async def create_contact(info: Info, input: CreateContactInput) -> ContactPayload:
    outcome = await resolvers.create_contact(
        info.context,
        scoped_account(info),
        input.values(),
        active=input.active,
        categories=frozenset(input.categories),
    )
    return ContactPayload(
        contact=Contact.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(ContactError, outcome.errors, info.context.locale),
    )


async def update_contact(info: Info, input: UpdateContactInput) -> ContactPayload:
    contact_id = decode_id_of("Contact", str(input.contact_id))
    assert contact_id is not None, "the permission check decoded it"
    outcome = await resolvers.update_contact(
        info.context,
        scoped_account(info),
        contact_id,
        input.values(),
        active=input.active,
        categories=frozenset(input.categories) if input.categories is not None else None,
    )
    return ContactPayload(
        contact=Contact.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(ContactError, outcome.errors, info.context.locale),
    )


@strawberry.input
class GrantContactAccessInput:
    contact_id: strawberry.ID
    permissions: list[Permission] = strawberry.field(
        description="What the new member may do (only permissions you hold)."
    )


@strawberry.type
class GrantContactAccessError(UserError):
    code: InviteUserErrorCode


@strawberry.type
class GrantContactAccessPayload:
    contact: Contact | None
    user_errors: list[GrantContactAccessError]


async def grant_contact_access(
    info: Info, input: GrantContactAccessInput
) -> GrantContactAccessPayload:
    contact_id = decode_id_of("Contact", str(input.contact_id))
    assert contact_id is not None, "the permission check decoded it"
    outcome = await access_resolvers.grant_contact_access(
        info.context, scoped_account(info), contact_id, frozenset(input.permissions)
    )
    return GrantContactAccessPayload(
        contact=Contact.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(GrantContactAccessError, outcome.errors, info.context.locale),
    )


async def delete_contact(info: Info, input: DeleteContactInput) -> DeleteContactPayload:
    contact_id = decode_id_of("Contact", str(input.contact_id))
    assert contact_id is not None, "the permission check decoded it"
    await resolvers.delete_contact(info.context, scoped_account(info), contact_id)
    return DeleteContactPayload(deleted_contact_id=input.contact_id)
