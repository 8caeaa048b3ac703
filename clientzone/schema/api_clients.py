"""API clients: integrations acting on one account (docs/partners.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from clientzone.auth.permissions import input_object, scoped_account
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.models import api_clients as models
from clientzone.resolvers import api_clients as resolvers
from clientzone.resolvers.api_clients import ApiClientErrorCode
from clientzone.resolvers.validation import Outcome
from clientzone.schema.enums import Permission
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors

strawberry.enum(ApiClientErrorCode)


@strawberry.type(description="An integration that calls the API for this account (never a person).")
class ApiClient:
    id: strawberry.ID
    name: str
    permissions: list[Permission]
    key_hint: str = strawberry.field(
        description="The first characters of the current key, to tell keys apart."
    )
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    previous_key_valid_until: datetime | None = strawberry.field(
        description="Until when the key replaced by the last rotation still works."
    )
    include_linked_accounts: bool = strawberry.field(
        description="Whether the client also acts on the accounts linked under this one "
        "(with its permissions, never more than its creator holds on each)."
    )

    @classmethod
    def from_row(cls, row: models.ApiClient) -> ApiClient:
        return cls(
            id=strawberry.ID(encode_global_id("ApiClient", row.id)),
            name=row.name,
            permissions=sorted(row.permissions),
            key_hint=row.key_hint,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            last_used_ip=row.last_used_ip,
            previous_key_valid_until=row.previous_valid_until,
            include_linked_accounts=row.include_linked_accounts,
        )


api_client_in_input = input_object("api_client_id", "ApiClient", resolvers.account_of_api_client)


def _decoded(value: strawberry.ID) -> uuid.UUID:
    decoded = decode_id_of("ApiClient", str(value))
    assert decoded is not None, "the permission check decoded it"
    return decoded


@strawberry.type
class ApiClientError(UserError):
    code: ApiClientErrorCode


@strawberry.type
class ApiClientKeyPayload:
    api_client: ApiClient | None
    key: str | None = strawberry.field(
        description="The client's key (`czk_...`): shown only in this response, never again."
    )
    user_errors: list[ApiClientError]


@strawberry.input
class CreateApiClientInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    name: str
    permissions: list[Permission] = strawberry.field(
        description="A subset of the permissions you hold in the account."
    )
    expires_at: datetime | None = None
    include_linked_accounts: bool = strawberry.field(
        default=False,
        description="Let the client act on the accounts linked under this one too, with "
        "the same permissions narrowed to what you hold on each (read at every request).",
    )


async def create_api_client(info: Info, input: CreateApiClientInput) -> ApiClientKeyPayload:
    outcome = await resolvers.create_api_client(
        info.context,
        scoped_account(info),
        input.name,
        frozenset(input.permissions),
        input.expires_at,
        include_linked_accounts=input.include_linked_accounts,
    )
    return _key_payload(info, outcome)


@strawberry.input
class ApiClientInput:
    api_client_id: strawberry.ID


async def rotate_api_client_key(info: Info, input: ApiClientInput) -> ApiClientKeyPayload:
    outcome = await resolvers.rotate_api_client_key(
        info.context, scoped_account(info), _decoded(input.api_client_id)
    )
    return _key_payload(info, outcome)


def _key_payload(
    info: Info, outcome: Outcome[tuple[str, models.ApiClient], ApiClientErrorCode]
) -> ApiClientKeyPayload:
    return ApiClientKeyPayload(
        api_client=ApiClient.from_row(outcome.value[1]) if outcome.value else None,
        key=outcome.value[0] if outcome.value else None,
        user_errors=user_errors(ApiClientError, outcome.errors, info.context.locale),
    )


@strawberry.type
class RevokeApiClientPayload:
    revoked_api_client_id: strawberry.ID | None
    user_errors: list[ApiClientError]


async def revoke_api_client(info: Info, input: ApiClientInput) -> RevokeApiClientPayload:
    outcome = await resolvers.revoke_api_client(
        info.context, scoped_account(info), _decoded(input.api_client_id)
    )
    return RevokeApiClientPayload(
        revoked_api_client_id=input.api_client_id if outcome.value else None,
        user_errors=user_errors(ApiClientError, outcome.errors, info.context.locale),
    )
