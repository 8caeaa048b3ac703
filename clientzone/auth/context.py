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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.responses import Response

from clientzone.auth.api_clients import ApiClientPrincipal, authenticate_client, find_principal
from clientzone.auth.csrf import check_request
from clientzone.auth.rate_limits import RateLimiter
from clientzone.auth.session_cache import SessionCache
from clientzone.config import Settings
from clientzone.core.errors import Unauthenticated
from clientzone.core.i18n import DEFAULT_LOCALE, negotiate_locale
from clientzone.core.tokens import hash_token
from clientzone.db import Database, RequestDb
from clientzone.loaders import Loaders
from clientzone.models.accounts import Account
from clientzone.models.api_clients import ACCESS_TOKEN_PREFIX, KEY_PREFIX
from clientzone.models.base import utcnow
from clientzone.models.memberships import Grant
from clientzone.models.sessions import (
    AuthSession,
    active_session_by_hash,
    active_session_by_id,
    active_session_by_token,
    touch_session,
)
from clientzone.models.staff import StaffMember
from clientzone.models.users import Locale, User
from clientzone.realtime.events import EventBus


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
    # Live updates between server processes (clientzone.realtime.events).
    events: EventBus | None = None
    # A WebSocket's `connection_init` payload (browsers cannot set headers there).
    connection_params: dict[str, Any] | None = None
    # The viewer's staff row, read once per request by auth.staff.
    staff: StaffMember | None = None
    staff_known: bool = False
    # Announcements to make once the current transaction has committed.
    committed_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # An integration's request (auth/api_clients.py): no viewer, one account.
    api_client: ApiClientPrincipal | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One mutation's transaction; fresh loaders and the `after_commit`
        announcements once it has committed (none when it rolls back)."""
        self.committed_hooks = []
        try:
            async with self.db.transaction() as session:
                yield session
        except BaseException:
            self.committed_hooks = []
            raise
        self.loaders = loaders_for(self.db, self.viewer, self.api_client)
        if self.wake_mail is not None:
            self.wake_mail()
        hooks, self.committed_hooks = self.committed_hooks, []
        for hook in hooks:
            await hook()

    def after_commit(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` (a live update to other processes) once the mutation's
        transaction has committed; never if it rolls back."""
        self.committed_hooks.append(hook)

    async def for_operation(self, operation_id: str) -> Context | None:
        """A context for one operation on a long-lived WebSocket: a database
        session of its own, the viewer's session checked again and fresh
        loaders, so an ended session or a removed permission takes effect at
        the next operation. None when the viewer's session has ended."""
        db = RequestDb(self.db.database)
        viewer = self.viewer
        client = self.api_client
        if viewer is not None:
            async with db.read() as session:
                found = await active_session_by_id(session, viewer.session.id)
            if found is None:
                await db.close()
                return None
            viewer = Viewer(user=found[1], session=found[0], via_cookie=viewer.via_cookie)
        elif client is not None:
            client = await find_principal(db, client.credential, self.client_ip)
            if client is None:
                await db.close()
                return None
        return Context(
            request=self.request,
            response=None,
            settings=self.settings,
            db=db,
            loaders=loaders_for(db, viewer, client),
            locale=self.locale,
            client_ip=self.client_ip,
            request_id=f"{self.request_id}.{operation_id[:32]}",
            viewer=viewer,
            limiter=self.limiter.for_request(db.release),
            user_agent=self.user_agent,
            wake_mail=self.wake_mail,
            events=self.events,
            connection_params=self.connection_params,
            api_client=client,
        )

    async def session_alive(self) -> bool:
        """Whether the viewer's session, or the API client's credential, still
        works (for a socket's guard)."""
        if self.api_client is not None:
            client = await find_principal(self.db, self.api_client.credential, self.client_ip)
            await self.db.release()
            if client is not None:
                self.api_client = client
            return client is not None
        if self.viewer is None:
            return True
        async with self.db.read() as session:
            found = await active_session_by_id(session, self.viewer.session.id)
        await self.db.release()
        return found is not None

    async def refresh_viewer(self) -> None:
        """For long-lived subscriptions: the session (or the API client's
        credential) must still work, and permissions are read afresh
        (UNAUTHENTICATED when it has ended)."""
        if self.api_client is not None:
            client = await find_principal(self.db, self.api_client.credential, self.client_ip)
            if client is None:
                raise Unauthenticated
            self.api_client = client
            self.loaders = loaders_for(self.db, None, client)
            self.active_grant_known = False
            return
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
        `{"authorization": "Bearer <token>"}` in its connection_init payload
        (a person's token, or an API client's key or access token)."""
        if self.viewer is not None or self.api_client is not None or not self.connection_params:
            return
        value = self.connection_params.get("authorization") or self.connection_params.get(
            "Authorization"
        )
        scheme, _, token = str(value or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return
        if token.strip().startswith((KEY_PREFIX, ACCESS_TOKEN_PREFIX)):
            self.api_client = await find_principal(self.db, token.strip(), self.client_ip)
            await self.db.release()
            self.loaders = loaders_for(self.db, None, self.api_client)
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


def loaders_for(db: RequestDb, viewer: Viewer | None, client: ApiClientPrincipal | None) -> Loaders:
    """A request's loaders: the viewer's, or an API client's."""
    if viewer is not None:
        return Loaders.build(db, viewer.user.id)
    return Loaders.build(db, None, client.linked if client is not None else None)


