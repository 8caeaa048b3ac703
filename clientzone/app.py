"""The Starlette application: GraphQL at /graphql, health probes, edge middleware."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from clientzone import __version__
from clientzone.auth.context import Context, build_context
from clientzone.auth.csrf import CsrfRefused
from clientzone.auth.rate_limits import RateLimiter, build_rate_limiter
from clientzone.config import ConfigError, MailSender, Settings, load_settings
from clientzone.db import Database
from clientzone.downloads import document_endpoint
from clientzone.events import EventBus, build_event_bus
from clientzone.i18n import DEFAULT_LOCALE, negotiate_locale, translate
from clientzone.logs import configure_logging
from clientzone.mailers.worker import MailWorker
from clientzone.middleware import (
    BodyLimitMiddleware,
    BodyTooLarge,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from clientzone.payment_routes import payment_routes
from clientzone.schema import build_schema
from clientzone.schema.errors import shape_errors

logger = logging.getLogger("clientzone.app")

CONTEXT_KEY = "graphql_context"


class GraphQLView(GraphQL[Context, None]):
    """Builds our typed Context per request and closes its database session after."""

    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        limiter: RateLimiter,
        mail_worker: MailWorker | None,
        events: EventBus,
    ) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            allowed_origins=settings.cors_origins,
            # Cookie-authenticated multipart needs X-CSRF-Protection (auth/csrf.py).
            multipart_uploads_enabled=True,
        )
        self.database = database
        self.settings = settings
        self.limiter = limiter
        self.mail_worker = mail_worker
        self.events = events

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = await build_context(
            request,
            response if isinstance(response, Response) else None,
            database=self.database,
            settings=self.settings,
            limiter=self.limiter,
            wake_mail=self.mail_worker.wake if self.mail_worker else None,
            events=self.events,
        )
        request.scope.setdefault("state", {})[CONTEXT_KEY] = context
        if isinstance(request, WebSocket):
            # A socket lives for minutes or hours: give the connection back to
            # the pool now (later reads open a fresh session when they need one).
            await context.db.close()
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Sign in from the connection_init payload when the handshake carried
        no credentials; the acknowledgement has no payload."""
        await context.authenticate_connection()
        no_payload: UnsetType = UNSET
        return no_payload

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            context = request.scope.get("state", {}).get(CONTEXT_KEY)
            result.errors = shape_errors(result.errors, context)
            waits = [
                int(error.extensions["retryAfter"])
                for error in result.errors
                if error.extensions and error.extensions.get("code") == "RATE_LIMITED"
            ]
            if waits and context is not None and context.response is not None:
                context.response.headers["Retry-After"] = str(max(waits))
        return await super().process_result(request, result)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except BodyTooLarge:
            raise
        except CsrfRefused:
            await self._refuse_cross_site(scope, receive, send)
        except Exception:
            # Failures outside GraphQL execution (building the context: the
            # database is down) are masked like any INTERNAL error.
            request_id = scope.get("state", {}).get("request_id", "-")
            logger.exception("request %s failed outside GraphQL execution", request_id)
            if scope["type"] != "http":
                raise
            locale = negotiate_locale(Headers(scope=scope).get("accept-language"))
            error = {
                "message": translate(
                    "error.internal", locale or DEFAULT_LOCALE, request_id=request_id
                ),
                "extensions": {"code": "INTERNAL", "requestId": request_id},
            }
            await JSONResponse({"data": None, "errors": [error]}, status_code=500)(
                scope, receive, send
            )
        finally:
            context = scope.get("state", {}).pop(CONTEXT_KEY, None)
            if context is not None:
                await context.db.close()
                if isinstance(context.request, Request):
                    # Uploaded files are spooled to temporary files: close them
                    # also when no resolver read them (FORBIDDEN, NOT_FOUND).
                    await context.request.close()

    @staticmethod
    async def _refuse_cross_site(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocket(scope, receive, send).close(code=4403)
            return
        locale = negotiate_locale(Headers(scope=scope).get("accept-language"))
        error = {
            "message": translate("error.csrf", locale or DEFAULT_LOCALE),
            "extensions": {"code": "FORBIDDEN", "reason": "CSRF"},
        }
        await JSONResponse({"data": None, "errors": [error]}, status_code=403)(scope, receive, send)


def create_app(settings: Settings | None = None, database: Database | None = None) -> Starlette:
    """The ASGI app. Without arguments, settings come from the environment."""
    settings = settings or load_settings()
    configure_logging(settings)
    owns_database = database is None
    db = database or Database(settings.database_url, pool_size=settings.database_pool_size)
    if settings.mail_sender is MailSender.IN_PROCESS and settings.requires_smtp:
        raise ConfigError("invalid SMTP_HOST: required in production (or set MAIL_SENDER=off)")
    mail_worker = (
        MailWorker(db, settings) if settings.mail_sender is MailSender.IN_PROCESS else None
    )
    limiter = build_rate_limiter(db, settings.redis_url, settings.redis_prefix)
    events = build_event_bus(settings.database_url, settings.redis_url, settings.redis_prefix)
    view = GraphQLView(
        database=db, settings=settings, limiter=limiter, mail_worker=mail_worker, events=events
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def readyz(_: Request) -> Response:
        try:
            await db.ping()
        except Exception:
            logger.exception("readiness check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Everything loaded at start-up lives as long as the process: keep it
        # out of the collector's generations so collections stay cheap.
        gc.collect()
        gc.freeze()
        sender = asyncio.create_task(mail_worker.run()) if mail_worker else None
        try:
            yield
        finally:
            if mail_worker and sender:
                mail_worker.stop()
                await sender
            await limiter.close()
            await events.close()
            if owns_database:
                await db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/documents/{token}", document_endpoint(db, settings), methods=["GET"]),
            *payment_routes(db, settings),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(SecurityHeadersMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_credentials=True,
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "Accept-Language",
                    "X-Account-Id",
                    "X-Request-Id",
                    "X-CSRF-Protection",
                ],
                expose_headers=["X-Request-Id", "Retry-After"],
                max_age=600,
            ),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                max_upload_bytes=settings.max_upload_body_bytes,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = db
    app.state.mail_worker = mail_worker
    app.state.limiter = limiter
    app.state.events = events
    return app
