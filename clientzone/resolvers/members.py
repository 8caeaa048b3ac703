"""The people who share an account (USERS_MANAGE to see and change them).

Rules: a member can give only permissions they hold themselves and cannot
change their own; an owner cannot be downgraded, and only an owner can remove
another owner; the last owner always stays; ownership passes with
`transferOwnership`, by an owner who confirms their password. A member (never
an owner, never oneself) can be suspended and restored without being removed:
while suspended they reach nothing in the account.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.core.ids import encode_global_id
from clientzone.models import memberships as models
from clientzone.models import sessions as session_models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Change, record_activity
from clientzone.models.auth_changes import mark_user
from clientzone.models.base import utcnow
from clientzone.models.memberships import ALL_PERMISSIONS, Grant, Membership, Permission, Role
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.users import User
from clientzone.models.webhooks import emit
from clientzone.resolvers.activity import actor
from clientzone.resolvers.email_verification import confirm_password
from clientzone.resolvers.validation import FieldErrors, Outcome


async def members(
    ctx: Context, account: Account, page: PageRequest
) -> Page[tuple[Membership, User]]:
    async with ctx.db.read() as session:
        return await models.members_page(session, account_id=account.id, page=page)


async def members_count(ctx: Context, account: Account) -> int:
    async with ctx.db.read() as session:
        return await models.count_members(session, account_id=account.id)


async def account_of_member(ctx: Context, membership_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await models.account_of_membership(session, membership_id)


async def _member(
    ctx: Context, account: Account, membership_id: uuid.UUID
) -> tuple[Membership, User]:
    async with ctx.db.read() as session:
        found = await models.member_in_account(
            session, account_id=account.id, membership_id=membership_id
        )
    assert found is not None, "the permission check found its account"
    return found


async def _my_grant(ctx: Context, account: Account) -> Grant:
    require_viewer(ctx)  # people are managed by people, not by API clients
    grant = await ctx.loaders.grant_by_account.load(account.id)
    assert grant is not None, "the permission check found the viewer's grant"
    return grant


class UpdateMemberPermissionsErrorCode(StrEnum):
    OWNER_PROTECTED = "OWNER_PROTECTED"
    CANNOT_CHANGE_SELF = "CANNOT_CHANGE_SELF"
    PERMISSION_NOT_HELD = "PERMISSION_NOT_HELD"


async def update_member_permissions(
    ctx: Context, account: Account, membership_id: uuid.UUID, permissions: frozenset[Permission]
) -> Outcome[tuple[Membership, User], UpdateMemberPermissionsErrorCode]:
    code = UpdateMemberPermissionsErrorCode
    errors: FieldErrors[UpdateMemberPermissionsErrorCode] = FieldErrors()
    membership, user = await _member(ctx, account, membership_id)
    mine = await _my_grant(ctx, account)
    if membership.role is Role.OWNER:
        errors.add("memberId", code.OWNER_PROTECTED, "member.owner_protected")
    elif user.id == require_viewer(ctx).user.id:
        errors.add("memberId", code.CANNOT_CHANGE_SELF, "member.self")
    elif not permissions <= mine.permissions:
        missing = ", ".join(sorted(permissions - mine.permissions))
        errors.add("permissions", code.PERMISSION_NOT_HELD, "member.not_held", permissions=missing)
    if errors:
        return Outcome(errors=errors.errors)
    before = membership.permissions
    async with ctx.transaction() as session:
        row = await session.get(Membership, membership.id)
        assert row is not None
        row.permissions = permissions
        session.add(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.MEMBER_PERMISSIONS_UPDATED,
            target=user.email,
            changes=[Change("permissions", _names(before), _names(permissions))],
        )
    return Outcome(value=(row, user))


def _names(permissions: frozenset[Permission]) -> str:
    return ",".join(sorted(permissions))


class RemoveMemberErrorCode(StrEnum):
    OWNER_PROTECTED = "OWNER_PROTECTED"
    LAST_OWNER = "LAST_OWNER"


async def remove_member(
    ctx: Context, account: Account, membership_id: uuid.UUID
) -> Outcome[uuid.UUID, RemoveMemberErrorCode]:
    """Remove someone (or yourself) from the account; they lose access at once."""
    code = RemoveMemberErrorCode
    errors: FieldErrors[RemoveMemberErrorCode] = FieldErrors()
    membership, user = await _member(ctx, account, membership_id)
    mine = await _my_grant(ctx, account)
    async with ctx.transaction() as session:
        if membership.role is Role.OWNER:
            if mine.role is not Role.OWNER:
                errors.add("memberId", code.OWNER_PROTECTED, "member.owner_protected")
            elif await models.count_owners(session, account_id=account.id) <= 1:
                errors.add("memberId", code.LAST_OWNER, "member.last_owner")
        if errors:
            return Outcome(errors=errors.errors)
        row = await session.get(Membership, membership.id)
        assert row is not None
        await session.delete(row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.MEMBER_REMOVED,
            target=user.email,
        )
        await emit(
            session,
            account.id,
            "member.removed",
            {"memberId": encode_global_id("Member", membership.id), "email": user.email},
        )
    return Outcome(value=membership.id)


class SetMemberAccessErrorCode(StrEnum):
    OWNER_PROTECTED = "OWNER_PROTECTED"
    CANNOT_CHANGE_SELF = "CANNOT_CHANGE_SELF"


async def set_member_access(
    ctx: Context, account: Account, membership_id: uuid.UUID, enabled: bool
) -> Outcome[tuple[Membership, User], SetMemberAccessErrorCode]:
    """Suspend (enabled=false) or restore a member. Their sessions lose the
    account at once: the cached sessions of the login are dropped on commit
    in every server process, and a session that had it active forgets it."""
    code = SetMemberAccessErrorCode
    errors: FieldErrors[SetMemberAccessErrorCode] = FieldErrors()
    viewer = require_viewer(ctx)  # people are managed by people, not by API clients
    membership, user = await _member(ctx, account, membership_id)
    if membership.role is Role.OWNER:
        errors.add("memberId", code.OWNER_PROTECTED, "member.owner_protected")
    elif user.id == viewer.user.id:
        errors.add("memberId", code.CANNOT_CHANGE_SELF, "member.self")
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        row = await session.get(Membership, membership.id)
        assert row is not None
        if (row.suspended_at is None) is enabled:
            return Outcome(value=(row, user))  # already so: nothing to write
        row.suspended_at = None if enabled else utcnow()
        session.add(row)
        if not enabled:
            await session_models.forget_active_account(
                session, user_id=user.id, account_id=account.id
            )
        mark_user(session, user.id)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.MEMBER_RESTORED if enabled else ActivityAction.MEMBER_SUSPENDED,
            target=user.email,
        )
    return Outcome(value=(row, user))


class TransferOwnershipErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    NOT_OWNER = "NOT_OWNER"
    INVALID_PASSWORD = "INVALID_PASSWORD"  # noqa: S105 (an error code)
    ALREADY_OWNER = "ALREADY_OWNER"


async def transfer_ownership(
    ctx: Context, account: Account, membership_id: uuid.UUID, current_password: str
) -> Outcome[tuple[Membership, User], TransferOwnershipErrorCode]:
    """The member becomes OWNER; the previous owner stays as a MEMBER with
    every permission (they can then leave, or be removed by the new owner)."""
    code = TransferOwnershipErrorCode
    errors: FieldErrors[TransferOwnershipErrorCode] = FieldErrors()
    viewer = require_viewer(ctx)
    membership, user = await _member(ctx, account, membership_id)
    async with ctx.db.read() as session:
        mine = await models.direct_membership(
            session, account_id=account.id, user_id=viewer.user.id
        )
    if mine is None or mine.role is not Role.OWNER:
        errors.add(None, code.NOT_OWNER, "member.not_owner")
    elif membership.role is Role.OWNER:
        errors.add("memberId", code.ALREADY_OWNER, "member.already_owner")
    if not current_password:
        errors.add("currentPassword", code.REQUIRED, "field.required")
    elif not errors and not await confirm_password(ctx, viewer.user, current_password):
        errors.add("currentPassword", code.INVALID_PASSWORD, "auth.invalid_password")
    if errors:
        return Outcome(errors=errors.errors)
    assert mine is not None
    async with ctx.transaction() as session:
        new_owner = await session.get(Membership, membership.id)
        old_owner = await session.get(Membership, mine.id)
        assert new_owner is not None
        assert old_owner is not None
        new_owner.role, new_owner.permissions = Role.OWNER, frozenset()
        old_owner.role, old_owner.permissions = Role.MEMBER, ALL_PERMISSIONS
        session.add_all([new_owner, old_owner])
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.OWNERSHIP_TRANSFERRED,
            target=user.email,
            changes=[Change("owner", viewer.user.email, user.email)],
        )
    return Outcome(value=(new_owner, user))
