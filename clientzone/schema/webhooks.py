"""Outbound webhooks of an account (docs/partners.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import orjson
import strawberry

from clientzone.auth.permissions import input_object, scoped_account
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.models import webhooks as models
from clientzone.resolvers import webhooks as resolvers
from clientzone.resolvers.validation import Outcome
from clientzone.resolvers.webhooks import WebhookErrorCode
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.pagination import Connection, page_request
from clientzone.schema.payloads import user_errors

strawberry.enum(WebhookErrorCode)


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    DEAD = "DEAD"


@strawberry.type(description="One event sent (or to be sent) to one endpoint.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: str = strawberry.field(
        description="The `webhook-id` header: the same on every attempt and redelivery."
    )
    event_type: str
    payload: str = strawberry.field(description="The JSON body, as sent.")
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    response_prefix: str | None = strawberry.field(
        description="The first 200 characters of the receiver's last answer."
    )
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(encode_global_id("WebhookDelivery", row.id)),
            event_id=row.event_id,
            event_type=row.event_type,
            payload=orjson.dumps({"id": row.event_id, **row.payload}).decode(),
            status=WebhookDeliveryStatus(row.status.value),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            response_prefix=row.response_prefix,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )


@strawberry.type(description="A URL that receives the account's events, signed.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    event_types: list[str]
    enabled: bool
    created_at: datetime
    disabled_at: datetime | None = strawberry.field(
        description="When it was disabled (by hand, or after its deliveries kept failing)."
    )
    failure_streak: int = strawberry.field(
        description="Deliveries in a row that failed every attempt."
    )
    account_id: strawberry.Private[uuid.UUID]
    endpoint_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: models.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(encode_global_id("WebhookEndpoint", row.id)),
            url=row.url,
            event_types=list(row.event_types),
            enabled=row.disabled_at is None,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            failure_streak=row.failure_streak,
            account_id=row.account_id,
            endpoint_id=row.id,
        )

    @strawberry.field(description="The delivery log, newest first.")
    async def deliveries(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookDelivery]:
        ctx = info.context
        page = await resolvers.deliveries(
            ctx, self.account_id, self.endpoint_id, page_request(first, after, None, None)
        )
        return Connection.from_page(
            page,
            [WebhookDelivery.from_row(row) for row in page.rows],
            lambda: resolvers.deliveries_count(ctx, self.endpoint_id),
        )


endpoint_in_input = input_object("endpoint_id", "WebhookEndpoint", resolvers.account_of_endpoint)
delivery_in_input = input_object("delivery_id", "WebhookDelivery", resolvers.account_of_delivery)


def _decoded(type_name: str, value: strawberry.ID) -> uuid.UUID:
    decoded = decode_id_of(type_name, str(value))
    assert decoded is not None, "the permission check decoded it"
    return decoded


@strawberry.type
class WebhookError(UserError):
    code: WebhookErrorCode


@strawberry.type
class WebhookSecretPayload:
    webhook_endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(
        description="The signing secret (`whsec_...`): shown only in this response, never again."
    )
    user_errors: list[WebhookError]


def _secret_payload(
    info: Info, outcome: Outcome[tuple[str, models.WebhookEndpoint], WebhookErrorCode]
) -> WebhookSecretPayload:
    return WebhookSecretPayload(
        webhook_endpoint=WebhookEndpoint.from_row(outcome.value[1]) if outcome.value else None,
        secret=outcome.value[0] if outcome.value else None,
        user_errors=user_errors(WebhookError, outcome.errors, info.context.locale),
    )


@strawberry.input
class CreateWebhookEndpointInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    url: str
    event_types: list[str] = strawberry.field(description="E.g. payment.succeeded, case.updated.")


async def create_webhook_endpoint(
    info: Info, input: CreateWebhookEndpointInput
) -> WebhookSecretPayload:
    outcome = await resolvers.create_endpoint(
        info.context, scoped_account(info), input.url, input.event_types
    )
    return _secret_payload(info, outcome)


@strawberry.input
class UpdateWebhookEndpointInput:
    endpoint_id: strawberry.ID
    url: str | None = None
    event_types: list[str] | None = None
    enabled: bool | None = strawberry.field(
        default=None, description="false stops deliveries; true resumes them."
    )


@strawberry.type
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None
    user_errors: list[WebhookError]


async def update_webhook_endpoint(
    info: Info, input: UpdateWebhookEndpointInput
) -> WebhookEndpointPayload:
    outcome = await resolvers.update_endpoint(
        info.context,
        scoped_account(info),
        _decoded("WebhookEndpoint", input.endpoint_id),
        url=input.url,
        event_types=input.event_types,
        enabled=input.enabled,
    )
    return WebhookEndpointPayload(
        webhook_endpoint=WebhookEndpoint.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(WebhookError, outcome.errors, info.context.locale),
    )


@strawberry.input
class WebhookEndpointInput:
    endpoint_id: strawberry.ID


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_endpoint_id: strawberry.ID | None
    user_errors: list[WebhookError]


async def delete_webhook_endpoint(
    info: Info, input: WebhookEndpointInput
) -> DeleteWebhookEndpointPayload:
    outcome = await resolvers.delete_endpoint(
        info.context, scoped_account(info), _decoded("WebhookEndpoint", input.endpoint_id)
    )
    return DeleteWebhookEndpointPayload(
        deleted_endpoint_id=input.endpoint_id if outcome.value else None,
        user_errors=user_errors(WebhookError, outcome.errors, info.context.locale),
    )


async def rotate_webhook_secret(info: Info, input: WebhookEndpointInput) -> WebhookSecretPayload:
    outcome = await resolvers.rotate_secret(
        info.context, scoped_account(info), _decoded("WebhookEndpoint", input.endpoint_id)
    )
    return _secret_payload(info, outcome)


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: strawberry.ID


@strawberry.type
class RedeliverWebhookPayload:
    delivery: WebhookDelivery | None
    user_errors: list[WebhookError]


async def redeliver_webhook(info: Info, input: RedeliverWebhookInput) -> RedeliverWebhookPayload:
    outcome = await resolvers.redeliver(
        info.context, scoped_account(info), _decoded("WebhookDelivery", input.delivery_id)
    )
    return RedeliverWebhookPayload(
        delivery=WebhookDelivery.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(WebhookError, outcome.errors, info.context.locale),
    )


@strawberry.input
class RedeliverWebhooksInput:
    endpoint_id: strawberry.ID
    from_: datetime = strawberry.field(name="from")
    to: datetime


@strawberry.type
class RedeliverWebhooksPayload:
    queued: int | None = strawberry.field(description="How many deliveries were queued again.")
    user_errors: list[WebhookError]


async def redeliver_webhooks(info: Info, input: RedeliverWebhooksInput) -> RedeliverWebhooksPayload:
    outcome = await resolvers.redeliver_range(
        info.context,
        scoped_account(info),
        _decoded("WebhookEndpoint", input.endpoint_id),
        input.from_,
        input.to,
    )
    return RedeliverWebhooksPayload(
        queued=outcome.value,
        user_errors=user_errors(WebhookError, outcome.errors, info.context.locale),
    )
