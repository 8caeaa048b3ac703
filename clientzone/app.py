"""The Starlette application: GraphQL at /graphql, health probes, edge middleware."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import os
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from clientzone import __version__
from clientzone.auth.rate_limits import CostBudget, RateLimiter, build_rate_limiter
from clientzone.auth.session_cache import SessionCache
from clientzone.config import ConfigError, MailSender, Settings, is_loopback_url, load_settings
from clientzone.core.logs import configure_logging
from clientzone.db import Database
from clientzone.mailers.scheduler import Scheduler
from clientzone.mailers.worker import MailWorker
from clientzone.models.auth_changes import listen as listen_to_auth_changes
from clientzone.models.mail import outbox_health
from clientzone.observability import metrics, tracing
from clientzone.realtime.events import EventBus, build_event_bus
from clientzone.schema import build_schema
from clientzone.schema.engine import Engine
from clientzone.schema.persisted_queries import PersistedDocuments
from clientzone.web.admission import Admission
from clientzone.web.downloads import document_endpoint
from clientzone.web.explorer import Explorer
from clientzone.web.graphql_http import GraphQLHttp
from clientzone.web.graphql_services import GraphQLServices
from clientzone.web.graphql_ws import GraphQLWebSocket
from clientzone.web.middleware import (
    BodyLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from clientzone.web.oauth import token_endpoint
from clientzone.web.payment_routes import payment_routes
from clientzone.web.unsubscribe import unsubscribe_endpoint

logger = logging.getLogger("clientzone.app")


async def _within(seconds: float, work: Awaitable[None], what: str) -> None:
    try:
        async with asyncio.timeout(seconds):
            await work
    except TimeoutError:
        logger.warning("shutdown: gave up waiting for %s after %.0f s", what, seconds)


def _session_cache(settings: Settings, events: EventBus) -> SessionCache | None:
    """The session cache, when every server process hears of revocations: a bus
    that crosses processes (Redis, PostgreSQL, the machine's sockets for an
    SQLite file), or a single server process (`serve` says how many it runs in
    CLIENTZONE_PROCESSES)."""
    if settings.session_cache_seconds <= 0:
        return None
    single = os.environ.get("CLIENTZONE_PROCESSES", "1") == "1"
    if not (single or events.crosses_processes):
        return None
    return SessionCache(events, ttl=settings.session_cache_seconds)


def _may_scrape(request: Request, settings: Settings) -> bool:
    """With METRICS_TOKEN: its bearer only; without: loopback callers only."""
    if settings.metrics_token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode())
    host = request.client.host if request.client else ""
    return is_loopback_url(f"http://[{host}]" if ":" in host else f"http://{host}")


class Readiness:
    """GET /readyz: the database (and Redis, when configured) answer within
    READINESS_TIMEOUT seconds. Checks run one at a time and a result is reused
    for a second, so probes can never use up the pool while a dependency is silent."""

    TIMEOUT = 2.0
    REUSE = 1.0

    def __init__(self, database: Database, limiter: RateLimiter) -> None:
        self.database = database
        self.limiter = limiter
        self._lock = asyncio.Lock()
        self._last: tuple[float, list[str]] = (-1e9, [])

    async def check(self) -> list[str]:
        async with self._lock:
            loop = asyncio.get_running_loop()
            checked_at, problems = self._last
            if loop.time() - checked_at < self.REUSE:
                return problems
            problems = []
            for name, probe in (("database", self.database.ping), ("redis", self.limiter.ping)):
                try:
                    async with asyncio.timeout(self.TIMEOUT):
                        await probe()
                except Exception as error:
                    logger.warning("readiness: %s did not answer (%r)", name, error)
                    problems.append(name)
            self._last = (loop.time(), problems)
            return problems


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    tracing_exporter: object = None,
) -> Starlette:
    """The ASGI app. Without arguments, settings come from the environment."""
    settings = settings or load_settings()
    configure_logging(settings)
    owns_database = database is None
    db = database or Database.from_settings(settings)
    if settings.mail_sender is MailSender.IN_PROCESS and settings.requires_smtp:
        raise ConfigError("invalid SMTP_HOST: required in production (or set MAIL_SENDER=off)")
    mail_worker = (
        MailWorker(db, settings) if settings.mail_sender is MailSender.IN_PROCESS else None
    )
    scheduler = Scheduler(db, settings, on_queued=mail_worker.wake) if mail_worker else None
    limiter = build_rate_limiter(db, settings.redis_url, settings.redis_prefix)
    budget = CostBudget(settings.cost_budget_per_minute, settings.redis_url, settings.redis_prefix)
    events = build_event_bus(settings.database_url, settings.redis_url, settings.redis_prefix)
    engine = Engine(build_schema(settings), settings)
    sessions = _session_cache(settings, events)
    stop_listening = (
        listen_to_auth_changes(db.engine.sync_engine, sessions.committed) if sessions else None
    )
    services = GraphQLServices(
        engine=engine,
        database=db,
        settings=settings,
        limiter=limiter,
        budget=budget,
        events=events,
        documents=PersistedDocuments(trusted_only=settings.trusted_documents),
        admission=Admission(
            running=settings.concurrent_requests,
            waiting=settings.max_queued_requests,
            wait_seconds=settings.queue_wait_seconds,
        ),
        wake_mail=mail_worker.wake if mail_worker else None,
        sessions=sessions,
    )
    graphql_http = GraphQLHttp(services)
    graphql_ws = GraphQLWebSocket(services)
    explorer = Explorer(db, settings)

    async def healthz(_: Request) -> Response:
        # Production does not tell strangers which version (and so which flaws) it runs.
        if settings.is_production:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "ok", "version": __version__})

    readiness = Readiness(db, limiter)

    async def readyz(_: Request) -> Response:
        problems = await readiness.check()
        if problems:
            return JSONResponse({"status": "unavailable", "failing": problems}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def metrics_page(request: Request) -> Response:
        if not _may_scrape(request, settings):
            return JSONResponse({"error": "not found"}, status_code=404)
        outbox = None
        try:
            async with asyncio.timeout(2), db.session() as session:
                outbox = metrics.OutboxCollector(*await outbox_health(session))
        except Exception as error:
            logger.warning("metrics: the outbox could not be read (%r)", error)
        body, content_type = metrics.render(outbox)
        return Response(body, media_type=content_type)

    async def close_clients() -> None:
        """Close the connections to Redis and the event bus (tests that build an
        app without running its lifespan call this)."""
        if stop_listening is not None:
            stop_listening()
        if sessions is not None:
            await sessions.close()
        await limiter.close()
        await budget.close()
        await events.close()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Everything loaded at start-up lives as long as the process: keep it
        # out of the collector's generations so collections stay cheap.
        gc.collect()
        gc.freeze()
        sender = asyncio.create_task(mail_worker.run()) if mail_worker else None
        scheduling = asyncio.create_task(scheduler.run()) if scheduler else None
        try:
            yield
        finally:
            # Bounded, even while a dependency is silent: the batch in hand is
            # finished and leases given back if the database answers in time;
            # otherwise the leases simply lapse and another process sends.
            grace = settings.shutdown_grace_seconds
            if scheduler and scheduling:
                scheduler.stop()
                await _within(grace, scheduling, "the mail scheduler")
            if mail_worker and sender:
                mail_worker.stop()
                await _within(grace, sender, "the mail sender")
            await _within(grace, close_clients(), "closing Redis and the event bus")
            if owns_database:
                await _within(grace, db.dispose(), "closing the database pool")

    app = Starlette(
        routes=[
            Route("/graphql", explorer.route(graphql_http)),
            WebSocketRoute("/graphql", graphql_ws),
            *explorer.routes(),
            Route("/documents/{token}", document_endpoint(db, settings), methods=["GET"]),
            Route(
                "/unsubscribe/{token}",
                unsubscribe_endpoint(db, settings),
                methods=["GET", "POST"],
            ),
            *payment_routes(db, settings),
            Route("/oauth/token", token_endpoint(db, settings, limiter), methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
        ],
        middleware=[
            *tracing.setup(db.engine.sync_engine, tracing_exporter),
            Middleware(RequestIdMiddleware),
            Middleware(
                SecurityHeadersMiddleware,
                hsts_seconds=settings.hsts_seconds if settings.is_production else 0,
            ),
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
                expose_headers=[
                    "X-Request-Id",
                    "Retry-After",
                    "X-RateLimit-Limit",
                    "X-RateLimit-Remaining",
                    "X-RateLimit-Reset",
                ],
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
    app.state.budget = budget
    app.state.engine = engine
    app.state.close_clients = close_clients
    app.state.sessions = sessions
    app.state.events = events
    return app
