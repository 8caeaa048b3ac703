"""GraphQL over HTTP at /graphql (GET and POST), as the GraphQL-over-HTTP
specification describes it.

- Media types: a client that accepts `application/graphql-response+json` gets
  it, with 4xx statuses for requests that fail before execution (and no `data`
  key then); anyone else gets `application/json` and 200 for every
  well-formed GraphQL request, as older clients expect. Media types are
  compared case-insensitively.
- A request that is not a GraphQL request at all (an unreadable body, a JSON
  array, a wrong method or content type) is answered with its 4xx status and a
  GraphQL JSON body: `{"errors": [{"message", "extensions": {"code"}}]}`.
- GET runs queries only (a mutation is 405); subscriptions are served over
  WebSocket (see graphql_ws.py); several operations need `operationName`.
- POST takes `application/json`, or `multipart/form-data` following the
  GraphQL multipart request specification, only when it carries files.
- Every answer says what the operation cost in `extensions.cost`.

Cross-site checks, authentication and the request's context are in auth/;
parsing, validation, pricing and execution in schema/engine.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError, OperationType
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from clientzone.auth.context import Context, build_context
from clientzone.auth.csrf import CsrfRefused
from clientzone.core.errors import (
    BadRequest,
    ClientzoneError,
    CrossSiteRefused,
    RateLimited,
    Unavailable,
)
from clientzone.core.i18n import DEFAULT_LOCALE, negotiate_locale
from clientzone.core.outages import is_outage
from clientzone.models.users import Locale
from clientzone.observability import metrics, tracing
from clientzone.schema.engine import Pricing, RequestError, refuse, request_errors
from clientzone.schema.errors import OUTAGE_RETRY_SECONDS, log_unexpected, shape_errors
from clientzone.web.graphql_services import GraphQLServices
from clientzone.web.middleware import BodyTooLarge

logger = logging.getLogger("clientzone.app")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_UPLOAD_FILES = 10
MAX_MULTIPART_FIELDS = 20


def negotiate_media_type(accept: str | None) -> str | None:
    """The response media type for an Accept header: graphql-response+json when
    named (and not refused), else application/json, else None (406). A bare
    `*/*` gets application/json, which every client understands."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, int] = (0.0, 0, 0)
    chosen: str | None = None
    for candidate in (GRAPHQL_RESPONSE, JSON):
        for part in accept.split(","):
            media, _, params = part.strip().partition(";")
            media = media.strip().lower()
            if media == candidate:
                # Named outright: the newer media type wins a tie.
                rank = (_quality(params), 2, 1 if candidate == GRAPHQL_RESPONSE else 0)
            elif media in ("*/*", "application/*"):
                # A wildcard: application/json, which older clients expect.
                rank = (_quality(params), 1, 1 if candidate == JSON else 0)
            else:
                continue
            if rank[0] > 0 and rank > best:
                best, chosen = rank, candidate
    return chosen


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


@dataclass
class GraphQLRequest:
    query: Any = None
    variables: Any = None
    operation_name: Any = None
    extensions: Any = None
    uploads: list[UploadFile] = field(default_factory=list)
    multipart: bool = False


