"""Login-email changes awaiting staff (EMAIL_CHANGE=staff).

`staff.emailChangeRequests` lists the pending ones, oldest first (support and
up). An ADMIN approves one (`staffApproveEmailChange`): the verification link
goes to the new address, exactly as `changeEmail` sends it with
EMAIL_CHANGE=self, and the current address is told. Support rejects one,
saying why (`staffRejectEmailChange`); the reason is emailed to the customer.
Each decision is one transaction with its staff audit row and its mail.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from clientzone.auth.context import Context
from clientzone.auth.staff import require_staff
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.mailers.outbox import notify_user
from clientzone.models import email_changes
from clientzone.models.email_changes import EmailChangeRequest, EmailChangeStatus
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.staff import StaffAction, StaffRole
from clientzone.models.users import User, user_by_email, user_by_id
from clientzone.resolvers.email_verification import queue_verification
from clientzone.resolvers.security import mask_email
from clientzone.resolvers.staff_backoffice import audit_staff_action
from clientzone.resolvers.validation import FieldErrors, Outcome

REASON_MAX = 500


class StaffEmailChangeErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    NOT_PENDING = "NOT_PENDING"
    EMAIL_TAKEN = "EMAIL_TAKEN"


async def pending(ctx: Context, page: PageRequest) -> Page[tuple[EmailChangeRequest, User]]:
    await require_staff(ctx)
    async with ctx.db.read() as session:
        return await email_changes.pending_page(session, page=page)


async def pending_count(ctx: Context) -> int:
    async with ctx.db.read() as session:
        return await email_changes.count_pending(session)


def _request_id(global_id: str) -> uuid.UUID:
    request_id = decode_id_of("EmailChangeRequest", global_id)
    if request_id is None:
        raise NotFound
    return request_id


async def decide_email_change(
    ctx: Context, global_id: str, *, approve: bool, reason: str | None
) -> Outcome[tuple[EmailChangeRequest, User], StaffEmailChangeErrorCode]:
    staff = await require_staff(ctx, StaffRole.ADMIN if approve else StaffRole.SUPPORT_AGENT)
    request_id = _request_id(global_id)
    code = StaffEmailChangeErrorCode
    errors: FieldErrors[StaffEmailChangeErrorCode] = FieldErrors()
    # A reason is optional to approve, and required to reject (it is emailed).
    cleaned = None
    if not approve or (reason or "").strip():
        cleaned = errors.text(
            "reason",
            reason or "",
            maximum=REASON_MAX,
            required=code.REQUIRED,
            too_long=code.TOO_LONG,
        )
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.db.read() as session:
        row = await session.get(EmailChangeRequest, request_id)
        user = await user_by_id(session, row.user_id) if row else None
        taken = await user_by_email(session, row.new_email) if row and approve else None
    if row is None or user is None:
        raise NotFound
    if row.status is not EmailChangeStatus.PENDING:
        errors.add("id", code.NOT_PENDING, "staff.email_change_not_pending")
    elif taken is not None:
        errors.add("id", code.EMAIL_TAKEN, "staff.email_change_taken")
    if errors:
        return Outcome(errors=errors.errors)
    status = EmailChangeStatus.APPROVED if approve else EmailChangeStatus.REJECTED
    async with ctx.transaction() as session:
        if not await email_changes.decide(
            session, row.id, status=status, staff_user_id=staff.member.user_id, reason=cleaned
        ):
            errors.add("id", code.NOT_PENDING, "staff.email_change_not_pending")
            return Outcome(errors=errors.errors)
        masked = mask_email(row.new_email)
        if approve:
            await queue_verification(ctx, session, user, new_email=row.new_email)
        await notify_user(
            session,
            ctx.settings,
            user=user,
            template="email_change_approved" if approve else "email_change_rejected",
            masked_email=masked,
            reason=cleaned or "",
        )
        action = StaffAction.EMAIL_CHANGE_APPROVED if approve else StaffAction.EMAIL_CHANGE_REJECTED
        audit_staff_action(
            ctx, session, staff, action, target=f"{user.email} -> {row.new_email}", reason=cleaned
        )
    row.status, row.reason = status, cleaned
    return Outcome(value=(row, user))