def bearer_token(request: HTTPConnection) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(
    db: RequestDb,
    request: HTTPConnection,
    settings: Settings,
    cache: SessionCache | None = None,
) -> tuple[Viewer | None, bool]:
    """The viewer from `Authorization: Bearer` or else the session cookie; the
    second value says a cookie was sent that no longer works (to clear it).

    A request without a bearer token must pass the CSRF check (auth/csrf.py).
    An unknown, expired or revoked credential is anonymous, not an error: the
    fields that need a viewer say UNAUTHENTICATED. Live sessions come from
    the session cache when it has them (auth/session_cache.py).
    """
    token = bearer_token(request)
    via_cookie = False
    if token is None:
        token = request.cookies.get(settings.session_cookie_name) or None
        check_request(request, settings, has_cookie=token is not None)
        if token is None:
            return None, False
        via_cookie = True
    now = utcnow()
    clock = asyncio.get_running_loop().time()
    token_hash = hash_token(token)
    entry = cache.get(token_hash, now, clock) if cache is not None else None
    if entry is not None:
        row, user, last_seen = entry.session, entry.user, entry.last_seen_at
    else:
        async with db.read() as session:
            found = await active_session_by_hash(session, token_hash)
            if found is not None and cache is not None:
                # Shared with later requests: out of this session, so nothing
                # it does (a rollback expires what it holds) reaches them.
                session.expunge(found[0])
                session.expunge(found[1])
        if found is None:
            return None, via_cookie
        row, user = found
        last_seen = row.last_seen_at
        if cache is not None:
            cache.put(token_hash, row, user, clock)
            entry = cache.get(token_hash, now, clock)
    if (now - last_seen).total_seconds() >= settings.session_touch_seconds:
        idle = timedelta(minutes=settings.session_idle_minutes)
        async with db.side_transaction() as session:
            await touch_session(session, row, idle=idle, now=now)
        if entry is not None:
            entry.last_seen_at = now
            if entry.idle_expires_at is not None:
                entry.idle_expires_at = now + idle
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
    sessions: SessionCache | None = None,
) -> Context:
    db = RequestDb(database)
    try:
        client = await authenticate_client(
            db, request, limiter, settings.api_client_requests_per_minute
        )
        viewer, stale_cookie = (
            (None, False) if client else await authenticate(db, request, settings, sessions)
        )
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
        loaders=loaders_for(db, viewer, client),
        locale=locale,
        client_ip=request.client.host if request.client else "",
        request_id=str(request_id),
        viewer=viewer,
        limiter=limiter.for_request(db.release),
        user_agent=request.headers.get("user-agent"),
        wake_mail=wake_mail,
        events=events,
        api_client=client,
    )
    if stale_cookie:
        context.clear_session_cookie()
    return context