def _json(raw: bytes | str, parameter: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise refuse(
            BadRequest("request.malformed_json")
            if parameter == "body"
            else BadRequest("request.parameter_type", parameter=parameter),
            well_formed=False,
        ) from None


def _from_mapping(data: Any) -> GraphQLRequest:
    if isinstance(data, list):
        raise refuse(BadRequest("request.batch"), well_formed=False)
    if not isinstance(data, dict):
        raise refuse(BadRequest("request.not_an_object"), well_formed=False)
    parsed = GraphQLRequest(
        query=data.get("query"),
        variables=data.get("variables"),
        operation_name=data.get("operationName"),
        extensions=data.get("extensions"),
    )
    for name, value, kind in (
        ("query", parsed.query, str),
        ("variables", parsed.variables, dict),
        ("operationName", parsed.operation_name, str),
        ("extensions", parsed.extensions, dict),
    ):
        if value is not None and not isinstance(value, kind):
            raise refuse(BadRequest("request.parameter_type", parameter=name), well_formed=False)
    return parsed


def _from_query_string(request: Request) -> GraphQLRequest:
    params = request.query_params
    data: dict[str, Any] = {
        "query": params.get("query"),
        "operationName": params.get("operationName"),
    }
    for name in ("variables", "extensions"):
        raw = params.get(name)
        if raw:
            data[name] = _json(raw, name)
    return _from_mapping(data)


async def _from_multipart(request: Request) -> GraphQLRequest:
    """The GraphQL multipart request: `operations`, `map`, then the files."""

    def bad(problem: str) -> RequestError:
        return refuse(BadRequest("request.multipart", problem=problem), well_formed=False)

    try:
        form = await request.form(
            max_files=MAX_UPLOAD_FILES, max_fields=MAX_MULTIPART_FIELDS, max_part_size=1_048_576
        )
    except HTTPException as error:
        raise bad(str(error.detail).rstrip(".").lower()) from None
    except (ValueError, KeyError, UnicodeError, AssertionError):
        raise bad("the body is not valid multipart/form-data") from None
    uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    try:
        parsed = _read_multipart_form(form, bad)
    except RequestError:
        for upload in uploads:
            await upload.close()
        raise
    parsed.uploads = uploads
    return parsed


def _read_multipart_form(form: FormData, bad: Callable[[str], RequestError]) -> GraphQLRequest:
    operations, mapping = form.get("operations"), form.get("map")
    if not isinstance(operations, str) or not isinstance(mapping, str):
        raise bad("operations and map must come first, as text")
    parsed = _from_mapping(_json(operations, "operations"))
    parsed.multipart = True
    files = _json(mapping, "map")
    if not isinstance(files, dict):
        raise bad("map must be an object")
    variables = parsed.variables if isinstance(parsed.variables, dict) else None
    for key, paths in files.items():
        upload = form.get(key)
        if not isinstance(upload, UploadFile):
            raise bad(f"map names {key!r}, which is not a file part")
        if not isinstance(paths, list) or not paths:
            raise bad(f"map[{key!r}] must be a list of variable paths")
        for path in paths:
            if (
                variables is None
                or not isinstance(path, str)
                or not _place(variables, path, upload)
            ):
                raise bad(f"{str(path)[:80]!r} is not a variable path holding null")
    return parsed


def _place(variables: dict[str, Any], path: str, upload: UploadFile) -> bool:
    """Put `upload` at `variables.a.0.b` where the operation sent null."""
    parts = path.split(".")
    if len(parts) < 2 or parts[0] != "variables" or len(parts) > 8:
        return False
    target: Any = variables
    for part in parts[1:-1]:
        if isinstance(target, dict) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return False
    last = parts[-1]
    if isinstance(target, dict) and last in target and target[last] is None:
        target[last] = upload
        return True
    index = int(last) if last.isdigit() else -1
    if isinstance(target, list) and 0 <= index < len(target) and target[index] is None:
        target[index] = upload
        return True
    return False


class GraphQLHttp:
    """The ASGI endpoint for GET and POST /graphql."""

    def __init__(self, services: GraphQLServices) -> None:
        self.services = services
        self.engine = services.engine
        self.settings = services.settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        started = time.perf_counter()
        statements = [0]
        counting = metrics.statements_of_request.set(statements)
        observed = Observation()
        try:
            response = await self._respond(request, observed)
        finally:
            metrics.statements_of_request.reset(counting)
        label = metrics.operation_label(observed.operation)
        metrics.REQUESTS.labels(label, observed.outcome).inc()
        metrics.DURATION.labels(label).observe(time.perf_counter() - started)
        metrics.STATEMENTS.observe(statements[0])
        return response

    async def _respond(self, request: Request, observed: Observation) -> Response:
        locale = negotiate_locale(request.headers.get("accept-language")) or DEFAULT_LOCALE
        request_id = str(request.scope.get("state", {}).get("request_id", "-"))
        media = negotiate_media_type(request.headers.get("accept"))
        context: Context | None = None
        uploads: list[UploadFile] = []
        try:
            if request.method not in ("GET", "POST"):
                raise refuse(
                    BadRequest("request.method"),
                    405,
                    well_formed=False,
                    headers={"Allow": "GET, POST"},
                )
            if media is None:
                raise refuse(BadRequest("request.not_acceptable"), 406, well_formed=False)
            async with self.services.admission.turn():
                context = await self._context(request)
                locale = context.locale
                parsed = await self._read(request)
                uploads = parsed.uploads
                return await self._run(request, parsed, context, media or JSON, observed)
        except RequestError as error:
            return self._refusal(error, media or JSON, context, locale, request_id, observed)
        except Unavailable as error:
            busy = refuse(error, 503, well_formed=False)
            return self._refusal(busy, media or JSON, context, locale, request_id, observed)
        except BodyTooLarge:
            raise  # answered 413 by the middleware that raised it
        except Exception as error:
            if is_outage(error):
                logger.warning("request %s: a dependency did not answer: %r", request_id, error)
                down = refuse(
                    Unavailable(OUTAGE_RETRY_SECONDS, "DEPENDENCY"), 503, well_formed=False
                )
                return self._refusal(down, media or JSON, context, locale, request_id, observed)
            # A defect outside any field (fields mask their own): masked as INTERNAL.
            logger.exception("request %s failed outside GraphQL execution", request_id)
            defect = GraphQLError("internal", original_error=RuntimeError("outside execution"))
            internal = RequestError([defect], 500, well_formed=False)
            return self._refusal(internal, media or JSON, context, locale, request_id, observed)
        finally:
            if context is not None:
                await context.db.close()
            for upload in uploads:
                await upload.close()

    async def _read(self, request: Request) -> GraphQLRequest:
        if request.method == "GET":
            return _from_query_string(request)
        content_type = request.headers.get("content-type", "")
        media, _, params = content_type.partition(";")
        media = media.strip().lower()
        if media == "application/json":
            charset = _charset(params)
            if charset not in (None, "utf-8", "utf8"):
                raise refuse(BadRequest("request.charset"), 415, well_formed=False)
            body = await request.body()
            return _from_mapping(_json(body, "body"))
        if media == "multipart/form-data":
            return await _from_multipart(request)
        raise refuse(BadRequest("request.media_type"), 415, well_formed=False)

    async def _context(self, request: Request) -> Context:
        try:
            services = self.services
            if services.sessions is not None:
                services.sessions.start()
            return await build_context(
                request,
                Response(),
                database=services.database,
                settings=services.settings,
                limiter=services.limiter,
                wake_mail=services.wake_mail,
                events=services.events,
                sessions=services.sessions,
            )
        except CsrfRefused:
            raise refuse(CrossSiteRefused(), 403, well_formed=False) from None
        except ClientzoneError as error:
            status = 429 if isinstance(error, RateLimited) else 400
            raise refuse(error, 503 if isinstance(error, Unavailable) else status) from None

    async def _run(
        self,
        request: Request,
        parsed: GraphQLRequest,
        context: Context,
        media: str,
        observed: Observation,
    ) -> Response:
        engine = self.engine
        restricted = self.services.restricted(context)
        query, learn = await self.services.document(context, parsed.query, parsed.extensions)
        observed.operation = (
            parsed.operation_name if isinstance(parsed.operation_name, str) else None
        )
        operation = engine.operation(query, parsed.operation_name, restricted=restricted)
        observed.operation = operation.name
        if operation.kind is OperationType.SUBSCRIPTION:
            raise refuse(BadRequest("request.subscription_over_http"), 400)
        if request.method == "GET" and operation.kind is not OperationType.QUERY:
            raise refuse(BadRequest("request.mutation_over_get"), 405, headers={"Allow": "POST"})
        if parsed.multipart and not engine.takes_uploads(operation):
            # Multipart (which a cross-site form could send) only where files go.
            problem = "this operation takes no file: send it as JSON"
            raise refuse(BadRequest("request.multipart", problem=problem), well_formed=False)
        variables = engine.check_variables(parsed.variables)
        pricing = engine.price(operation, variables)
        cost = await self._charge(context, pricing)
        kind = operation.kind.value
        try:
            with tracing.operation_span(kind, operation.name, pricing.requested):
                async with asyncio.timeout(self.settings.request_timeout_seconds):
                    result = await engine.execute(
                        operation, context, variables, restricted=restricted
                    )
        except TimeoutError:
            error = Unavailable(1, "TIMEOUT", "request.timeout")
            raise refuse(error, 503, headers={"Retry-After": "1"}) from None
        if request_errors(result):
            raise RequestError(result.errors or [])
        if learn and query:
            await self.services.documents.learn(context, query, operation.document)
        return self._answer(result, context, media, cost, observed)

    async def _charge(self, context: Context, pricing: Pricing) -> dict[str, Any]:
        """Charge the operation to its client's budget; the budget's state goes
        into X-RateLimit-* headers, the operation's price into extensions.cost."""
        try:
            left, reset = await self.services.charge(context, pricing.requested)
        except ClientzoneError as error:
            retry = str(error.params.get("seconds", 60))
            raise refuse(error, 429, headers={"Retry-After": retry}) from None
        if context.response is not None:
            context.response.headers["X-RateLimit-Limit"] = str(self.services.budget.per_minute)
            context.response.headers["X-RateLimit-Remaining"] = str(left)
            context.response.headers["X-RateLimit-Reset"] = str(reset)
        return pricing.as_extension()

    def _answer(
        self,
        result: ExecutionResult,
        context: Context,
        media: str,
        cost: dict[str, Any],
        observed: Observation,
    ) -> Response:
        payload: dict[str, Any] = {"data": result.data}
        headers = context.response.headers if context.response is not None else None
        if result.errors:
            log_unexpected(result.errors, context)
            errors = shape_errors(result.errors, context)
            payload["errors"] = [error.formatted for error in errors]
            observed.outcome = str((errors[0].extensions or {}).get("code", "INTERNAL"))
            waits = [
                int(error.extensions["retryAfter"])
                for error in errors
                if error.extensions
                and error.extensions.get("code") in ("RATE_LIMITED", "UNAVAILABLE")
            ]
            if waits and headers is not None:
                headers["Retry-After"] = str(max(waits))
        payload["extensions"] = {"cost": cost}
        status = 200
        if (
            result.errors
            and result.data is None
            and all(e.get("extensions", {}).get("code") == "UNAVAILABLE" for e in payload["errors"])
        ):
            status = 503  # nothing ran for want of a dependency: retry later
        body = orjson.dumps(payload)
        if len(body) > self.settings.max_response_bytes:
            error = BadRequest(
                "request.response_too_large", maximum=self.settings.max_response_bytes
            )
            shaped = shape_errors([GraphQLError(error.message_key, original_error=error)], context)
            body = orjson.dumps(
                {
                    "data": None,
                    "errors": [e.formatted for e in shaped],
                    "extensions": {"cost": cost},
                }
            )
        response = Response(body, status_code=status, media_type=media)
        if context.response is not None:
            for name, value in context.response.headers.raw:
                if name.lower() not in (b"content-length", b"content-type"):
                    response.raw_headers.append((name, value))
        return response

    def _refusal(
        self,
        error: RequestError,
        media: str,
        context: Context | None,
        locale: Locale,
        request_id: str,
        observed: Observation,
    ) -> Response:
        holder = context or _Shaping(locale, request_id)
        errors = shape_errors(error.errors, holder)
        observed.outcome = str((errors[0].extensions or {}).get("code", "REFUSED"))
        status = error.status
        if media == JSON and error.well_formed and status in (400, 403):
            status = 200  # application/json: a GraphQL request error is still a 200
        body = orjson.dumps({"errors": [e.formatted for e in errors]})
        response = Response(body, status_code=status, media_type=media, headers=error.headers)
        waits = [
            int(e.extensions["retryAfter"])
            for e in errors
            if e.extensions and "retryAfter" in e.extensions
        ]
        if waits and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(max(waits))
        if context is not None and context.response is not None:
            for name, value in context.response.headers.raw:
                if name.lower() == b"set-cookie":
                    response.raw_headers.append((name, value))
        return response


def _charset(params: str) -> str | None:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


@dataclass
class Observation:
    """What the metrics say of one request: its operation and its outcome (ok,
    or the code of its first error)."""

    operation: str | None = None
    outcome: str = "ok"


@dataclass(frozen=True)
class _Shaping:
    """Locale and request id for shaping errors before a context exists."""

    locale: Locale
    request_id: str
