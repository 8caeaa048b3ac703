"""`POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4).

An API client sends `grant_type=client_credentials` with its ID (`client_id`,
the `ApiClient.id`) and key (`client_secret`) by HTTP Basic or in the form
body, optionally a `scope` (permission names separated by spaces) narrowing
what the token may do. The answer is a short-lived bearer token (`cza_...`,
API_TOKEN_SECONDS). Errors follow §5.2. Failed attempts slow down per IP.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import parse_qs, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clientzone.auth.api_clients import client_limit
from clientzone.auth.rate_limits import Backoff, RateLimiter
from clientzone.config import Settings
from clientzone.core.errors import RateLimited
from clientzone.core.ids import decode_id_of
from clientzone.db import Database
from clientzone.models.api_clients import KEY_PREFIX, client_by_key, issue_access_token
from clientzone.models.memberships import Permission

TOKEN_FAILURES_PER_IP = Backoff("oauth-token-ip", free=10, base_seconds=1, cap_seconds=300)
MAX_BODY = 4096
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(code: str, description: str, status: int = 400, basic: bool = False) -> Response:
    headers = dict(NO_STORE)
    if basic and status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="clientzone"'
    return JSONResponse(
        {"error": code, "error_description": description}, status_code=status, headers=headers
    )


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def _scope(value: str | None, granted: frozenset[Permission]) -> frozenset[Permission] | None:
    """The permissions asked for (all granted when no scope); None when one
    is unknown or not granted."""
    if value is None or not value.strip():
        return granted
    asked: set[Permission] = set()
    for name in value.split():
        try:
            asked.add(Permission(name))
        except ValueError:
            return None
    return frozenset(asked) if asked <= granted else None


def token_endpoint(
    database: Database, settings: Settings, limiter: RateLimiter
) -> Callable[[Request], Awaitable[Response]]:
    async def token(request: Request) -> Response:
        ip = request.client.host if request.client else ""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            return _error("invalid_request", "send application/x-www-form-urlencoded")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error("invalid_request", "body too large")
        try:
            form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            return _error("invalid_request", "body is not UTF-8")
        if any(len(values) > 1 for values in form.values()):
            return _error("invalid_request", "a parameter is repeated")
        fields = {name: values[0] for name, values in form.items()}
        if fields.get("grant_type") != "client_credentials":
            if "grant_type" not in fields:
                return _error("invalid_request", "grant_type is required")
            return _error("unsupported_grant_type", "only client_credentials is supported")
        basic = _basic(request.headers.get("authorization", ""))
        if basic is not None and ("client_id" in fields or "client_secret" in fields):
            return _error("invalid_request", "send client credentials one way only")
        client_id, secret = basic or (fields.get("client_id", ""), fields.get("client_secret", ""))
        try:
            await limiter.check(TOKEN_FAILURES_PER_IP, ip)
        except RateLimited as error:
            response = _error("slow_down", "too many failed attempts", status=429)
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        wanted = decode_id_of("ApiClient", client_id) if client_id else None
        client = None
        if wanted is not None and secret.startswith(KEY_PREFIX):
            async with database.session() as session:
                client = await client_by_key(session, secret)
        if client is None or client.id != wanted:
            await limiter.failed(TOKEN_FAILURES_PER_IP, ip)
            return _error(
                "invalid_client", "unknown client or wrong secret", 401, basic is not None
            )
        permissions = _scope(fields.get("scope"), client.permissions)
        if permissions is None:
            return _error("invalid_scope", "scope names permissions the client lacks")
        try:
            await limiter.hit(client_limit(settings.api_client_requests_per_minute), str(client.id))
        except RateLimited as error:
            response = _error("slow_down", "request budget spent", status=429)
            response.headers["Retry-After"] = str(error.retry_after)
            return response
        lifetime = timedelta(seconds=settings.api_token_seconds)
        async with database.transaction() as session:
            access_token = await issue_access_token(session, client, permissions, lifetime)
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": settings.api_token_seconds,
                "scope": " ".join(sorted(permissions)),
            },
            headers=NO_STORE,
        )

    return token
