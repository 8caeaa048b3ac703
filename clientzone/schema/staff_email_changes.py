"""Login-email changes awaiting staff (resolvers/staff_email_changes.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.models.email_changes import EmailChangeRequest, EmailChangeStatus
from clientzone.models.users import User as UserRow
from clientzone.resolvers import staff_email_changes as resolvers
from clientzone.resolvers.staff_email_changes import StaffEmailChangeErrorCode
from clientzone.resolvers.validation import Outcome
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.pagination import Connection, page_request
from clientzone.schema.payloads import user_errors

strawberry.enum(EmailChangeStatus, description="Where a login-email change staff decide stands.")
strawberry.enum(StaffEmailChangeErrorCode)


@strawberry.type(description="A customer's request to change their login email.")
class StaffEmailChangeRequest:
    id: strawberry.ID
    email: str = strawberry.field(description="The login's email now.")
    first_name: str
    last_name: str
    new_email: str
    status: EmailChangeStatus
    reason: str | None = strawberry.field(description="Staff's reason, once decided.")
    requested_at: datetime

    @classmethod
    def from_rows(cls, row: EmailChangeRequest, user: UserRow) -> StaffEmailChangeRequest:
        return cls(
            id=strawberry.ID(encode_global_id("EmailChangeRequest", row.id)),
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            new_email=row.new_email,
            status=row.status,
            reason=row.reason,
            requested_at=row.created_at,
        )


async def staff_email_change_requests(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[StaffEmailChangeRequest]:
    ctx = info.context
    page = await resolvers.pending(ctx, page_request(first, after, last, before))
    nodes = [StaffEmailChangeRequest.from_rows(row, user) for row, user in page.rows]
    return Connection.from_page(page, nodes, lambda: resolvers.pending_count(ctx))


@strawberry.type
class StaffEmailChangeError(UserError):
    code: StaffEmailChangeErrorCode


@strawberry.type
class StaffEmailChangePayload:
    request: StaffEmailChangeRequest | None
    user_errors: list[StaffEmailChangeError]


def _payload(
    info: Info, outcome: Outcome[tuple[EmailChangeRequest, UserRow], StaffEmailChangeErrorCode]
) -> StaffEmailChangePayload:
    return StaffEmailChangePayload(
        request=StaffEmailChangeRequest.from_rows(*outcome.value) if outcome.value else None,
        user_errors=user_errors(StaffEmailChangeError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="Approve a pending change; the reason is optional (audited).")
class StaffApproveEmailChangeInput:
    id: strawberry.ID
    reason: str | None = None


async def staff_approve_email_change(
    info: Info, input: StaffApproveEmailChangeInput
) -> StaffEmailChangePayload:
    outcome = await resolvers.decide_email_change(
        info.context, str(input.id), approve=True, reason=input.reason
    )
    return _payload(info, outcome)


@strawberry.input(description="Reject a pending change, saying why (emailed to the customer).")
class StaffRejectEmailChangeInput:
    id: strawberry.ID
    reason: str


async def staff_reject_email_change(
    info: Info, input: StaffRejectEmailChangeInput
) -> StaffEmailChangePayload:
    outcome = await resolvers.decide_email_change(
        info.context, str(input.id), approve=False, reason=input.reason
    )
    return _payload(info, outcome)
