"""Undelivered mail on the staff side: `staff.undeliveredEmails` (listed in
schema/staff.py) and `staffRetryEmail`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.models import mail as models
from clientzone.models.mail import EmailStatus
from clientzone.resolvers import staff_mail as resolvers
from clientzone.resolvers.staff_mail import StaffEmailErrorCode
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors

strawberry.enum(
    EmailStatus,
    name="EmailDeliveryStatus",
    description="QUEUED and SENDING: on its way; SENT: accepted for at least one recipient; "
    "FAILED: refused for good by every recipient's server; DEAD: temporary failures until "
    "its attempts ran out.",
)
strawberry.enum(StaffEmailErrorCode)


@strawberry.type(description="An outbox message as support sees it (no body).")
class StaffEmail:
    id: strawberry.ID = strawberry.field(description="For staffRetryEmail.")
    status: EmailStatus
    template: str = strawberry.field(
        description="What it is: password_reset, verify_email, invitation, invoice_issued..."
    )
    subject: str
    recipients: list[str]
    account_id: strawberry.ID | None = strawberry.field(
        description="Null for mail about a login only (a reset code, a verification link)."
    )
    attempts: int
    last_error: str | None = strawberry.field(description="The last server answer or failure.")
    created_at: datetime = strawberry.field(description="When it was queued.")

    @classmethod
    def from_row(cls, row: models.EmailMessage) -> StaffEmail:
        return cls(
            id=strawberry.ID(encode_global_id("EmailMessage", row.id)),
            status=row.status,
            template=row.template,
            subject=row.subject,
            recipients=list(row.recipients),
            account_id=strawberry.ID(encode_global_id("Account", row.account_id))
            if row.account_id
            else None,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
        )


@strawberry.type
class StaffEmailError(UserError):
    code: StaffEmailErrorCode


@strawberry.input(description="Send a DEAD or FAILED message again, saying why (audited).")
class StaffRetryEmailInput:
    email_id: strawberry.ID = strawberry.field(description="From staff.undeliveredEmails.")
    reason: str


@strawberry.type
class StaffRetryEmailPayload:
    email: StaffEmail | None = strawberry.field(description="Requeued: status QUEUED.")
    user_errors: list[StaffEmailError]


async def staff_retry_email(info: Info, input: StaffRetryEmailInput) -> StaffRetryEmailPayload:
    outcome = await resolvers.retry_email(info.context, str(input.email_id), input.reason)
    return StaffRetryEmailPayload(
        email=StaffEmail.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(StaffEmailError, outcome.errors, info.context.locale),
    )
