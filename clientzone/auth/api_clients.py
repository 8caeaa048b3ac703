"""Requests made by an API client (an integration), not by a person.

`Authorization: Bearer czk_...` (the client's key) or `Bearer cza_...` (an
access token from `POST /oauth/token`) makes the request the client's: no
viewer, one account, the client's permissions (a token's may be narrower).
A client created with `includeLinkedAccounts` also reaches the accounts
linked under its own, there with its permissions narrowed to what its creator
holds on each (read at every request, so it follows the creator's access).
Each client has its own request budget (API_CLIENT_REQUESTS_PER_MINUTE).

A WebSocket may carry the same credential (in its handshake or its
`connection_init` payload); the socket then checks it again for every
operation and closes when it stops working (web/graphql_ws.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.requests import HTTPConnection

from clientzone.auth.rate_limits import Limit, RateLimiter
from clientzone.db import RequestDb
from clientzone.models.accounts import Account
from clientzone.models.api_clients import (
    ACCESS_TOKEN_PREFIX,
    KEY_PREFIX,
    ClientCredential,
    credential_by_access_token,
    credential_by_key,
    touch_client,
    touch_due,
)
from clientzone.models.base import utcnow
from clientzone.models.memberships import Grant, LinkedScope, Permission, Role


@dataclass(frozen=True)
class ApiClientPrincipal:
    """Who a client request acts as: the integration, on its account (and
    the accounts linked under it, when the client was allowed them)."""

    client_id: uuid.UUID
    account_id: uuid.UUID
    account_number: str
    name: str
    permissions: frozenset[Permission]
    # When the credential stops working unless it is revoked sooner.
    valid_until: datetime | None = None
    # Set when the client also reaches its account's linked accounts.
    linked: LinkedScope | None = None
    # The key or access token itself, for a WebSocket to check it again.
    credential: str = field(default="", repr=False, compare=False)

    def grant(self) -> Grant:
        return Grant(
            account_id=self.account_id,
            account_number=self.account_number,
            role=Role.MEMBER,
            permissions=self.permissions,
            inherited=False,
        )

    @property
    def label(self) -> str:
        return f"integration:{self.name}"[:254]


def client_limit(per_minute: int) -> Limit:
    return Limit("api-client", per_minute, timedelta(minutes=1))


def api_credential(request: HTTPConnection) -> str | None:
    """The bearer credential when it is an API client's (by its prefix)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith((KEY_PREFIX, ACCESS_TOKEN_PREFIX)):
        return None
    return value


async def find_principal(db: RequestDb, credential: str, ip: str) -> ApiClientPrincipal | None:
    """The client behind a key or access token while it works (its use recorded)."""
    async with db.read() as session:
        found: ClientCredential | None
        if credential.startswith(KEY_PREFIX):
            found = await credential_by_key(session, credential)
        elif credential.startswith(ACCESS_TOKEN_PREFIX):
            found = await credential_by_access_token(session, credential)
        else:
            return None
        if found is None:
            return None
        account = await session.get(Account, found.client.account_id)
    if account is None:
        return None
    now = utcnow()
    if touch_due(found.client, ip, now):
        async with db.side_transaction() as session:
            await touch_client(session, found.client, ip, now)
    return ApiClientPrincipal(
        client_id=found.client.id,
        account_id=account.id,
        account_number=account.number,
        name=found.client.name,
        permissions=found.permissions,
        valid_until=found.valid_until,
        linked=(
            LinkedScope(account.id, found.client.created_by, found.permissions)
            if found.client.include_linked_accounts and found.client.created_by is not None
            else None
        ),
        credential=credential,
    )


async def authenticate_credential(
    db: RequestDb, credential: str, ip: str, limiter: RateLimiter, per_minute: int
) -> ApiClientPrincipal | None:
    """`find_principal`, charged to the client's request budget (RATE_LIMITED
    when it is spent for the minute)."""
    principal = await find_principal(db, credential, ip)
    if principal is not None:
        await limiter.for_request(db.release).hit(
            client_limit(per_minute), str(principal.client_id)
        )
    return principal


async def authenticate_client(
    db: RequestDb, request: HTTPConnection, limiter: RateLimiter, per_minute: int
) -> ApiClientPrincipal | None:
    """The client behind the request's bearer credential; None when there is
    none or it does not work (the request is then anonymous). RATE_LIMITED
    when the client has spent its budget for the minute."""
    credential = api_credential(request)
    if credential is None:
        return None
    ip = request.client.host if request.client else ""
    return await authenticate_credential(db, credential, ip, limiter, per_minute)
