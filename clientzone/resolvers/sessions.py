"""Signing in and out, and the viewer's sessions and security events.

A wrong email and a wrong password give the same answer, in the same time:
an unknown email still costs one password verification, and failures are
padded to the response floor. Failures slow down per email and per IP
(auth/rate_limits.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context, Viewer
from clientzone.auth.passwords import hash_password, needs_rehash, verify_password
from clientzone.auth.rate_limits import LOGIN_PER_EMAIL, LOGIN_PER_EMAIL_AND_IP, LOGIN_PER_IP
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.models import security_events, users
from clientzone.models import sessions as session_models
from clientzone.models.base import utcnow
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.security_events import SecurityEvent, SecurityEventKind
from clientzone.models.sessions import AuthSession, SessionKind, create_session, revoke_sessions
from clientzone.models.users import User, UserStatus, normalize_email
from clientzone.realtime.sessions import announce_sessions_ended
from clientzone.resolvers.email_verification import send_verification
from clientzone.resolvers.security import ResponseFloor, security_event
from clientzone.resolvers.validation import FieldErrors, Outcome

DAY = 86_400


class LoginErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"


# An IP this login signed in from within this time is one of the person's places.
KNOWN_PLACE = timedelta(days=30)


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: AuthSession
    token: str | None  # only when a bearer token was asked for


async def login(
    ctx: Context, *, email: str, password: str, remember: bool, issue_token: bool
) -> Outcome[SignedIn, LoginErrorCode]:
    code = LoginErrorCode
    errors: FieldErrors[LoginErrorCode] = FieldErrors()
    if not email.strip():
        errors.add("email", code.REQUIRED, "field.required")
    if not password:
        errors.add("password", code.REQUIRED, "field.required")
    if errors:
        return Outcome(errors=errors.errors)
    floor = ResponseFloor(ctx)
    address = normalize_email(email)
    pair = f"{address} {ctx.client_ip}"
    await ctx.limiter.check(LOGIN_PER_IP, ctx.client_ip)
    await ctx.limiter.check(LOGIN_PER_EMAIL_AND_IP, pair)
    async with ctx.db.read() as session:
        found = await users.user_by_email(session, address)
        known_place = found is not None and await session_models.signed_in_from(
            session, user_id=found.id, ip=ctx.client_ip, since=utcnow() - KNOWN_PLACE
        )
    if not known_place:
        await ctx.limiter.check(LOGIN_PER_EMAIL, address)
    user = found if found is not None and found.status is UserStatus.ACTIVE else None
    if not await verify_password(user.password_hash if user else None, password) or not user:
        await ctx.limiter.failed(LOGIN_PER_IP, ctx.client_ip)
        await ctx.limiter.failed(LOGIN_PER_EMAIL_AND_IP, pair)
        await ctx.limiter.failed(LOGIN_PER_EMAIL, address)
        if user is not None:
            async with ctx.transaction() as session:
                security_event(ctx, session, user.id, SecurityEventKind.LOGIN_FAILED)
        await floor.wait()
        errors.add(None, code.INVALID_CREDENTIALS, "auth.invalid_credentials")
        return Outcome(errors=errors.errors)
    # The address-wide count is left to lapse: the owner signing in does not
    # reopen the door to someone guessing from elsewhere.
    await ctx.limiter.succeeded(LOGIN_PER_EMAIL_AND_IP, pair)
    if user.email_verified_at is None:
        await send_verification(ctx, user)
        errors.add("email", code.EMAIL_NOT_VERIFIED, "auth.email_not_verified")
        return Outcome(errors=errors.errors)
    assert user.password_hash is not None
    rehashed = await hash_password(password) if needs_rehash(user.password_hash) else None
    async with ctx.transaction() as session:
        values: dict[str, object] = {"last_login_at": utcnow()}
        if rehashed:
            values["password_hash"] = rehashed
        await users.set_user_fields(session, user.id, **values)
        opened = await open_session(ctx, session, user, remember=remember, issue_token=issue_token)
    return Outcome(value=opened.signed_in(ctx))


@dataclass(frozen=True)
class OpenedSession:
    """A session created inside a transaction; its cookie is set once committed."""

    user: User
    row: AuthSession
    token: str
    issue_token: bool
    max_age: int | None

    def signed_in(self, ctx: Context) -> SignedIn:
        ctx.set_session_cookie(self.token, max_age=self.max_age)
        return SignedIn(
            user=self.user, session=self.row, token=self.token if self.issue_token else None
        )


async def open_session(
    ctx: Context, session: AsyncSession, user: User, *, remember: bool, issue_token: bool
) -> OpenedSession:
    """Signs the person in as `login` does: a bearer token, a remembered browser
    session, or one that ends when idle. The payload is then read as them."""
    settings = ctx.settings
    if issue_token:
        kind, lifetime, idle = SessionKind.TOKEN, timedelta(days=settings.token_days), None
    elif remember:
        kind, lifetime, idle = (
            SessionKind.BROWSER,
            timedelta(days=settings.session_remember_days),
            None,
        )
    else:
        kind = SessionKind.BROWSER
        lifetime = timedelta(hours=settings.session_absolute_hours)
        idle = timedelta(minutes=settings.session_idle_minutes)
    if user.is_staff:
        # Staff reach every account: shorter sessions, never "remembered".
        lifetime = min(lifetime, timedelta(hours=settings.staff_session_hours))
        if kind is SessionKind.BROWSER:
            idle = timedelta(minutes=min(settings.session_idle_minutes, 60))
    token, row = await create_session(
        session,
        user_id=user.id,
        kind=kind,
        lifetime=lifetime,
        idle=idle,
        ip=ctx.client_ip or None,
        user_agent=ctx.user_agent,
    )
    security_event(ctx, session, user.id, SecurityEventKind.LOGIN_SUCCEEDED, kind.value)
    ctx.viewer = Viewer(user=user, session=row)
    max_age = None if idle else int(lifetime.total_seconds())
    return OpenedSession(user=user, row=row, token=token, issue_token=issue_token, max_age=max_age)


async def end_sessions(
    ctx: Context,
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    only: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke sessions inside the mutation's transaction; once it commits, live
    WebSockets of that login everywhere check their session (and close)."""
    ended = await revoke_sessions(session, user_id=user_id, only=only, keep=keep)
    if ended:
        ctx.after_commit(lambda: announce_sessions_ended(ctx.events, user_id))
    return ended


