"""Back-office actions support takes for a customer, each audited and each
with userErrors: disable or enable a login (ADMIN; its sessions end at once,
in every process, through the session cache's auth-changed signal), send a
password reset, resend the email verification, clear a login's sign-in block,
check an account's security PIN on the phone (attempt-limited per account;
only "matches" or not, never the PIN), and send the first invitation of an
account that has no user yet (the person becomes its owner).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.context import Context
from clientzone.auth.passwords import verify_password
from clientzone.auth.rate_limits import (
    LOGIN_PER_EMAIL,
    STAFF_PIN_CHECK_PER_ACCOUNT,
)
from clientzone.auth.staff import StaffViewer, require_staff
from clientzone.brands import brand_of
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.mailers.outbox import notify_address, notify_user
from clientzone.models import invitations as invitation_models
from clientzone.models.accounts import Account
from clientzone.models.invitations import INVITATION_LIFETIME, InvitationStatus
from clientzone.models.memberships import ALL_PERMISSIONS, count_members
from clientzone.models.pagination import PageRequest
from clientzone.models.staff import StaffAction, StaffRole, record_staff_action
from clientzone.models.user_tokens import CODE_KEY, TokenPurpose, issue_user_token
from clientzone.models.users import User, UserStatus, set_user_fields, user_by_email
from clientzone.resolvers.email_verification import portal_link, queue_verification
from clientzone.resolvers.passwords import RESET_MINUTES
from clientzone.resolvers.sessions import end_sessions
from clientzone.resolvers.validation import FieldErrors, Outcome


class StaffLoginErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    NO_SUCH_LOGIN = "NO_SUCH_LOGIN"
    ALREADY_DISABLED = "ALREADY_DISABLED"
    ALREADY_ACTIVE = "ALREADY_ACTIVE"
    NOT_SELF = "NOT_SELF"
    LOGIN_DISABLED = "LOGIN_DISABLED"
    ALREADY_VERIFIED = "ALREADY_VERIFIED"


class StaffAccountErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    NO_PIN = "NO_PIN"
    HAS_USERS = "HAS_USERS"
    ALREADY_INVITED = "ALREADY_INVITED"


def audit_staff_action(
    ctx: Context,
    session: AsyncSession,
    staff: StaffViewer,
    action: StaffAction,
    *,
    target: str,
    account_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> None:
    record_staff_action(
        session,
        staff_user_id=staff.member.user_id,
        staff_email=staff.email,
        action=action,
        account_id=account_id,
        target=target,
        reason=reason,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )


async def _login(ctx: Context, email: str, errors: FieldErrors[StaffLoginErrorCode]) -> User | None:
    code = StaffLoginErrorCode
    address = errors.email("email", email, required=code.REQUIRED, invalid=code.INVALID_EMAIL)
    if address is None:
        return None
    async with ctx.db.read() as session:
        user = await user_by_email(session, address)
    if user is None:
        errors.add("email", code.NO_SUCH_LOGIN, "staff.no_such_login")
    return user


LoginCheck = Callable[[User, FieldErrors[StaffLoginErrorCode]], None]


async def _login_action(
    ctx: Context,
    email: str,
    least: StaffRole,
    check: LoginCheck,
) -> tuple[StaffViewer, User | None, FieldErrors[StaffLoginErrorCode]]:
    staff = await require_staff(ctx, least)
    errors: FieldErrors[StaffLoginErrorCode] = FieldErrors()
    user = await _login(ctx, email, errors)
    if user is not None:
        check(user, errors)
    return staff, (None if errors else user), errors


async def set_login_enabled(
    ctx: Context, email: str, *, enabled: bool, reason: str | None
) -> Outcome[User, StaffLoginErrorCode]:
    code = StaffLoginErrorCode

    def check(user: User, errors: FieldErrors[StaffLoginErrorCode]) -> None:
        if ctx.viewer is not None and user.id == ctx.viewer.user.id:
            errors.add("email", code.NOT_SELF, "staff.not_self")
        elif enabled and user.status is UserStatus.ACTIVE:
            errors.add("email", code.ALREADY_ACTIVE, "staff.already_active")
        elif not enabled and user.status is UserStatus.DISABLED:
            errors.add("email", code.ALREADY_DISABLED, "staff.already_disabled")

    staff, user, errors = await _login_action(ctx, email, StaffRole.ADMIN, check)
    if user is None:
        return Outcome(errors=errors.errors)
    status = UserStatus.ACTIVE if enabled else UserStatus.DISABLED
    async with ctx.transaction() as session:
        await set_user_fields(session, user.id, status=status)
        if not enabled:
            await end_sessions(ctx, session, user_id=user.id)
        action = StaffAction.LOGIN_ENABLED if enabled else StaffAction.LOGIN_DISABLED
        audit_staff_action(ctx, session, staff, action, target=user.email, reason=reason)
    user.status = status
    return Outcome(value=user)


def _active(user: User, errors: FieldErrors[StaffLoginErrorCode]) -> None:
    if user.status is not UserStatus.ACTIVE:
        errors.add("email", StaffLoginErrorCode.LOGIN_DISABLED, "staff.login_disabled")


async def send_password_reset(ctx: Context, email: str) -> Outcome[User, StaffLoginErrorCode]:
    """The customer's own reset email (code and link); support never sets a password."""
    staff, user, errors = await _login_action(ctx, email, StaffRole.SUPPORT_AGENT, _active)
    if user is None:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        token, code = await issue_user_token(
            session,
            user_id=user.id,
            purpose=TokenPurpose.PASSWORD_RESET,
            lifetime=timedelta(minutes=RESET_MINUTES),
            code_key=ctx.settings.key(CODE_KEY),
            login=user.email,
            with_code=True,
        )
        await notify_user(
            session,
            ctx.settings,
            user=user,
            template="password_reset",
            carries_token=token,
            code=code,
            link=portal_link(ctx, "reset-password", token),
            minutes=RESET_MINUTES,
        )
        audit_staff_action(ctx, session, staff, StaffAction.PASSWORD_RESET_SENT, target=user.email)
    return Outcome(value=user)


