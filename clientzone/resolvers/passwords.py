"""Choosing passwords: the strength meter, changing one, resetting a forgotten one.

A reset is asked for with an email or a customer number and always gets the
same answer. When the login matches, its person (for a customer number, or an
email an account or one of its contacts has, the account's owners and the
members who manage its users) gets a 6-digit code and a link, valid 10
minutes, used once, wrong at most 5 times, and only for the login it was asked
with. A new request replaces the previous one. A reset ends every session.

In two steps, the code alone is first exchanged for a grant (a single-use
token, valid a few minutes) and the grant then sets the password and signs the
person in. The one-step form (login + code, or the link token) does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.auth.password_policy import Strength, assess
from clientzone.auth.passwords import hash_password
from clientzone.auth.rate_limits import (
    LOGIN_PER_EMAIL,
    LOGIN_PER_EMAIL_AND_IP,
    RESET_ATTEMPT_PER_IP,
    RESET_REQUEST_PER_IP,
    RESET_REQUEST_PER_LOGIN,
)
from clientzone.mailers.outbox import notify_user
from clientzone.models import users
from clientzone.models.base import utcnow
from clientzone.models.memberships import keepers_of_accounts
from clientzone.models.security_events import SecurityEventKind
from clientzone.models.user_tokens import (
    CODE_KEY,
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
from clientzone.resolvers.sessions import OpenedSession, SignedIn, end_sessions, open_session
from clientzone.resolvers.validation import FieldErrors, Outcome

RESET_MINUTES = 10
# How long the grant a verified code is exchanged for stays usable.
RESET_GRANT_MINUTES = 10
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
        await end_sessions(ctx, session, user_id=user.id, keep=viewer.session.id)
        security_event(ctx, session, user.id, SecurityEventKind.PASSWORD_CHANGED)
        await notify_user(
            session, ctx.settings, user=user, template="password_changed", reset=False
        )
    return Outcome(value=user)


class RequestPasswordResetErrorCode(StrEnum):
    REQUIRED = "REQUIRED"


async def _people_for_login(ctx: Context, login: str) -> list[User]:
    """The active person with this email, and whoever looks after the account
    with this customer number or with this email (its own or a contact's)."""
    typed = login.strip()
    async with ctx.db.read() as session:
        found = await users.user_by_email(session, typed) if "@" in typed else None
        if "@" in typed:
            keeper_ids = await keepers_of_accounts(session, email=typed)
        else:
            keeper_ids = await keepers_of_accounts(session, numbers=[typed, typed.upper()])
        people = [found] if found else []
        for user_id in keeper_ids:
            if user_id not in {p.id for p in people} and (
                person := await users.user_by_id(session, user_id)
            ):
                people.append(person)
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
                    code_key=ctx.settings.key(CODE_KEY),
                    login=login,
                    with_code=True,
                )
                security_event(ctx, session, person.id, SecurityEventKind.PASSWORD_RESET_REQUESTED)
                await notify_user(
                    session,
                    ctx.settings,
                    user=person,
                    template="password_reset",
                    carries_token=token,
                    code=code,
                    link=portal_link(ctx, "reset-password", token),
                    minutes=RESET_MINUTES,
                )
    await floor.wait()
    return Outcome(value=True)


class ResetPasswordErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_CODE = "INVALID_CODE"
    INVALID_GRANT = "INVALID_GRANT"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    CONTAINS_PERSONAL_INFO = "CONTAINS_PERSONAL_INFO"
    TOO_WEAK = "TOO_WEAK"


class VerifyResetCodeErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_CODE = "INVALID_CODE"


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
        if code_matches(request, ctx.settings.key(CODE_KEY), code.strip()):
            return request
    if requests:
        async with ctx.db.side_transaction() as session:
            await count_failed_attempt(session, [r.id for r in requests])
    return None


async def _live_grant(ctx: Context, grant: str) -> UserToken | None:
    """A grant is a reset row with no code: the emailed link (which has one) is not."""
    async with ctx.db.read() as session:
        row = await live_token(session, purpose=TokenPurpose.PASSWORD_RESET, token=grant)
    return row if row is not None and row.code_hash is None else None


