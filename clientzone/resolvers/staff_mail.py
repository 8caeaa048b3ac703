"""Support sends undelivered mail again (SUPPORT_AGENT and up).

`staff.undeliveredEmails` lists the DEAD and FAILED messages of every
account (login mail included) so support finds the one a customer misses;
`staffRetryEmail` requeues it through `clientzone mail retry`'s own code
(mailers/retry.py) in the mutation's transaction, with its audit row: a reset
code, verification link or invitation that no longer works is not sent again
(EXPIRED_LINK), exactly as the command refuses it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from clientzone.auth.context import Context
from clientzone.auth.staff import require_staff
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.mailers.retry import RetryOutcome, retry_dead_mail
from clientzone.models import mail
from clientzone.models.mail import EmailMessage
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.staff import StaffAction
from clientzone.resolvers.staff_backoffice import audit_staff_action
from clientzone.resolvers.validation import FieldErrors, Outcome

REASON_MAX = 500


class StaffEmailErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    NOT_DEAD = "NOT_DEAD"
    EXPIRED_LINK = "EXPIRED_LINK"


def undelivered_filter(
    account_global_id: str | None, recipient: str | None
) -> tuple[uuid.UUID | None, str | None]:
    account_id = decode_id_of("Account", account_global_id) if account_global_id else None
    if account_global_id and account_id is None:
        raise NotFound
    return account_id, (recipient or "").strip()[:254] or None


async def undelivered(
    ctx: Context, page: PageRequest, account_id: uuid.UUID | None, recipient: str | None
) -> Page[EmailMessage]:
    await require_staff(ctx)
    async with ctx.db.read() as session:
        return await mail.undelivered_page(
            session, page=page, account_id=account_id, recipient=recipient
        )


async def undelivered_count(
    ctx: Context, account_id: uuid.UUID | None, recipient: str | None
) -> int:
    async with ctx.db.read() as session:
        return await mail.count_undelivered(session, account_id=account_id, recipient=recipient)


async def retry_email(
    ctx: Context, email_global_id: str, reason: str
) -> Outcome[EmailMessage, StaffEmailErrorCode]:
    """Requeue one DEAD or FAILED message, audited; NOT_DEAD for any other,
    EXPIRED_LINK when its one-time link or code no longer works."""
    staff = await require_staff(ctx)
    message_id = decode_id_of("EmailMessage", email_global_id)
    if message_id is None:
        raise NotFound
    code = StaffEmailErrorCode
    errors: FieldErrors[StaffEmailErrorCode] = FieldErrors()
    cleaned = errors.text(
        "reason", reason, maximum=REASON_MAX, required=code.REQUIRED, too_long=code.TOO_LONG
    )
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        (result,) = await retry_dead_mail(session, message_ids=[message_id], failed_too=True)
        if result.outcome is RetryOutcome.NOT_FOUND:
            raise NotFound
        if result.outcome is RetryOutcome.NOT_DEAD:
            errors.add("emailId", code.NOT_DEAD, "staff.email_not_dead")
        elif result.outcome is RetryOutcome.EXPIRED:
            errors.add("emailId", code.EXPIRED_LINK, "staff.email_expired_link")
        if errors:
            return Outcome(errors=errors.errors)
        message = result.message
        assert message is not None
        audit_staff_action(
            ctx,
            session,
            staff,
            StaffAction.EMAIL_RETRIED,
            target=f"{message.template} {', '.join(message.recipients)}",
            account_id=message.account_id,
            reason=cleaned,
        )
    refreshed = await _message(ctx, message_id)
    return Outcome(value=refreshed)


async def _message(ctx: Context, message_id: uuid.UUID) -> EmailMessage:
    async with ctx.db.read() as session:
        (row,) = await mail.messages_by_ids(session, [message_id])
    return row
