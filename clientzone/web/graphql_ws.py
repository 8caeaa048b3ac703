"""GraphQL over WebSocket at /graphql (graphql-transport-ws only).

A socket lives for minutes or hours, longer than the session that opened it
may. So:

- every operation on the socket gets a context of its own
  (`Context.for_operation`): its own database session, the viewer's session
  checked again and fresh loaders; permissions are read afresh, and a removed
  permission or membership takes effect at the next operation (subscriptions
  also check on every event);
- a guard task watches the viewer's session: it is told at once (through the
  event bus) when the login's sessions are revoked, and wakes up when the
  session would expire; when the session has ended it closes the socket with
  4401 and every operation on it stops;
- an API client's socket (its key or access token in the handshake or the
  `connection_init` payload) is watched the same way: revoking the client or
  rotating its key is announced, and the guard wakes when the key, the
  rotation's grace or the access token runs out; every operation checks the
  credential again and is charged to the client's request budget, as an HTTP
  request is.

Operations go through the same engine as HTTP (schema/engine.py): the same
validation, text checks and cost limits; request errors are sent as the
protocol's `error` message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from graphql import ExecutionResult, GraphQLError, OperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.execution import ExecutionResult as StrawberryResult
from strawberry.types.unset import UNSET, UnsetType

from clientzone.auth.api_clients import client_limit
from clientzone.auth.context import Context, build_context
from clientzone.auth.csrf import CsrfRefused
from clientzone.core.errors import ClientzoneError, Unavailable
from clientzone.models.base import utcnow
from clientzone.observability import metrics
from clientzone.realtime.events import EventBusUnavailable
from clientzone.realtime.sessions import channel as sessions_channel
from clientzone.realtime.sessions import client_channel
from clientzone.schema.engine import RequestError, refuse, request_errors
from clientzone.schema.errors import log_unexpected, shape_errors
from clientzone.web.graphql_services import GraphQLServices

logger = logging.getLogger("clientzone.app")

SESSION_ENDED = 4401
CROSS_SITE = 4403


class TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with a fresh context per operation and a session guard."""

    view: GraphQLWebSocket
    guard: asyncio.Task[None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payload_extensions: dict[str, dict[str, Any]] = {}

    async def handle_subscribe(self, message: Any) -> None:
        # The protocol's payload may carry `extensions` (a persisted query's hash).
        payload = message.get("payload") if isinstance(message, dict) else None
        if isinstance(payload, dict) and isinstance(payload.get("extensions"), dict):
            self.payload_extensions[str(message.get("id"))] = payload["extensions"]
        await super().handle_subscribe(message)

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        context = self.context
        if self.connection_acknowledged and (
            context.viewer is not None or context.api_client is not None
        ):
            self.guard = asyncio.create_task(self.watch_session())

    async def shutdown(self) -> None:
        if self.guard is not None:
            self.guard.cancel()
            with suppress(asyncio.CancelledError):
                await self.guard
        await super().shutdown()

    async def watch_session(self) -> None:
        """Close the socket (4401) once the viewer's session (or the API
        client's credential) has ended."""
        client = self.context.api_client
        viewer = self.context.viewer
        if client is not None:
            hints_channel = client_channel(client.client_id)
        else:
            assert viewer is not None
            hints_channel = sessions_channel(viewer.user.id)
        events = self.context.events
        check = self.view.settings.ws_session_check_seconds
        try:
            if events is None:
                await self._poll(None, check)
                return
            try:
                async with events.subscribe(hints_channel) as hints:
                    await self._poll(hints, check)
            except EventBusUnavailable:
                await self._poll(None, check)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("a WebSocket's session guard failed; closing it", exc_info=True)
            with suppress(Exception):
                await self.websocket.close(code=SESSION_ENDED, reason="Session check failed")

    async def _poll(self, hints: AsyncIterator[str] | None, check: float) -> None:
        while True:
            expiry = self._expiry()
            wait = check
            if expiry is not None:
                wait = max(0.5, min(check, (expiry - utcnow()).total_seconds() + 0.5))
            if hints is None:
                await asyncio.sleep(wait)
            else:
                with suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await anext(hints)
            if not await self.context.session_alive():
                await self.websocket.close(code=SESSION_ENDED, reason="Session ended")
                return
            if self.context.viewer is not None:
                await self._refresh_expiry()

    def _expiry(self) -> datetime | None:
        """When the socket's credential runs out unless something ends it sooner."""
        if self.context.api_client is not None:
            return self.context.api_client.valid_until
        viewer = self.context.viewer
        assert viewer is not None
        return min(t for t in (viewer.session.expires_at, viewer.session.idle_expires_at) if t)

    async def _refresh_expiry(self) -> None:
        fresh = await self.context.for_operation("guard")
        if fresh is not None:
            self.context.viewer = fresh.viewer
            await fresh.db.close()

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        try:
            context = await self.context.for_operation(operation.id)
        except Exception as error:  # the database did not answer: say so, keep the socket
            failed = GraphQLError("unavailable", original_error=error)
            log_unexpected([failed], self.context)
            await operation.send_initial_errors(shape_errors([failed], self.context))
            return
        if context is None:
            await self.websocket.close(code=SESSION_ENDED, reason="Session ended")
            self.operations.pop(operation.id, None)
            return
        try:
            await self._run(operation, context)
        except RequestError as error:
            shaped = shape_errors(error.errors, context)
            await operation.send_initial_errors(shaped)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # An outage becomes UNAVAILABLE; anything else is a defect (INTERNAL).
            failed = GraphQLError("internal", original_error=error)
            log_unexpected([failed], context)
            await operation.send_initial_errors(shape_errors([failed], context))
        finally:
            await context.db.close()

    async def _run(self, operation: Operation[Context, None], context: Context) -> None:
        view = self.view
        engine = view.engine
        restricted = view.services.restricted(context)
        extensions = self.payload_extensions.pop(operation.id, None)
        query, _ = await view.services.document(context, operation.query, extensions)
        prepared = engine.operation(query, operation.operation_name, restricted=restricted)
        variables = engine.check_variables(operation.variables)
        pricing = engine.price(prepared, variables)
        try:
            if context.api_client is not None:
                await context.limiter.hit(
                    client_limit(view.settings.api_client_requests_per_minute),
                    str(context.api_client.client_id),
                )
            await view.services.charge(context, pricing.requested)
        except ClientzoneError as error:
            raise refuse(error, 429) from None
        if prepared.kind is OperationType.SUBSCRIPTION:
            stream = await engine.subscribe(prepared, context, variables, restricted=restricted)
            if isinstance(stream, ExecutionResult):
                raise RequestError(stream.errors or [])
            metrics.SUBSCRIPTIONS.inc()
            try:
                async for result in stream:
                    await operation.send_next(self._shaped(result, context))
            except ClientzoneError as error:
                # The subscription ended itself (the session ended, a permission
                # was removed): its last event says why, then it completes.
                path = [prepared.root_field]
                ended = GraphQLError(error.message_key, original_error=error, path=path)
                await operation.send_next(self._shaped(ExecutionResult(None, [ended]), context))
            finally:
                metrics.SUBSCRIPTIONS.dec()
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
        else:
            try:
                async with (
                    view.services.admission.turn(),
                    asyncio.timeout(view.settings.request_timeout_seconds),
                ):
                    result = await engine.execute(
                        prepared, context, variables, restricted=restricted
                    )
            except TimeoutError:
                raise RequestError(
                    [
                        GraphQLError(
                            "timeout", original_error=Unavailable(1, "TIMEOUT", "request.timeout")
                        )
                    ],
                    503,
                ) from None
            if request_errors(result):
                raise RequestError(result.errors or [])
            await operation.send_next(self._shaped(result, context))
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

    @staticmethod
    def _shaped(result: ExecutionResult, context: Context) -> StrawberryResult:
        errors = None
        if result.errors:
            log_unexpected(result.errors, context)
            errors = shape_errors(result.errors, context)
        return StrawberryResult(data=result.data, errors=errors)


class GraphQLWebSocket(GraphQL[Context, None]):
    """Only the WebSocket side of strawberry's view: the handshake, the origin
    check and the protocol; everything an operation does is ours."""

    graphql_transport_ws_handler_class = TransportHandler

    def __init__(self, services: GraphQLServices) -> None:
        super().__init__(
            services.engine.strawberry_schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=services.settings.cors_origins,
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=20,
        )
        self.services = services
        self.engine = services.engine
        self.settings = services.settings

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services = self.services
        context = await build_context(
            request,
            None,
            database=services.database,
            settings=services.settings,
            limiter=services.limiter,
            events=services.events,
        )
        # The socket's own session goes back to the pool now: each operation
        # opens its own (Context.for_operation); the guard reads briefly.
        await context.db.release()
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Sign in from the connection_init payload when the handshake carried
        no credentials; the acknowledgement has no payload."""
        await context.authenticate_connection()
        no_payload: UnsetType = UNSET
        return no_payload

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except CsrfRefused:
            await WebSocket(scope, receive, send).close(code=CROSS_SITE)
