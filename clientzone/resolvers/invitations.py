"""Inviting people to an account (USERS_MANAGE) and accepting an invitation.

The link is valid 48 hours and names one email: a new person accepting it gets
a verified login for that email (the link proved they read its mail) and is
signed in; someone who already has a login accepts while signed in with it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context, Viewer
from clientzone.auth.passwords import hash_password
from clientzone.auth.rate_limits import VERIFY_ATTEMPT_PER_IP
from clientzone.brands import brand_of
from clientzone.core.ids import encode_global_id
from clientzone.mailers.outbox import notify_address
from clientzone.models import invitations as models
from clientzone.models import users
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Actor, ActorKind, record_activity
from clientzone.models.base import utcnow
from clientzone.models.invitations import INVITATION_LIFETIME, Invitation, InvitationStatus
from clientzone.models.memberships import Permission, Role, grant_membership, members_with_email
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.sessions import SessionKind, create_session
from clientzone.models.users import User
from clientzone.models.webhooks import emit
from clientzone.resolvers.activity import actor
from clientzone.resolvers.security import check_new_password
from clientzone.resolvers.validation import FieldErrors, Outcome

NAME_MAX_LENGTH = 100


async def invitations(ctx: Context, account: Account, page: PageRequest) -> Page[Invitation]:
    async with ctx.db.read() as session:
        return await models.open_invitations_page(session, account_id=account.id, page=page)


async def invitations_count(ctx: Context, account: Account) -> int:
    async with ctx.db.read() as session:
        return await models.count_open_invitations(session, account_id=account.id)


async def account_of_invitation(ctx: Context, invitation_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await models.account_of_invitation(session, invitation_id)


async def _send(
    ctx: Context, session: AsyncSession, account: Account, email: str, token: str
) -> None:
    inviter = require_viewer(ctx).user
    brand = await brand_of(session, ctx.settings, account)
    await notify_address(
        session,
        ctx.settings,
        to=email,
        locale=account.locale,
        template="invitation",
        carries_token=token,
        account=account,
        inviter_name=f"{inviter.first_name} {inviter.last_name}".strip() or inviter.email,
        link=f"{brand.portal_url}/accept-invitation?token={token}",
        hours=int(INVITATION_LIFETIME.total_seconds() // 3600),
    )


class InviteUserErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    PERMISSION_NOT_HELD = "PERMISSION_NOT_HELD"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    ALREADY_INVITED = "ALREADY_INVITED"


async def invite_user(
    ctx: Context, account: Account, email: str, permissions: frozenset[Permission]
) -> Outcome[Invitation, InviteUserErrorCode]:
    code = InviteUserErrorCode
    errors: FieldErrors[InviteUserErrorCode] = FieldErrors()
    require_viewer(ctx)  # people are invited by people, not by API clients
    address = errors.email("email", email, required=code.REQUIRED, invalid=code.INVALID_EMAIL)
    await check_invitation(ctx, account, address, permissions, errors, email_field="email")
    if errors:
        return Outcome(errors=errors.errors)
    assert address is not None
    async with ctx.transaction() as session:
        invitation = await issue_invitation(ctx, session, account, address, permissions)
    return Outcome(value=invitation)


async def check_invitation(
    ctx: Context,
    account: Account,
    address: str | None,
    permissions: frozenset[Permission],
    errors: FieldErrors[InviteUserErrorCode],
    *,
    email_field: str,
) -> None:
    """The viewer can grant these permissions; the address is not a member or invited yet."""
    code = InviteUserErrorCode
    mine = await ctx.loaders.grant_by_account.load(account.id)
    assert mine is not None, "the permission check found the viewer's grant"
    if not permissions <= mine.permissions:
        missing = ", ".join(sorted(permissions - mine.permissions))
        errors.add("permissions", code.PERMISSION_NOT_HELD, "member.not_held", permissions=missing)
    if address is not None:
        async with ctx.db.read() as session:
            if await members_with_email(session, account_id=account.id, email=address):
                errors.add(email_field, code.ALREADY_MEMBER, "invitation.already_member")
            elif await models.pending_invitation_for(session, account_id=account.id, email=address):
                errors.add(email_field, code.ALREADY_INVITED, "invitation.already_invited")


async def issue_invitation(
    ctx: Context,
    session: AsyncSession,
    account: Account,
    address: str,
    permissions: frozenset[Permission],
) -> Invitation:
    """Create the invitation, write the activity, and queue the email (in `session`)."""
    token, invitation = await models.create_invitation(
        session,
        account_id=account.id,
        email=address,
        permissions=permissions,
        invited_by=require_viewer(ctx).user.id,
    )
    record_activity(
        session,
        account_id=account.id,
        actor=actor(ctx),
        action=ActivityAction.INVITATION_SENT,
        target=address,
    )
    await _send(ctx, session, account, address, token)
    return invitation


class InvitationChangeErrorCode(StrEnum):
    NOT_OPEN = "NOT_OPEN"


async def _open_invitation(
    ctx: Context,
    account: Account,
    invitation_id: uuid.UUID,
    errors: FieldErrors[InvitationChangeErrorCode],
) -> Invitation | None:
    async with ctx.db.read() as session:
        found = await models.invitation_in_account(
            session, account_id=account.id, invitation_id=invitation_id
        )
    assert found is not None, "the permission check found its account"
    if found.status not in (InvitationStatus.PENDING, InvitationStatus.EXPIRED):
        errors.add("invitationId", InvitationChangeErrorCode.NOT_OPEN, "invitation.not_open")
        return None
    return found


async def resend_invitation(
    ctx: Context, account: Account, invitation_id: uuid.UUID
) -> Outcome[Invitation, InvitationChangeErrorCode]:
    """A new link and 48 more hours; the previous link stops working."""
    errors: FieldErrors[InvitationChangeErrorCode] = FieldErrors()
    found = await _open_invitation(ctx, account, invitation_id, errors)
    if found is None:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        row = await session.get(Invitation, found.id)
        assert row is not None
        token = await models.renew_invitation(session, row)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.INVITATION_RESENT,
            target=row.email,
        )
        await _send(ctx, session, account, row.email, token)
    return Outcome(value=row)


async def revoke_invitation(
    ctx: Context, account: Account, invitation_id: uuid.UUID
) -> Outcome[Invitation, InvitationChangeErrorCode]:
    errors: FieldErrors[InvitationChangeErrorCode] = FieldErrors()
    found = await _open_invitation(ctx, account, invitation_id, errors)
    if found is None:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        if not await models.close_invitation(session, found.id):
            errors.add("invitationId", InvitationChangeErrorCode.NOT_OPEN, "invitation.not_open")
            return Outcome(errors=errors.errors)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.INVITATION_REVOKED,
            target=found.email,
        )
        row = await session.get(Invitation, found.id, populate_existing=True)
    return Outcome(value=row)


class AcceptInvitationErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code)
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    ALREADY_USED = "ALREADY_USED"
    WRONG_EMAIL = "WRONG_EMAIL"
    SIGN_IN_REQUIRED = "SIGN_IN_REQUIRED"
    TOO_SHORT = "TOO_SHORT"
    CONTAINS_PERSONAL_INFO = "CONTAINS_PERSONAL_INFO"
    TOO_WEAK = "TOO_WEAK"


_CLOSED = {
    InvitationStatus.EXPIRED: (AcceptInvitationErrorCode.EXPIRED, "invitation.expired"),
    InvitationStatus.REVOKED: (AcceptInvitationErrorCode.REVOKED, "invitation.revoked"),
    InvitationStatus.ACCEPTED: (AcceptInvitationErrorCode.ALREADY_USED, "invitation.used"),
}


async def accept_invitation(
    ctx: Context,
    *,
    token: str,
    password: str | None,
    first_name: str | None,
    last_name: str | None,
) -> Outcome[tuple[Account, User], AcceptInvitationErrorCode]:
    code = AcceptInvitationErrorCode
    errors: FieldErrors[AcceptInvitationErrorCode] = FieldErrors()
    await ctx.limiter.hit(VERIFY_ATTEMPT_PER_IP, ctx.client_ip)
    async with ctx.db.read() as session:
        invitation = await models.invitation_by_token(session, token.strip()) if token else None
        existing = await users.user_by_email(session, invitation.email) if invitation else None
        account = await session.get(Account, invitation.account_id) if invitation else None
    if invitation is None or account is None:
        errors.add("token", code.INVALID_TOKEN, "auth.invalid_token")
        return Outcome(errors=errors.errors)
    if invitation.status in _CLOSED:
        closed_code, key = _CLOSED[invitation.status]
        errors.add("token", closed_code, key)
        return Outcome(errors=errors.errors)
    if ctx.viewer is not None:
        if ctx.viewer.user.email != invitation.email:
            errors.add("token", code.WRONG_EMAIL, "invitation.wrong_email")
            return Outcome(errors=errors.errors)
        return await _join(ctx, invitation, account, ctx.viewer.user, errors)
    if existing is not None:
        errors.add("token", code.SIGN_IN_REQUIRED, "invitation.sign_in")
        return Outcome(errors=errors.errors)
    names = {
        path: errors.text(
            path,
            value or "",
            maximum=NAME_MAX_LENGTH,
            required=code.REQUIRED,
            too_long=code.TOO_LONG,
        )
        for path, value in (("firstName", first_name), ("lastName", last_name))
    }
    if not password:
        errors.add("password", code.REQUIRED, "field.required")
    else:
        personal = [invitation.email, first_name, last_name]
        await check_new_password(ctx, errors, "password", password, personal, code)
    if errors:
        return Outcome(errors=errors.errors)
    assert password is not None
    password_hash = await hash_password(password)
    new_user = User(
        email=invitation.email,
        first_name=names["firstName"] or "",
        last_name=names["lastName"] or "",
        locale=ctx.locale,
        password_hash=password_hash,
        email_verified_at=utcnow(),
    )
    return await _join(ctx, invitation, account, new_user, errors, new=True)


class _Taken(Exception):
    """The invitation was used by a concurrent request: undo everything."""


async def _join(
    ctx: Context,
    invitation: Invitation,
    account: Account,
    user: User,
    errors: FieldErrors[AcceptInvitationErrorCode],
    *,
    new: bool = False,
) -> Outcome[tuple[Account, User], AcceptInvitationErrorCode]:
    try:
        async with ctx.transaction() as session:
            if new:
                session.add(user)
                await session.flush()
            if not await models.close_invitation(session, invitation.id, accepted_by=user.id):
                raise _Taken
            membership = await grant_membership(
                session,
                user_id=user.id,
                account_id=account.id,
                role=Role.OWNER if invitation.as_owner else Role.MEMBER,
                permissions=invitation.permissions,
            )
            await session.flush()
            await emit(
                session,
                account.id,
                "member.added",
                {
                    "memberId": encode_global_id("Member", membership.id),
                    "email": user.email,
                    "role": membership.role.value,
                    "permissions": sorted(membership.permissions),
                },
            )
            record_activity(
                session,
                account_id=account.id,
                actor=Actor(ActorKind.USER, user.id, user.email, ctx.client_ip, ctx.user_agent),
                action=ActivityAction.INVITATION_ACCEPTED,
                target=user.email,
            )
            if new:  # the link proved the address: sign the new person in
                token, row = await create_session(
                    session,
                    user_id=user.id,
                    kind=SessionKind.BROWSER,
                    lifetime=timedelta(hours=ctx.settings.session_absolute_hours),
                    idle=timedelta(minutes=ctx.settings.session_idle_minutes),
                    ip=ctx.client_ip or None,
                    user_agent=ctx.user_agent,
                )
                ctx.viewer = Viewer(user=user, session=row)
    except (_Taken, IntegrityError):
        # Used meanwhile, or the same person signed up with that email meanwhile.
        errors.add("token", AcceptInvitationErrorCode.ALREADY_USED, "invitation.used")
        return Outcome(errors=errors.errors)
    if new:
        ctx.set_session_cookie(token, max_age=None)
    return Outcome(value=(account, user))