async def _active_person(ctx: Context, request: UserToken | None) -> User | None:
    if request is None:
        return None
    async with ctx.db.read() as session:
        person = await users.user_by_id(session, request.user_id)
    return person if person is not None and person.status is UserStatus.ACTIVE else None


@dataclass(frozen=True)
class ResetGrant:
    grant: str
    expires_at: datetime


async def verify_reset_code(
    ctx: Context, *, login: str, code: str
) -> Outcome[ResetGrant, VerifyResetCodeErrorCode]:
    """The code alone, exchanged for a grant that `resetPassword` spends. The code
    is used up; wrong codes count as in the one-step form."""
    codes = VerifyResetCodeErrorCode
    errors: FieldErrors[VerifyResetCodeErrorCode] = FieldErrors()
    for path, value in (("login", login), ("code", code)):
        if not value.strip():
            errors.add(path, codes.REQUIRED, "field.required")
    if errors:
        return Outcome(errors=errors.errors)
    floor = ResponseFloor(ctx)
    await ctx.limiter.hit(RESET_ATTEMPT_PER_IP, ctx.client_ip)
    request = await _matching_request(ctx, login=login, code=code, token=None)
    person = await _active_person(ctx, request)
    if request is not None and person is not None:
        async with ctx.transaction() as session:
            if await use_token(session, request.id):
                grant, _ = await issue_user_token(
                    session,
                    user_id=person.id,
                    purpose=TokenPurpose.PASSWORD_RESET,
                    lifetime=timedelta(minutes=RESET_GRANT_MINUTES),
                    code_key=ctx.settings.key(CODE_KEY),
                )
                expires_at = utcnow() + timedelta(minutes=RESET_GRANT_MINUTES)
                return Outcome(value=ResetGrant(grant=grant, expires_at=expires_at))
    await floor.wait()
    errors.add("code", codes.INVALID_CODE, "auth.invalid_code")
    return Outcome(errors=errors.errors)


@dataclass(frozen=True)
class PasswordReset:
    signed_in: SignedIn | None  # only when reset with a grant


async def reset_password(
    ctx: Context,
    *,
    login: str | None,
    code: str | None,
    token: str | None,
    new_password: str,
    grant: str | None = None,
    remember: bool = False,
    issue_token: bool = False,
) -> Outcome[PasswordReset, ResetPasswordErrorCode]:
    codes = ResetPasswordErrorCode
    errors: FieldErrors[ResetPasswordErrorCode] = FieldErrors()
    if not token and not grant:
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
    if grant:
        request = await _live_grant(ctx, grant)
        failure = ("grant", codes.INVALID_GRANT, "auth.invalid_grant")
    else:
        request = await _matching_request(ctx, login=login, code=code, token=token)
        failure = ("token" if token else "code", codes.INVALID_CODE, "auth.invalid_code")
    person = await _active_person(ctx, request)
    if request is None or person is None:
        await floor.wait()
        errors.add(*failure)
        return Outcome(errors=errors.errors)
    await check_new_password(ctx, errors, "newPassword", new_password, _personal(person), codes)
    if errors:
        return Outcome(errors=errors.errors)
    password_hash = await hash_password(new_password)
    opened: OpenedSession | None = None
    async with ctx.transaction() as session:
        if not await use_token(session, request.id):
            errors.add(*failure)
            return Outcome(errors=errors.errors)
        values: dict[str, object] = {"password_hash": password_hash}
        if person.email_verified_at is None:
            values["email_verified_at"] = utcnow()  # the emailed code proved the address
        await users.set_user_fields(session, person.id, **values)
        await end_sessions(ctx, session, user_id=person.id)
        security_event(ctx, session, person.id, SecurityEventKind.PASSWORD_RESET)
        await notify_user(
            session, ctx.settings, user=person, template="password_changed", reset=True
        )
        if grant:
            opened = await open_session(
                ctx, session, person, remember=remember, issue_token=issue_token
            )
    # A new password ends any lockout: from here and address-wide.
    await ctx.limiter.succeeded(LOGIN_PER_EMAIL, person.email)
    await ctx.limiter.succeeded(LOGIN_PER_EMAIL_AND_IP, f"{person.email} {ctx.client_ip}")
    return Outcome(value=PasswordReset(signed_in=opened.signed_in(ctx) if opened else None))
