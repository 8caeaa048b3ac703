"""Choosing passwords: the strength meter, changing one, resetting a forgotten one.

A reset is asked for with an email or a customer number and always gets the
same answer. When the login matches, its person (for a customer number, each
owner of the account) gets a 6-digit code and a link, valid 10 minutes, used
once, wrong at most 5 times, and only for the login it was asked with. A new
request replaces the previous one. A reset ends every session and does not
sign the person in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.auth.password_policy import Strength, assess
from clientzone.auth.passwords import hash_password
from clientzone.auth.rate_limits import (
    LOGIN_PER_EMAIL,
    RESET_ATTEMPT_PER_IP,
    RESET_REQUEST_PER_IP,
    RESET_REQUEST_PER_LOGIN,
)
from clientzone.mailers.outbox import notify_user
from clientzone.models import users
from clientzone.models.base import utcnow
from clientzone.models.memberships import owners_of_account
from clientzone.models.security_events import SecurityEventKind
from clientzone.models.sessions import revoke_sessions
from clientzone.models.user_tokens import (
    TokenPurpose,
    UserToken,
    code_matches,
    count_failed_attempt,
    issue_user_token,
    live_reset_requests,
    live_token,
    use_token,
)
from clientzone.models.users import User, UserStatus
from clientzone.resolvers.email_verification import confirm_password, portal_link
from clientzone.resolvers.security import ResponseFloor, check_new_password, security_event
from clientzone.resolvers.validation import FieldErrors, Outcome

RESET_MINUTES = 10
MAX_PERSONAL_INPUTS = 5


async def password_strength(ctx: Context, password: str, personal: Iterable[str]) -> Strength:
    """Score for a strength meter; the viewer's own email and name count as personal."""
    inputs = [value[:254] for value in list(personal)[:MAX_PERSONAL_INPUTS]]
    if ctx.viewer is not None:
        user = ctx.viewer.user
        inputs += [user.email, user.first_name, user.last_name]
    return await assess(password, inputs, ctx.locale)


def _personal(user: User) -> list[str | None]:
    return [user.email, user.first_name, user.last_name]


class ChangePasswordErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_PASSWORD = "INVALID_PASSWORD"  # noqa: S105 (an error code)
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    CONTAINS_PERSONAL_INFO = "CONTAINS_PERSONAL_INFO"
    TOO_WEAK = "TOO_WEAK"


async def change_password(
    ctx: Context, *, current_password: str, new_password: str
) -> Outcome[User, ChangePasswordErrorCode]:
    """New password after the current one; every other session ends; a notice is sent."""
    viewer = require_viewer(ctx)
    user = viewer.user
    code = ChangePasswordErrorCode
    errors: FieldErrors[ChangePasswordErrorCode] = FieldErrors()
    await check_new_password(ctx, errors, "newPassword", new_password, _personal(user), code)
    if not current_password:
        errors.add("currentPassword", code.REQUIRED, "field.required")
    elif not await confirm_password(ctx, user, current_password):
        errors.add("currentPassword", code.INVALID_PASSWORD, "auth.invalid_password")
    if errors:
        return Outcome(errors=errors.errors)
    password_hash = await hash_password(new_password)
    async with ctx.transaction() as session:
        await users.set_user_fields(session, user.id, password_hash=password_hash)
        await revoke_sessions(session, user_id=user.id, keep=viewer.session.id)
        security_event(ctx, session, user.id, SecurityEventKind.PASSWORD_CHANGED)
        await notify_user(
            session, ctx.settings, user=user, template="password_changed", reset=False
        )
    return Outcome(value=user)


class RequestPasswordResetErrorCode(StrEnum):
    REQUIRED = "REQUIRED"


async def _people_for_login(ctx: Context, login: str) -> list[User]:
    """The active person with this email, or the owners of this customer number."""
    async with ctx.db.read() as session:
        if "@" in login:
            found = await users.user_by_email(session, login)
            people = [found] if found else []
        else:
            owner_ids = await owners_of_account(session, number=login.strip())
            owner_ids += await owners_of_account(session, number=login.strip().upper())
            people = [
                u for i in dict.fromkeys(owner_ids) if (u := await users.user_by_id(session, i))
            ]
    return [person for person in people if person.status is UserStatus.ACTIVE]


