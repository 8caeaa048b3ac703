"""The staff desk over GraphQL: the inbox, answers and internal notes, status
changes and assignment. The actions are support_desk's (shared with the
`clientzone case` commands); each is one transaction with its staff audit
record, and is announced to live subscribers once committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.context import Context
from clientzone.auth.staff import StaffViewer, require_staff, roles_from
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.models.accounts import Account
from clientzone.models.case_desk import (
    DeskFilter,
    count_desk,
    count_staff_comments,
    desk_page,
    staff_comments_page,
)
from clientzone.models.cases import (
    AuthorKind,
    Case,
    CaseAttachment,
    CaseComment,
    CaseStatus,
    attachment_bytes_of_case,
)
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.staff import StaffAction, StaffRole, record_staff_action, staff_member
from clientzone.realtime.case_updates import CaseUpdateKind, announce
from clientzone.resolvers.cases import (
    COMMENT_MAX,
    CaseErrorCode,
    UploadedFile,
    attach,
    check_files,
)
from clientzone.resolvers.validation import FieldError, FieldErrors, Outcome
from clientzone.support_desk import (
    DeskError,
    DeskErrorCode,
    add_comment,
    change_status,
    locked_case,
)

T = TypeVar("T")

SUPPORT_AUTHOR = "Soporte"


class StaffCaseErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    CASE_CLOSED = "CASE_CLOSED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    NOT_STAFF = "NOT_STAFF"
    FILE_EMPTY = "FILE_EMPTY"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"
    FILES_TOO_LARGE = "FILES_TOO_LARGE"


def case_id_of(global_id: str) -> uuid.UUID:
    found = decode_id_of("Case", global_id)
    if found is None:
        raise NotFound
    return found


async def desk(ctx: Context, flt: DeskFilter, page: PageRequest) -> Page[Case]:
    async with ctx.db.read() as session:
        return await desk_page(session, flt, page)


async def desk_count(ctx: Context, flt: DeskFilter) -> int:
    async with ctx.db.read() as session:
        return await count_desk(session, flt)


async def comments(ctx: Context, case_id: uuid.UUID, page: PageRequest) -> Page[CaseComment]:
    async with ctx.db.read() as session:
        return await staff_comments_page(session, case_id, page)


async def comments_count(ctx: Context, case_id: uuid.UUID) -> int:
    async with ctx.db.read() as session:
        return await count_staff_comments(session, case_id)


def _author(ctx: Context) -> str:
    user = ctx.viewer.user if ctx.viewer else None
    return (user.first_name if user else "") or SUPPORT_AUTHOR


def _audit(
    ctx: Context,
    session: AsyncSession,
    staff: StaffViewer,
    action: StaffAction,
    case: Case,
    note: str,
) -> None:
    record_staff_action(
        session,
        staff_user_id=staff.member.user_id,
        staff_email=staff.email,
        action=action,
        account_id=case.account_id,
        target=f"{case.display_number} {note}"[:254],
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )


_MESSAGES = {
    DeskErrorCode.REQUIRED: "field.required",
    DeskErrorCode.TOO_LONG: "case.comment_too_long",
    DeskErrorCode.CASE_CLOSED: "case.closed",
    DeskErrorCode.INVALID_TRANSITION: "staff.invalid_transition",
}


async def _act(
    ctx: Context,
    case_global_id: str,
    field: str,
    work: Callable[[AsyncSession, StaffViewer, Case, Account], Awaitable[T]],
    **params: object,
) -> tuple[Case | None, list[FieldError[StaffCaseErrorCode]]]:
    """Run one desk action in a transaction; a DeskError becomes a userError."""
    staff = await require_staff(ctx)
    case_id = case_id_of(case_global_id)
    errors: FieldErrors[StaffCaseErrorCode] = FieldErrors()
    try:
        async with ctx.transaction() as session:
            try:
                case, account = await locked_case(session, case_id=case_id)
            except DeskError:
                raise NotFound from None
            before, number = case.status, case.display_number
            value = await work(session, staff, case, account)
    except DeskError as error:
        if error.code is DeskErrorCode.NOT_FOUND:
            raise NotFound from None
        errors.add(
            field,
            StaffCaseErrorCode(error.code.value),
            _MESSAGES[error.code],
            number=number,
            current=before.value,
            **params,
        )
        return None, errors.errors
    del value
    return await read_case(ctx, case_global_id), []


async def comment_case(
    ctx: Context, case_global_id: str, *, body: str, internal: bool
) -> Outcome[Case, StaffCaseErrorCode]:
    async def work(
        session: AsyncSession, staff: StaffViewer, case: Case, account: Account
    ) -> CaseComment:
        row = await add_comment(
            session,
            ctx.settings,
            case,
            account,
            body=body,
            author=_author(ctx),
            internal=internal,
        )
        note = "internal note" if internal else "answered"
        _audit(ctx, session, staff, StaffAction.CASE_COMMENTED, case, note)
        return row

    length = len(body.strip())
    case, errors = await _act(ctx, case_global_id, "body", work, maximum=COMMENT_MAX, length=length)
    if case is None:
        return Outcome(errors=errors)
    await announce(ctx.events, case.id, CaseUpdateKind.COMMENT_ADDED, internal=internal)
    return Outcome(value=case)


async def set_case_status(
    ctx: Context, case_global_id: str, *, status: CaseStatus
) -> Outcome[Case, StaffCaseErrorCode]:
    async def work(session: AsyncSession, staff: StaffViewer, case: Case, account: Account) -> None:
        previous = case.status
        await change_status(session, ctx.settings, case, account, status, _author(ctx))
        note = f"{previous.value} -> {status.value}"
        _audit(ctx, session, staff, StaffAction.CASE_STATUS_CHANGED, case, note)

    case, errors = await _act(ctx, case_global_id, "status", work, status=status.value)
    if case is None:
        return Outcome(errors=errors)
    await announce(ctx.events, case.id, CaseUpdateKind.STATUS_CHANGED)
    return Outcome(value=case)


async def assign_case(
    ctx: Context, case_global_id: str, *, assignee_global_id: str | None
) -> Outcome[Case, StaffCaseErrorCode]:
    """Give the case to a staff member (None: back to the queue)."""
    staff = await require_staff(ctx)
    case_id = case_id_of(case_global_id)
    errors: FieldErrors[StaffCaseErrorCode] = FieldErrors()
    assignee_id = None
    if assignee_global_id is not None:
        assignee_id = decode_id_of("User", assignee_global_id)
        async with ctx.db.read() as session:
            member = await staff_member(session, assignee_id) if assignee_id else None
        if (
            member is None
            or member.disabled
            or member.role not in roles_from(StaffRole.SUPPORT_AGENT)
        ):
            errors.add("assigneeId", StaffCaseErrorCode.NOT_STAFF, "staff.not_staff")
            return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        try:
            case, _ = await locked_case(session, case_id=case_id)
        except DeskError:
            raise NotFound from None
        case.assignee_id = assignee_id
        session.add(case)
        note = f"to {assignee_global_id}" if assignee_global_id else "unassigned"
        _audit(ctx, session, staff, StaffAction.CASE_ASSIGNED, case, note)
    # Read again: what the transaction wrote (a lock's no-op write included).
    return Outcome(value=await read_case(ctx, case_global_id))


async def read_case(ctx: Context, case_global_id: str) -> Case:
    case_id = case_id_of(case_global_id)
    async with ctx.db.read() as session:
        row = await session.get(Case, case_id)
    if row is None:
        raise NotFound
    return row


async def attach_to_case(
    ctx: Context, case_global_id: str, upload: UploadedFile
) -> Outcome[CaseAttachment, StaffCaseErrorCode]:
    """A document for the customer (a certificate, a credit note): checked like
    a customer's upload, shown among the case's attachments as support's, and
    told live. It is never internal; say why in a comment, which is emailed."""
    staff = await require_staff(ctx)
    case_id = case_id_of(case_global_id)
    checks: FieldErrors[CaseErrorCode] = FieldErrors()
    async with ctx.transaction() as session:
        try:
            case, _ = await locked_case(session, case_id=case_id)
        except DeskError:
            raise NotFound from None
        stored = await attachment_bytes_of_case(session, case.id)
        files = check_files(ctx, checks, [upload], path="file", already_stored=stored)
        if checks or case.status is CaseStatus.CLOSED:
            errors: FieldErrors[StaffCaseErrorCode] = FieldErrors()
            if case.status is CaseStatus.CLOSED:
                errors.add(
                    "caseId",
                    StaffCaseErrorCode.CASE_CLOSED,
                    "case.closed",
                    number=case.display_number,
                )
            for found in checks.errors:
                errors.add(
                    found.field,
                    StaffCaseErrorCode(found.code.value),
                    found.message_key,
                    **found.params,
                )
            return Outcome(errors=errors.errors)
        user = ctx.viewer.user if ctx.viewer else None
        [attachment] = await attach(ctx.settings, session, case, files, user, AuthorKind.STAFF)
        case.updated_at = attachment.created_at
        session.add(case)
        _audit(ctx, session, staff, StaffAction.CASE_ATTACHMENT_ADDED, case, attachment.filename)
    await announce(ctx.events, case.id, CaseUpdateKind.ATTACHMENT_ADDED)
    return Outcome(value=attachment)
