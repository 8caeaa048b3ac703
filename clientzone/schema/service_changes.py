"""requestServiceChange (SERVICES_MANAGE): a change asked for on a service."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from clientzone.auth.context import Context
from clientzone.auth.permissions import input_object, scoped_account
from clientzone.models.cases import Case as CaseRow
from clientzone.models.cases import CaseStatus
from clientzone.models.orders import account_of_service
from clientzone.resolvers import service_changes as resolvers
from clientzone.resolvers.service_changes import (
    CredentialsErrorCode,
    ServiceChangeErrorCode,
    ServiceChangeKind,
)
from clientzone.schema import cases as _cases  # noqa: F401  (registers CaseStatus first)
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors

strawberry.enum(ServiceChangeErrorCode)
strawberry.enum(ServiceChangeKind, description="What change is asked for on a service.")


@strawberry.type(description="A change asked for on a service: a support case the staff works.")
class ServiceChangeRequest:
    kind: ServiceChangeKind
    case_number: str = strawberry.field(description="The support case, e.g. CS-000042.")
    status: CaseStatus
    created_at: datetime

    @classmethod
    def of(cls, case: CaseRow) -> ServiceChangeRequest:
        return cls(
            kind=ServiceChangeKind(case.fields.get("kind", ServiceChangeKind.UPGRADE.value)),
            case_number=case.display_number,
            status=case.status,
            created_at=case.created_at,
        )


@strawberry.type
class ServiceChangeError(UserError):
    code: ServiceChangeErrorCode


@strawberry.input(description="Ask for a change to a contracted service.")
class RequestServiceChangeInput:
    service_id: strawberry.ID
    kind: ServiceChangeKind
    note: str | None = strawberry.field(
        default=None, description="Up to 2,000 characters; required to CANCEL (why)."
    )


@strawberry.type
class RequestServiceChangePayload:
    change_request: ServiceChangeRequest | None
    user_errors: list[ServiceChangeError]


async def _account_of_service(ctx: Context, service_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await account_of_service(session, service_id)


service_in_input = input_object("service_id", "Service", _account_of_service)


async def request_service_change(
    info: Info, input: RequestServiceChangeInput
) -> RequestServiceChangePayload:
    ctx = info.context
    outcome = await resolvers.request_service_change(
        ctx, scoped_account(info), str(input.service_id), input.kind, input.note
    )
    return RequestServiceChangePayload(
        change_request=ServiceChangeRequest.of(outcome.value) if outcome.value else None,
        user_errors=user_errors(ServiceChangeError, outcome.errors, ctx.locale),
    )


@strawberry.input(description="A service of the account, by ID.")
class ServiceInput:
    service_id: strawberry.ID


async def reset_service_credentials(info: Info, input: ServiceInput) -> RequestServiceChangePayload:
    ctx = info.context
    outcome = await resolvers.reset_service_credentials(
        ctx, scoped_account(info), str(input.service_id)
    )
    return RequestServiceChangePayload(
        change_request=ServiceChangeRequest.of(outcome.value) if outcome.value else None,
        user_errors=user_errors(ServiceChangeError, outcome.errors, ctx.locale),
    )


strawberry.enum(CredentialsErrorCode)


@strawberry.type
class ServiceCredentialsError(UserError):
    code: CredentialsErrorCode


@strawberry.type(description="A service's control-panel login. Never cache or log it.")
class ServiceCredentials:
    username: str
    password: str


@strawberry.type
class RevealServiceCredentialsPayload:
    credentials: ServiceCredentials | None
    user_errors: list[ServiceCredentialsError]


async def reveal_service_credentials(
    info: Info, input: ServiceInput
) -> RevealServiceCredentialsPayload:
    ctx = info.context
    outcome = await resolvers.reveal_credentials(ctx, scoped_account(info), str(input.service_id))
    found = outcome.value
    return RevealServiceCredentialsPayload(
        credentials=(
            ServiceCredentials(username=found.username, password=found.password) if found else None
        ),
        user_errors=user_errors(ServiceCredentialsError, outcome.errors, ctx.locale),
    )