async def resend_verification(ctx: Context, email: str) -> Outcome[User, StaffLoginErrorCode]:
    def check(user: User, errors: FieldErrors[StaffLoginErrorCode]) -> None:
        _active(user, errors)
        if user.email_verified_at is not None:
            errors.add("email", StaffLoginErrorCode.ALREADY_VERIFIED, "staff.already_verified")

    staff, user, errors = await _login_action(ctx, email, StaffRole.SUPPORT_AGENT, check)
    if user is None:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        await queue_verification(ctx, session, user)
        audit_staff_action(ctx, session, staff, StaffAction.VERIFICATION_SENT, target=user.email)
    return Outcome(value=user)


async def clear_login_block(ctx: Context, email: str) -> Outcome[User, StaffLoginErrorCode]:
    """Lift the address-wide sign-in slow-down after failed attempts."""
    staff, user, errors = await _login_action(ctx, email, StaffRole.SUPPORT_AGENT, _active)
    if user is None:
        return Outcome(errors=errors.errors)
    await ctx.limiter.succeeded(LOGIN_PER_EMAIL, user.email)
    async with ctx.transaction() as session:
        audit_staff_action(ctx, session, staff, StaffAction.LOGIN_BLOCK_CLEARED, target=user.email)
    return Outcome(value=user)


async def _account(ctx: Context, global_id: str) -> Account:
    account_id = decode_id_of("Account", global_id)
    account = await ctx.loaders.account_by_id.load(account_id) if account_id else None
    if account is None:
        raise NotFound
    return account


async def verify_security_pin(
    ctx: Context, account_global_id: str, pin: str
) -> Outcome[bool, StaffAccountErrorCode]:
    """Whether the PIN the caller said matches; at most a few tries per account
    an hour (RATE_LIMITED after), each recorded with its result."""
    staff = await require_staff(ctx)
    account = await _account(ctx, account_global_id)
    errors: FieldErrors[StaffAccountErrorCode] = FieldErrors()
    if not pin.strip():
        errors.add("pin", StaffAccountErrorCode.REQUIRED, "field.required")
    elif account.security_pin_hash is None:
        errors.add("accountId", StaffAccountErrorCode.NO_PIN, "staff.no_pin")
    if errors:
        return Outcome(errors=errors.errors)
    await ctx.limiter.hit(STAFF_PIN_CHECK_PER_ACCOUNT, account.id.hex)
    matches = await verify_password(account.security_pin_hash, pin.strip()[:64])
    async with ctx.transaction() as session:
        audit_staff_action(
            ctx,
            session,
            staff,
            StaffAction.SECURITY_PIN_CHECKED,
            target=f"{account.number} {'match' if matches else 'no match'}",
            account_id=account.id,
        )
    return Outcome(value=matches)


async def send_first_invitation(
    ctx: Context, account_global_id: str, email: str
) -> Outcome[Account, StaffAccountErrorCode]:
    """For an account nobody reaches yet (imported, invitation-only): an
    invitation that makes its acceptor the owner."""
    staff = await require_staff(ctx)
    account = await _account(ctx, account_global_id)
    code = StaffAccountErrorCode
    errors: FieldErrors[StaffAccountErrorCode] = FieldErrors()
    address = errors.email("email", email, required=code.REQUIRED, invalid=code.INVALID_EMAIL)
    async with ctx.db.read() as session:
        members = await count_members(session, account_id=account.id)
        open_ones = await invitation_models.open_invitations_page(
            session, account_id=account.id, page=PageRequest(first=20)
        )
    pending = any(i.status is InvitationStatus.PENDING for i in open_ones.rows)
    if members:
        errors.add("accountId", code.HAS_USERS, "staff.has_users")
    elif pending:
        errors.add("accountId", code.ALREADY_INVITED, "staff.already_invited")
    if errors or address is None:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        token, _ = await invitation_models.create_invitation(
            session,
            account_id=account.id,
            email=address,
            permissions=ALL_PERMISSIONS,
            invited_by=staff.member.user_id,
            as_owner=True,
        )
        brand = await brand_of(session, ctx.settings, account)
        await notify_address(
            session,
            ctx.settings,
            to=address,
            locale=account.locale,
            template="invitation",
            carries_token=token,
            account=account,
            inviter_name=brand.company_name,
            link=f"{brand.portal_url}/accept-invitation?token={token}",
            hours=int(INVITATION_LIFETIME.total_seconds() // 3600),
        )
        audit_staff_action(
            ctx,
            session,
            staff,
            StaffAction.FIRST_INVITATION_SENT,
            target=f"{account.number} {address}",
            account_id=account.id,
        )
    return Outcome(value=account)
