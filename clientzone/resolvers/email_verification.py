"""Proving an email address: sign-up, verification links, changing the email.

None of these answers tells whether an address is registered: signing up
with a known address, or changing to one, answers exactly as with a new one;
the owner of the address gets an email saying so instead.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.auth.passwords import hash_password, verify_password
from clientzone.auth.rate_limits import (
    PASSWORD_CONFIRM,
    SIGNUP_PER_IP,
    VERIFICATION_EMAIL_PER_USER,
    VERIFY_ATTEMPT_PER_IP,
)
from clientzone.mailers.outbox import notify_user
from clientzone.models import email_changes, users
from clientzone.models.base import utcnow
from clientzone.models.security_events import SecurityEventKind
from clientzone.models.user_tokens import (
    CODE_KEY,
    TokenPurpose,
    issue_user_token,
    live_token,
    use_token,
)
from clientzone.models.users import Locale, User, UserStatus
from clientzone.resolvers.security import (
    ResponseFloor,
    check_new_password,
    mask_email,
    security_event,
)
from clientzone.resolvers.validation import FieldErrors, Outcome

NAME_MAX_LENGTH = 100


def portal_link(ctx: Context, path: str, token: str) -> str:
    return f"{ctx.settings.portal_base_url}/{path}?token={token}"


async def queue_verification(
    ctx: Context, session: AsyncSession, user: User, *, new_email: str | None = None
) -> None:
    """Put a verification link (to `new_email` when changing address) in the
    outbox, inside the caller's transaction."""
    hours = ctx.settings.verification_link_hours
    token, _ = await issue_user_token(
        session,
        user_id=user.id,
        purpose=TokenPurpose.VERIFY_EMAIL,
        lifetime=timedelta(hours=hours),
        code_key=ctx.settings.key(CODE_KEY),
        new_email=new_email,
    )
    await notify_user(
        session,
        ctx.settings,
        user=user,
        template="verify_email",
        to=new_email,
        carries_token=token,
        new_email=new_email,
        link=portal_link(ctx, "verify-email", token),
        hours=hours,
    )


async def may_email(ctx: Context, user: User) -> bool:
    """Verification emails and notices about the address: a few per hour per person."""
    return await ctx.limiter.allowed(VERIFICATION_EMAIL_PER_USER, user.id.hex)


async def send_verification(ctx: Context, user: User) -> None:
    """A fresh verification link, unless this person already got a few this hour."""
    if await may_email(ctx, user):
        async with ctx.transaction() as session:
            await queue_verification(ctx, session, user)


async def queue_owner_notice(ctx: Context, session: AsyncSession, owner: User) -> None:
    """The address already has a login: say so to its owner, not to the caller."""
    await notify_user(
        session,
        ctx.settings,
        user=owner,
        template="email_already_registered",
        reset_link=f"{ctx.settings.portal_base_url}/forgot-password",
    )


class SignUpErrorCode(StrEnum):
    SIGNUP_DISABLED = "SIGNUP_DISABLED"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_EMAIL = "INVALID_EMAIL"
    TOO_SHORT = "TOO_SHORT"
    CONTAINS_PERSONAL_INFO = "CONTAINS_PERSONAL_INFO"
    TOO_WEAK = "TOO_WEAK"


async def sign_up(
    ctx: Context,
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    locale: Locale | None,
) -> Outcome[bool, SignUpErrorCode]:
    """Create an unverified login and email its verification link."""
    code = SignUpErrorCode
    errors: FieldErrors[SignUpErrorCode] = FieldErrors()
    if not ctx.settings.signup_enabled:
        errors.add(None, code.SIGNUP_DISABLED, "auth.signup_disabled")
        return Outcome(errors=errors.errors)
    floor = ResponseFloor(ctx)
    await ctx.limiter.hit(SIGNUP_PER_IP, ctx.client_ip)
    names = {
        path: errors.text(
            path, value, maximum=NAME_MAX_LENGTH, required=code.REQUIRED, too_long=code.TOO_LONG
        )
        for path, value in (("firstName", first_name), ("lastName", last_name))
    }
    address = errors.email("email", email, required=code.REQUIRED, invalid=code.INVALID_EMAIL)
    await check_new_password(
        ctx, errors, "password", password, [email, first_name, last_name], code
    )
    if errors:
        return Outcome(errors=errors.errors)
    assert address is not None
    async with ctx.db.read() as session:
        existing = await users.user_by_email(session, address)
    # Hash either way: both answers cost the same.
    password_hash = await hash_password(password)
    if existing is not None:
        if await may_email(ctx, existing):
            async with ctx.transaction() as session:
                await queue_owner_notice(ctx, session, existing)
    else:
        try:
            async with ctx.transaction() as session:
                user = await users.create_user(
                    session,
                    email=address,
                    password_hash=password_hash,
                    first_name=names["firstName"] or "",
                    last_name=names["lastName"] or "",
                    locale=locale or ctx.locale,
                )
                await queue_verification(ctx, session, user)
        except IntegrityError:
            pass  # signed up a moment ago by a concurrent request
    await floor.wait()
    return Outcome(value=True)


async def request_email_verification(ctx: Context, *, email: str | None) -> bool:
    """Send a fresh link to the viewer, or to `email` when it has an unverified login."""
    floor = ResponseFloor(ctx)
    user: User | None
    if ctx.viewer is not None and not email:
        user = ctx.viewer.user
    else:
        await ctx.limiter.hit(VERIFY_ATTEMPT_PER_IP, ctx.client_ip)
        async with ctx.db.read() as session:
            user = await users.user_by_email(session, email or "")
    if user is not None and user.email_verified_at is None and user.status is UserStatus.ACTIVE:
        await send_verification(ctx, user)
    await floor.wait()
    return True


class VerifyEmailErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code)
    EMAIL_TAKEN = "EMAIL_TAKEN"


async def verify_email(ctx: Context, *, token: str) -> Outcome[User, VerifyEmailErrorCode]:
    code = VerifyEmailErrorCode
    errors: FieldErrors[VerifyEmailErrorCode] = FieldErrors()
    if not token.strip():
        errors.add("token", code.REQUIRED, "field.required")
        return Outcome(errors=errors.errors)
    await ctx.limiter.hit(VERIFY_ATTEMPT_PER_IP, ctx.client_ip)
    async with ctx.db.read() as session:
        row = await live_token(session, purpose=TokenPurpose.VERIFY_EMAIL, token=token.strip())
        user = await users.user_by_id(session, row.user_id) if row else None
        taken = await users.user_by_email(session, row.new_email) if row and row.new_email else None
    if row is None or user is None:
        errors.add("token", code.INVALID_TOKEN, "auth.invalid_token")
        return Outcome(errors=errors.errors)
    if taken is not None:
        errors.add("token", code.EMAIL_TAKEN, "auth.email_taken")
        return Outcome(errors=errors.errors)
    try:
        async with ctx.transaction() as session:
            if not await use_token(session, row.id):
                errors.add("token", code.INVALID_TOKEN, "auth.invalid_token")
                return Outcome(errors=errors.errors)
            now = utcnow()
            if row.new_email:
                await users.set_user_fields(
                    session, user.id, email=row.new_email, email_verified_at=now
                )
                security_event(
                    ctx,
                    session,
                    user.id,
                    SecurityEventKind.EMAIL_CHANGED,
                    mask_email(row.new_email),
                )
                await notify_user(
                    session,
                    ctx.settings,
                    user=user,
                    template="email_changed",
                    old_email=user.email,
                    masked_email=mask_email(row.new_email),
                )
            elif user.email_verified_at is None:
                await users.set_user_fields(session, user.id, email_verified_at=now)
                security_event(ctx, session, user.id, SecurityEventKind.EMAIL_VERIFIED)
            updated = await users.user_by_id(session, user.id)
    except IntegrityError:
        errors.add("token", code.EMAIL_TAKEN, "auth.email_taken")
        return Outcome(errors=errors.errors)
    return Outcome(value=updated)


class EmailChangeOutcome(StrEnum):
    LINK_SENT = "LINK_SENT"  # EMAIL_CHANGE=self: a link went to the new address
    AWAITING_STAFF = "AWAITING_STAFF"  # EMAIL_CHANGE=staff: staff decide first


class ChangeEmailErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    SAME_EMAIL = "SAME_EMAIL"
    INVALID_PASSWORD = "INVALID_PASSWORD"  # noqa: S105 (an error code)


async def change_email(
    ctx: Context, *, new_email: str, current_password: str
) -> Outcome[EmailChangeOutcome, ChangeEmailErrorCode]:
    """Send a link to the new address and a notice to the old; switch on
    verification. With EMAIL_CHANGE=staff, record a request for staff instead."""
    viewer = require_viewer(ctx)
    user = viewer.user
    code = ChangeEmailErrorCode
    errors: FieldErrors[ChangeEmailErrorCode] = FieldErrors()
    address = errors.email(
        "newEmail", new_email, required=code.REQUIRED, invalid=code.INVALID_EMAIL
    )
    if address is not None and address == user.email:
        errors.add("newEmail", code.SAME_EMAIL, "auth.same_email")
    if not current_password:
        errors.add("currentPassword", code.REQUIRED, "field.required")
    elif not await confirm_password(ctx, user, current_password):
        errors.add("currentPassword", code.INVALID_PASSWORD, "auth.invalid_password")
    if errors:
        return Outcome(errors=errors.errors)
    assert address is not None
    floor = ResponseFloor(ctx)
    by_staff = ctx.settings.email_change == "staff"
    async with ctx.db.read() as session:
        owner = None if by_staff else await users.user_by_email(session, address)
    emailing = await may_email(ctx, owner or user)
    async with ctx.transaction() as session:
        if by_staff:
            # Staff decide first (staffApproveEmailChange); nothing goes to the new address yet.
            await email_changes.request_change(session, user_id=user.id, new_email=address)
        elif emailing and owner is not None:
            await queue_owner_notice(ctx, session, owner)
        elif emailing:
            await queue_verification(ctx, session, user, new_email=address)
        masked = mask_email(address)
        security_event(ctx, session, user.id, SecurityEventKind.EMAIL_CHANGE_REQUESTED, masked)
        await notify_user(
            session,
            ctx.settings,
            user=user,
            template="email_change_requested",
            masked_email=masked,
            staff_review=by_staff,
        )
    await floor.wait()
    return Outcome(
        value=EmailChangeOutcome.AWAITING_STAFF if by_staff else EmailChangeOutcome.LINK_SENT
    )


async def confirm_password(ctx: Context, user: User, password: str) -> bool:
    """The viewer's current password, re-entered for a sensitive change (rate-limited)."""
    subject = user.id.hex
    await ctx.limiter.check(PASSWORD_CONFIRM, subject)
    if await verify_password(user.password_hash, password):
        await ctx.limiter.succeeded(PASSWORD_CONFIRM, subject)
        return True
    await ctx.limiter.failed(PASSWORD_CONFIRM, subject)
    return False
