"""The per-request GraphQL context, and the one rule for database sessions.

Strawberry resolves sibling fields concurrently, and one AsyncSession must
never run two statements at once. The rule (implemented by `db.RequestDb`):

- Reads go through `ctx.db.read()`: one session (one pooled connection) per
  request, used behind an asyncio.Lock. DataLoaders batch reads, so the lock
  costs no parallelism worth having. The session is closed after the response.
- Each mutation runs in `ctx.transaction()`: its own session and ONE
  transaction, committed when the block ends and rolled back on any error.
  The read transaction is ended first and the loaders are rebuilt afterwards,
  so the payload reads the mutation's rows, not a snapshot from before it.

A `Context` and its `Loaders` are built fresh for every request.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.responses import Response

from clientzone.auth.csrf import check_cookie_request
from clientzone.auth.rate_limits import RateLimiter
from clientzone.config import Settings
from clientzone.db import Database, RequestDb
from clientzone.errors import Unauthenticated
from clientzone.events import EventBus
from clientzone.i18n import DEFAULT_LOCALE, negotiate_locale
from clientzone.loaders import Loaders
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.memberships import Grant
from clientzone.models.sessions import (
    AuthSession,
    active_session_by_id,
    active_session_by_token,
    touch_session,
)
from clientzone.models.users import Locale, User


@dataclass
class Viewer:
    """The signed-in person and the session or token they came with."""

    user: User
    session: AuthSession
    via_cookie: bool = False


@dataclass
class Context:
    request: HTTPConnection
    response: Response | None
    settings: Settings
    db: RequestDb
    loaders: Loaders
    locale: Locale
    client_ip: str
    request_id: str
    viewer: Viewer | None
    limiter: RateLimiter
    user_agent: str | None = None
    # Tells the in-process mail sender that a transaction may have queued mail.
    wake_mail: Callable[[], None] | None = None
    # Filled once per request by auth.access.active_grant (the lock keeps
    # concurrent sibling fields from each working it out).
    active_grant: Grant | None = None
    active_grant_known: bool = False
    active_grant_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Accounts checked by auth.permissions.RequiresPermission, by field path.
    scoped_accounts: dict[tuple[str | int, ...], Account] = field(default_factory=dict)
    # Live updates between server processes (clientzone.events).
    events: EventBus | None = None
    # A WebSocket's `connection_init` payload (browsers cannot set headers there).
    connection_params: dict[str, Any] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One mutation's transaction; fresh loaders once it has committed."""
        async with self.db.transaction() as session:
            yield session
        self.loaders = Loaders.build(self.db, self.viewer.user.id if self.viewer else None)
        if self.wake_mail is not None:
            self.wake_mail()

    async def refresh_viewer(self) -> None:
        """For long-lived subscriptions: the session must still be live, and
        permissions are read afresh (UNAUTHENTICATED when it has ended)."""
        if self.viewer is None:
            raise Unauthenticated
        async with self.db.read() as session:
            found = await active_session_by_id(session, self.viewer.session.id)
        if found is None:
            raise Unauthenticated
        self.viewer = Viewer(user=found[1], session=found[0], via_cookie=self.viewer.via_cookie)
        self.loaders = Loaders.build(self.db, self.viewer.user.id)
        self.active_grant_known = False

    async def authenticate_connection(self) -> None:
        """A WebSocket without a cookie or Authorization header may sign in with
        `{"authorization": "Bearer <token>"}` in its connection_init payload."""
        if self.viewer is not None or not self.connection_params:
            return
        value = self.connection_params.get("authorization") or self.connection_params.get(
            "Authorization"
        )
        scheme, _, token = str(value or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return
        async with self.db.read() as session:
            found = await active_session_by_token(session, token.strip())
        await self.db.release()
        if found is not None:
            self.viewer = Viewer(user=found[1], session=found[0])
            self.loaders = Loaders.build(self.db, found[1].id)
            if negotiate_locale(self.request.headers.get("accept-language")) is None:
                self.locale = found[1].locale

    def set_session_cookie(self, token: str, *, max_age: int | None) -> None:
        if self.response is not None:
            self.response.set_cookie(
                self.settings.session_cookie_name,
                token,
                max_age=max_age,
                path="/",
                secure=self.settings.cookie_secure,
                httponly=True,
                samesite="lax",
            )

    def clear_session_cookie(self) -> None:
        if self.response is not None:
            self.response.delete_cookie(
                self.settings.session_cookie_name,
                path="/",
                secure=self.settings.cookie_secure,
                httponly=True,
                samesite="lax",
            )


def bearer_token(request: HTTPConnection) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(
    db: RequestDb, request: HTTPConnection, settings: Settings
) -> tuple[Viewer | None, bool]:
    """The viewer from `Authorization: Bearer` or else the session cookie; the
    second value says a cookie was sent that no longer works (to clear it).

    A cookie-authenticated request must pass the CSRF check (auth/csrf.py).
    An unknown, expired or revoked credential is anonymous, not an error: the
    fields that need a viewer say UNAUTHENTICATED.
    """
    token = bearer_token(request)
    via_cookie = False
    if token is None:
        token = request.cookies.get(settings.session_cookie_name) or None
        if token is None:
            return None, False
        check_cookie_request(request, settings)
        via_cookie = True
    async with db.read() as session:
        found = await active_session_by_token(session, token)
    if found is None:
        return None, via_cookie
    row, user = found
    if (utcnow() - row.last_seen_at).total_seconds() >= settings.session_touch_seconds:
        async with db.database.transaction() as session:
            await touch_session(session, row, idle=timedelta(minutes=settings.session_idle_minutes))
    return Viewer(user=user, session=row, via_cookie=via_cookie), False


async def build_context(
    request: HTTPConnection,
    response: Response | None,
    *,
    database: Database,
    settings: Settings,
    limiter: RateLimiter,
    wake_mail: Callable[[], None] | None = None,
    events: EventBus | None = None,
) -> Context:
    db = RequestDb(database)
    try:
        viewer, stale_cookie = await authenticate(db, request, settings)
    except BaseException:
        await db.close()
        raise
    locale = negotiate_locale(request.headers.get("accept-language"))
    if locale is None:
        locale = viewer.user.locale if viewer else DEFAULT_LOCALE
    request_id = request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
    context = Context(
        request=request,
        response=response,
        settings=settings,
        db=db,
        loaders=Loaders.build(db, viewer.user.id if viewer else None),
        locale=locale,
        client_ip=request.client.host if request.client else "",
        request_id=str(request_id),
        viewer=viewer,
        limiter=limiter,
        user_agent=request.headers.get("user-agent"),
        wake_mail=wake_mail,
        events=events,
    )
    if stale_cookie:
        context.clear_session_cookie()
    return context
