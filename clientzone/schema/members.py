"""The people who share an account, and invitations to join it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from clientzone.auth.permissions import input_object, scoped_account
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.models import invitations as invitation_models
from clientzone.models import memberships as membership_models
from clientzone.models.users import User as UserRow
from clientzone.resolvers import invitations as invitation_resolvers
from clientzone.resolvers import members as resolvers
from clientzone.resolvers.invitations import (
    AcceptInvitationErrorCode,
    InvitationChangeErrorCode,
    InviteUserErrorCode,
)
from clientzone.resolvers.members import (
    RemoveMemberErrorCode,
    SetMemberAccessErrorCode,
    TransferOwnershipErrorCode,
    UpdateMemberPermissionsErrorCode,
)
from clientzone.schema.enums import Permission, Role
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.node import Node
from clientzone.schema.payloads import user_errors

for enum_type in (
    AcceptInvitationErrorCode,
    InvitationChangeErrorCode,
    InviteUserErrorCode,
    RemoveMemberErrorCode,
    SetMemberAccessErrorCode,
    TransferOwnershipErrorCode,
    UpdateMemberPermissionsErrorCode,
):
    strawberry.enum(enum_type)
strawberry.enum(invitation_models.InvitationStatus, description="Where an invitation stands.")


@strawberry.enum(description="Whether a member's access to the account is on.")
class MemberStatus(Enum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


@strawberry.type(description="A person who shares the account, with what they may do.")
class Member(Node):
    email: str
    first_name: str
    last_name: str
    role: Role
    permissions: list[Permission] = strawberry.field(
        description="Every permission for an OWNER; the granted set for a MEMBER."
    )
    since: datetime
    status: MemberStatus = strawberry.field(
        description="SUSPENDED: kept, but reaches nothing in the account (setMemberAccess)."
    )

    @classmethod
    def from_row(cls, membership: membership_models.Membership, user: UserRow) -> Member:
        permissions = (
            membership_models.ALL_PERMISSIONS
            if membership.role is membership_models.Role.OWNER
            else membership.permissions
        )
        return cls(
            id=strawberry.ID(encode_global_id("Member", membership.id)),
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            role=membership.role,
            permissions=sorted(permissions),
            since=membership.created_at,
            status=MemberStatus.SUSPENDED if membership.suspended_at else MemberStatus.ACTIVE,
        )


@strawberry.type(description="An invitation to join the account (link valid 48 hours).")
class Invitation(Node):
    email: str
    permissions: list[Permission]
    status: invitation_models.InvitationStatus
    created_at: datetime
    expires_at: datetime

    @classmethod
    def from_row(cls, row: invitation_models.Invitation) -> Invitation:
        return cls(
            id=strawberry.ID(encode_global_id("Invitation", row.id)),
            email=row.email,
            permissions=sorted(row.permissions),
            status=row.status,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )


member_in_input = input_object("member_id", "Member", resolvers.account_of_member)
invitation_in_input = input_object(
    "invitation_id", "Invitation", invitation_resolvers.account_of_invitation
)


def _decoded(type_name: str, value: strawberry.ID) -> uuid.UUID:
    decoded = decode_id_of(type_name, str(value))
    assert decoded is not None, "the permission check decoded it"
    return decoded


@strawberry.input
class UpdateMemberPermissionsInput:
    member_id: strawberry.ID
    permissions: list[Permission]


@strawberry.type
class UpdateMemberPermissionsError(UserError):
    code: UpdateMemberPermissionsErrorCode


@strawberry.type
class MemberPayload:
    member: Member | None


@strawberry.type
class UpdateMemberPermissionsPayload(MemberPayload):
    user_errors: list[UpdateMemberPermissionsError]


async def update_member_permissions(
    info: Info, input: UpdateMemberPermissionsInput
) -> UpdateMemberPermissionsPayload:
    outcome = await resolvers.update_member_permissions(
        info.context,
        scoped_account(info),
        _decoded("Member", input.member_id),
        frozenset(input.permissions),
    )
    return UpdateMemberPermissionsPayload(
        member=Member.from_row(*outcome.value) if outcome.value else None,
        user_errors=user_errors(UpdateMemberPermissionsError, outcome.errors, info.context.locale),
    )


@strawberry.input
class RemoveMemberInput:
    member_id: strawberry.ID


@strawberry.type
class RemoveMemberError(UserError):
    code: RemoveMemberErrorCode


@strawberry.type
class RemoveMemberPayload:
    removed_member_id: strawberry.ID | None
    user_errors: list[RemoveMemberError]


async def remove_member(info: Info, input: RemoveMemberInput) -> RemoveMemberPayload:
    outcome = await resolvers.remove_member(
        info.context, scoped_account(info), _decoded("Member", input.member_id)
    )
    return RemoveMemberPayload(
        removed_member_id=input.member_id if outcome.value else None,
        user_errors=user_errors(RemoveMemberError, outcome.errors, info.context.locale),
    )


@strawberry.input
class SetMemberAccessInput:
    member_id: strawberry.ID
    enabled: bool = strawberry.field(description="false suspends the member; true restores them.")


@strawberry.type
class SetMemberAccessError(UserError):
    code: SetMemberAccessErrorCode


@strawberry.type
class SetMemberAccessPayload(MemberPayload):
    user_errors: list[SetMemberAccessError]


async def set_member_access(info: Info, input: SetMemberAccessInput) -> SetMemberAccessPayload:
    outcome = await resolvers.set_member_access(
        info.context, scoped_account(info), _decoded("Member", input.member_id), input.enabled
    )
    return SetMemberAccessPayload(
        member=Member.from_row(*outcome.value) if outcome.value else None,
        user_errors=user_errors(SetMemberAccessError, outcome.errors, info.context.locale),
    )


@strawberry.input
class TransferOwnershipInput:
    member_id: strawberry.ID = strawberry.field(description="Who becomes the owner.")
    current_password: str


@strawberry.type
class TransferOwnershipError(UserError):
    code: TransferOwnershipErrorCode


@strawberry.type
class TransferOwnershipPayload(MemberPayload):
    user_errors: list[TransferOwnershipError]


async def transfer_ownership(info: Info, input: TransferOwnershipInput) -> TransferOwnershipPayload:
    outcome = await resolvers.transfer_ownership(
        info.context,
        scoped_account(info),
        _decoded("Member", input.member_id),
        input.current_password,
    )
    return TransferOwnershipPayload(
        member=Member.from_row(*outcome.value) if outcome.value else None,
        user_errors=user_errors(TransferOwnershipError, outcome.errors, info.context.locale),
    )


@strawberry.input
class InviteUserInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    email: str
    permissions: list[Permission]


@strawberry.type
class InviteUserError(UserError):
    code: InviteUserErrorCode


@strawberry.type
class InviteUserPayload:
    invitation: Invitation | None
    user_errors: list[InviteUserError]


async def invite_user(info: Info, input: InviteUserInput) -> InviteUserPayload:
    outcome = await invitation_resolvers.invite_user(
        info.context, scoped_account(info), input.email, frozenset(input.permissions)
    )
    return InviteUserPayload(
        invitation=Invitation.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(InviteUserError, outcome.errors, info.context.locale),
    )


@strawberry.input
class InvitationInput:
    invitation_id: strawberry.ID


@strawberry.type
class InvitationChangeError(UserError):
    code: InvitationChangeErrorCode


@strawberry.type
class InvitationPayload:
    invitation: Invitation | None
    user_errors: list[InvitationChangeError]


async def resend_invitation(info: Info, input: InvitationInput) -> InvitationPayload:
    outcome = await invitation_resolvers.resend_invitation(
        info.context, scoped_account(info), _decoded("Invitation", input.invitation_id)
    )
    return InvitationPayload(
        invitation=Invitation.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(InvitationChangeError, outcome.errors, info.context.locale),
    )


async def revoke_invitation(info: Info, input: InvitationInput) -> InvitationPayload:
    outcome = await invitation_resolvers.revoke_invitation(
        info.context, scoped_account(info), _decoded("Invitation", input.invitation_id)
    )
    return InvitationPayload(
        invitation=Invitation.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(InvitationChangeError, outcome.errors, info.context.locale),
    )


@strawberry.input
class AcceptInvitationInput:
    token: str = strawberry.field(description="From the emailed link.")
    password: str | None = strawberry.field(
        default=None, description="For a new login; omit when signed in."
    )
    first_name: str | None = None
    last_name: str | None = None


@strawberry.type
class AcceptInvitationError(UserError):
    code: AcceptInvitationErrorCode


@strawberry.type
class AcceptInvitationPayload:
    account_id: strawberry.ID | None = strawberry.field(
        description="The account joined; query it with account(id:)."
    )
    user_errors: list[AcceptInvitationError]


async def accept_invitation(info: Info, input: AcceptInvitationInput) -> AcceptInvitationPayload:
    outcome = await invitation_resolvers.accept_invitation(
        info.context,
        token=input.token,
        password=input.password,
        first_name=input.first_name,
        last_name=input.last_name,
    )
    joined = outcome.value
    return AcceptInvitationPayload(
        account_id=strawberry.ID(encode_global_id("Account", joined[0].id)) if joined else None,
        user_errors=user_errors(AcceptInvitationError, outcome.errors, info.context.locale),
    )