async def request_password_reset(
    ctx: Context, *, login: str
) -> Outcome[bool, RequestPasswordResetErrorCode]:
    """Always the same answer, in the same time, whether or not the login exists."""
    errors: FieldErrors[RequestPasswordResetErrorCode] = FieldErrors()
    if not login.strip():
        errors.add("login", RequestPasswordResetErrorCode.REQUIRED, "field.required")
        return Outcome(errors=errors.errors)
    floor = ResponseFloor(ctx)
    await ctx.limiter.hit(RESET_REQUEST_PER_IP, ctx.client_ip)
    await ctx.limiter.hit(RESET_REQUEST_PER_LOGIN, login)
    people = await _people_for_login(ctx, login)
    if people:
        async with ctx.transaction() as session:
            for person in people:
                token, code = await issue_user_token(
                    session,
                    user_id=person.id,
                    purpose=TokenPurpose.PASSWORD_RESET,
                    lifetime=timedelta(minutes=RESET_MINUTES),
                    secret_key=ctx.settings.secret_key,
                    login=login,
                    with_code=True,
                )
                security_event(ctx, session, person.id, SecurityEventKind.PASSWORD_RESET_REQUESTED)
                await notify_user(
                    session,
                    ctx.settings,
                    user=person,
                    template="password_reset",
                    code=code,
                    link=portal_link(ctx, "reset-password", token),
                    minutes=RESET_MINUTES,
                )
    await floor.wait()
    return Outcome(value=True)


class ResetPasswordErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_CODE = "INVALID_CODE"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    CONTAINS_PERSONAL_INFO = "CONTAINS_PERSONAL_INFO"
    TOO_WEAK = "TOO_WEAK"


async def _matching_request(
    ctx: Context, *, login: str | None, code: str | None, token: str | None
) -> UserToken | None:
    """The live reset request the code (for that login) or the link token opens.
    A wrong code counts against every live request of that login."""
    async with ctx.db.read() as session:
        if token:
            return await live_token(session, purpose=TokenPurpose.PASSWORD_RESET, token=token)
        assert login is not None
        assert code is not None
        requests = await live_reset_requests(session, login=login)
    for request in requests:
        if code_matches(request, ctx.settings.secret_key, code.strip()):
            return request
    if requests:
        async with ctx.db.database.transaction() as session:
            await count_failed_attempt(session, [r.id for r in requests])
    return None


async def reset_password(
    ctx: Context,
    *,
    login: str | None,
    code: str | None,
    token: str | None,
    new_password: str,
) -> Outcome[bool, ResetPasswordErrorCode]:
    codes = ResetPasswordErrorCode
    errors: FieldErrors[ResetPasswordErrorCode] = FieldErrors()
    if not token:
        for path, value in (("login", login), ("code", code)):
            if not (value or "").strip():
                errors.add(path, codes.REQUIRED, "field.required")
    # Only what was typed counts as personal here: names would tell a stranger
    # that the login exists. They are checked once the code has proved the person.
    await check_new_password(ctx, errors, "newPassword", new_password, [login], codes)
    if errors:
        return Outcome(errors=errors.errors)
    floor = ResponseFloor(ctx)
    await ctx.limiter.hit(RESET_ATTEMPT_PER_IP, ctx.client_ip)
    request = await _matching_request(ctx, login=login, code=code, token=token)
    async with ctx.db.read() as session:
        person = await users.user_by_id(session, request.user_id) if request else None
    if request is None or person is None or person.status is not UserStatus.ACTIVE:
        await floor.wait()
        errors.add("token" if token else "code", codes.INVALID_CODE, "auth.invalid_code")
        return Outcome(errors=errors.errors)
    await check_new_password(ctx, errors, "newPassword", new_password, _personal(person), codes)
    if errors:
        return Outcome(errors=errors.errors)
    password_hash = await hash_password(new_password)
    async with ctx.transaction() as session:
        if not await use_token(session, request.id):
            errors.add("token" if token else "code", codes.INVALID_CODE, "auth.invalid_code")
            return Outcome(errors=errors.errors)
        values: dict[str, object] = {"password_hash": password_hash}
        if person.email_verified_at is None:
            values["email_verified_at"] = utcnow()  # the emailed code proved the address
        await users.set_user_fields(session, person.id, **values)
        await revoke_sessions(session, user_id=person.id)
        security_event(ctx, session, person.id, SecurityEventKind.PASSWORD_RESET)
        await notify_user(
            session, ctx.settings, user=person, template="password_changed", reset=True
        )
    await ctx.limiter.succeeded(LOGIN_PER_EMAIL, person.email)
    return Outcome(value=True)