async def logout(ctx: Context, *, everywhere: bool) -> int:
    """End this session (or every session of the login); returns how many ended."""
    viewer = require_viewer(ctx)
    async with ctx.transaction() as session:
        ended = await end_sessions(
            ctx, session, user_id=viewer.user.id, only=None if everywhere else viewer.session.id
        )
        detail = "everywhere" if everywhere else None
        security_event(ctx, session, viewer.user.id, SecurityEventKind.LOGOUT, detail)
    ctx.clear_session_cookie()
    return ended


async def revoke_session(ctx: Context, session_id: str) -> uuid.UUID:
    """End one of the viewer's sessions; another person's (or a dead one) is NOT_FOUND."""
    viewer = require_viewer(ctx)
    target = decode_id_of("Session", session_id)
    if target is None:
        raise NotFound
    async with ctx.transaction() as session:
        if not await end_sessions(ctx, session, user_id=viewer.user.id, only=target):
            raise NotFound
        # The ended session's ID as viewer.sessions showed it.
        ended = encode_global_id("Session", target)
        security_event(ctx, session, viewer.user.id, SecurityEventKind.SESSION_REVOKED, ended)
    if target == viewer.session.id:
        ctx.clear_session_cookie()
    return target


async def sessions(ctx: Context, page: PageRequest) -> Page[AuthSession]:
    viewer = require_viewer(ctx)
    async with ctx.db.read() as session:
        return await session_models.live_sessions_page(session, user_id=viewer.user.id, page=page)


async def sessions_count(ctx: Context) -> int:
    viewer = require_viewer(ctx)
    async with ctx.db.read() as session:
        return await session_models.count_live_sessions(session, user_id=viewer.user.id)


async def events(ctx: Context, page: PageRequest) -> Page[SecurityEvent]:
    viewer = require_viewer(ctx)
    async with ctx.db.read() as session:
        return await security_events.security_events_page(
            session, user_id=viewer.user.id, page=page
        )


async def events_count(ctx: Context) -> int:
    viewer = require_viewer(ctx)
    async with ctx.db.read() as session:
        return await security_events.count_security_events(session, user_id=viewer.user.id)
