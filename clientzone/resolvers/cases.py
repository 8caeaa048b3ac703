"""Support cases as customers use them: open one (CASES_CREATE), comment, attach
files, close it; list and read them (CASES_VIEW).

Every change is one transaction with its activity row and its notification
(SUPPORT contacts plus the person who opened the case); live subscribers hear
about it once it has committed (clientzone.realtime.case_updates).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.access import holds_permission, require_permission, require_viewer
from clientzone.auth.context import Context
from clientzone.brands import brand_of
from clientzone.config import Settings
from clientzone.core import validators
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.files import case_files
from clientzone.files.file_types import sniff
from clientzone.mailers.outbox import notify_account
from clientzone.models import cases as models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Actor, record_activity
from clientzone.models.base import utcnow
from clientzone.models.cases import (
    AuthorKind,
    Case,
    CaseAttachment,
    CaseCategory,
    CaseComment,
    CaseFieldKind,
    CaseFilter,
    CaseStatus,
    CaseSubcategory,
    FieldSpec,
)
from clientzone.models.contacts import EmailCategory
from clientzone.models.invoices import Invoice, InvoiceStatus, invoice_in_account
from clientzone.models.memberships import Permission, grants_for_accounts
from clientzone.models.orders import Order, order_in_account
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.users import Locale, User
from clientzone.models.webhooks import emit
from clientzone.realtime.case_updates import CaseUpdateKind, announce, channel, parse
from clientzone.resolvers.activity import actor
from clientzone.resolvers.validation import FieldErrors, Outcome

SUBJECT_MAX = 255
DESCRIPTION_MAX = 32_000
COMMENT_MAX = 32_000
FILENAME_MAX = 200


class CaseErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_CATEGORY = "INVALID_CATEGORY"
    INVALID_VALUE = "INVALID_VALUE"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    DUPLICATE_FIELD = "DUPLICATE_FIELD"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    NOT_FOUND = "NOT_FOUND"
    FILE_EMPTY = "FILE_EMPTY"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"
    FILES_TOO_LARGE = "FILES_TOO_LARGE"
    CASE_CLOSED = "CASE_CLOSED"


@dataclass(frozen=True)
class UploadedFile:
    """An upload read up to one byte past the per-file limit."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content: bytes
    content_type: str


def check_files(
    ctx: Context,
    errors: FieldErrors[CaseErrorCode],
    files: list[UploadedFile],
    *,
    path: str,
    already_stored: int = 0,
) -> list[CheckedFile]:
    """Each file's size and real type, and the case's total, against the settings."""
    settings = ctx.settings
    checked: list[CheckedFile] = []
    for index, upload in enumerate(files):
        field = f"{path}.{index}" if path == "attachments" else path
        name = (upload.filename.strip() or "file")[-FILENAME_MAX:]
        if not upload.content:
            errors.add(field, CaseErrorCode.FILE_EMPTY, "case.file_empty", filename=name)
            continue
        if len(upload.content) > settings.case_attachment_max_bytes:
            errors.add(
                field,
                CaseErrorCode.FILE_TOO_LARGE,
                "case.file_too_large",
                filename=name,
                maximum=_megabytes(settings.case_attachment_max_bytes),
            )
            continue
        content_type = sniff(upload.content)
        if content_type is None or content_type not in settings.case_attachment_types:
            errors.add(
                field,
                CaseErrorCode.FILE_TYPE_NOT_ALLOWED,
                "case.file_type",
                filename=name,
                allowed=", ".join(settings.case_attachment_types),
            )
            continue
        checked.append(CheckedFile(name, upload.content, content_type))
    total = already_stored + sum(len(f.content) for f in checked)
    if total > settings.case_attachments_max_total_bytes:
        errors.add(
            path,
            CaseErrorCode.FILES_TOO_LARGE,
            "case.files_too_large",
            maximum=_megabytes(settings.case_attachments_max_total_bytes),
        )
    return checked


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g}"


def _text(
    errors: FieldErrors[CaseErrorCode], path: str, value: str, maximum: int, too_long_key: str
) -> str:
    cleaned = value.strip()
    if not cleaned:
        errors.add(path, CaseErrorCode.REQUIRED, "field.required")
    elif len(cleaned) > maximum:
        errors.add(path, CaseErrorCode.TOO_LONG, too_long_key, maximum=maximum, length=len(cleaned))
    return cleaned


def _extra_fields(
    errors: FieldErrors[CaseErrorCode],
    subcategory: CaseSubcategory,
    given: list[tuple[str, str]],
    *,
    locale_en: bool,
    country: str | None,
) -> dict[str, str]:
    """The subcategory's own fields: each missing, repeated, too long or
    malformed one is its own error at `fields.<key>`. Values are stored in
    their normal form (a number without leading zeros, a lower-case email, a
    phone in E.164)."""
    specs = {spec.key: spec for spec in subcategory.specs}
    values: dict[str, str] = {}
    for key, value in given:
        shown = key[:KEY_SHOWN]
        if key not in specs:
            errors.add(
                f"fields.{shown}", CaseErrorCode.UNKNOWN_FIELD, "case.unknown_field", name=shown
            )
        elif key in values:
            errors.add(
                f"fields.{key}", CaseErrorCode.DUPLICATE_FIELD, "case.duplicate_field", name=key
            )
        values.setdefault(key, value)
    cleaned: dict[str, str] = {}
    for spec in specs.values():
        label = spec.label_en if locale_en else spec.label_es
        path = f"fields.{spec.key}"
        value = (values.get(spec.key) or "").strip()
        if not value:
            if spec.required:
                errors.add(path, CaseErrorCode.REQUIRED, "case.field_required", label=label)
            continue
        if len(value) > spec.max_length:
            errors.add(
                path,
                CaseErrorCode.TOO_LONG,
                "case.field_too_long",
                label=label,
                maximum=spec.max_length,
            )
            continue
        normal = _normal_value(spec, value, country)
        if normal is None:
            code, message_key = _INVALID[spec.kind]
            low, high = _bounds(spec)
            errors.add(path, code, message_key, label=label, minimum=low, maximum=high)
            continue
        cleaned[spec.key] = normal
    return cleaned


KEY_SHOWN = 60  # of an unknown key, in the error's path and message
_INVALID = {
    CaseFieldKind.NUMBER: (CaseErrorCode.INVALID_VALUE, "case.field_number"),
    CaseFieldKind.EMAIL: (CaseErrorCode.INVALID_EMAIL, "case.field_email"),
    CaseFieldKind.PHONE: (CaseErrorCode.INVALID_PHONE, "case.field_phone"),
}


def _bounds(spec: FieldSpec) -> tuple[int, int]:
    return spec.minimum or 0, spec.maximum or 10**9


def _normal_value(spec: FieldSpec, value: str, country: str | None) -> str | None:
    """The value to store, or None when it is not one of the field's kind."""
    if spec.kind is CaseFieldKind.NUMBER:
        low, high = _bounds(spec)
        # ASCII digits only: "²" or "１２" are not numbers here.
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            return None
        return str(int(value))
    if spec.kind is CaseFieldKind.EMAIL:
        return validators.email(value)
    if spec.kind is CaseFieldKind.PHONE:
        return validators.phone(value, country)
    return value


def field_values(subcategory: CaseSubcategory, case: Case) -> list[tuple[FieldSpec, str]]:
    """A case's extra fields as entered, in the subcategory's order."""
    return [(spec, case.fields[spec.key]) for spec in subcategory.specs if spec.key in case.fields]


@dataclass(frozen=True)
class NewCase:
    category_id: str
    subcategory_id: str
    subject: str
    description: str
    fields: list[tuple[str, str]]  # (key, value) as sent
    invoice_id: str | None
    order_id: str | None
    attachments: list[UploadedFile]


async def create_case(ctx: Context, account: Account, new: NewCase) -> Outcome[Case, CaseErrorCode]:
    code = CaseErrorCode
    errors: FieldErrors[CaseErrorCode] = FieldErrors()
    viewer = require_viewer(ctx)
    categories = {c.id: c for c in await ctx.loaders.case_categories.load(True)}
    subcategories = {s.id: s for s in await ctx.loaders.case_subcategories.load(True)}
    category = subcategory = None
    if not new.category_id.strip():
        errors.add("categoryId", code.REQUIRED, "case.category_required")
    else:
        category_id = decode_id_of("CaseCategory", new.category_id)
        category = categories.get(category_id) if category_id else None
        if category is None:
            errors.add("categoryId", code.INVALID_CATEGORY, "case.invalid_category")
    if not new.subcategory_id.strip():
        errors.add("subcategoryId", code.REQUIRED, "case.subcategory_required")
    elif category is not None:
        subcategory_id = decode_id_of("CaseSubcategory", new.subcategory_id)
        subcategory = subcategories.get(subcategory_id) if subcategory_id else None
        if subcategory is None or subcategory.category_id != category.id:
            errors.add("subcategoryId", code.INVALID_CATEGORY, "case.invalid_subcategory")
            subcategory = None
    subject = _text(errors, "subject", new.subject, SUBJECT_MAX, "case.subject_too_long")
    description = _text(
        errors, "description", new.description, DESCRIPTION_MAX, "case.description_too_long"
    )
    fields: dict[str, str] = {}
    if subcategory is not None:
        fields = _extra_fields(
            errors,
            subcategory,
            new.fields,
            locale_en=ctx.locale is Locale.EN,
            country=account.country,
        )
        if subcategory.requires_invoice and not new.invoice_id:
            errors.add("invoiceId", code.REQUIRED, "case.invoice_required")
        if subcategory.requires_order and not new.order_id:
            errors.add("orderId", code.REQUIRED, "case.order_required")
    async with ctx.db.read() as session:
        invoice_id = await _own_invoice(session, errors, account, new.invoice_id)
        order_id = await _own_order(session, errors, account, new.order_id)
    files = check_files(ctx, errors, new.attachments, path="attachments")
    if errors or category is None or subcategory is None:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        case = Case(
            account_id=account.id,
            number=await models.next_case_number(session),
            category_id=category.id,
            subcategory_id=subcategory.id,
            subject=subject,
            description=description,
            fields=fields,
            invoice_id=invoice_id,
            order_id=order_id,
            created_by=viewer.user.id,
        )
        session.add(case)
        await session.flush()
        await attach(ctx.settings, session, case, files, viewer.user)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.CASE_CREATED,
            target=case.display_number,
        )
        await notify_case(
            ctx.settings,
            session,
            account,
            case,
            "case_created",
            creator_email=viewer.user.email,
            subcategory=subcategory,
        )
        await emit(session, account.id, "case.created", case_data(case))
    return Outcome(value=case)


def case_data(case: Case, **changes: object) -> dict[str, object]:
    """A case in webhook events: what the customer sees of it, never internal notes."""
    return {
        "caseId": encode_global_id("Case", case.id),
        "number": case.display_number,
        "subject": case.subject,
        "status": case.status.value,
        **changes,
    }


async def _own_invoice(
    session: AsyncSession,
    errors: FieldErrors[CaseErrorCode],
    account: Account,
    global_id: str | None,
) -> uuid.UUID | None:
    """An invoice of this account (never a draft); anything else is as if it did not exist."""
    if not global_id:
        return None
    invoice_id = decode_id_of("Invoice", global_id)
    invoice = (
        await invoice_in_account(session, account_id=account.id, invoice_id=invoice_id)
        if invoice_id
        else None
    )
    if invoice is None or invoice.status is InvoiceStatus.DRAFT:
        errors.add("invoiceId", CaseErrorCode.NOT_FOUND, "case.invoice_not_found")
        return None
    return invoice.id


async def _own_order(
    session: AsyncSession,
    errors: FieldErrors[CaseErrorCode],
    account: Account,
    global_id: str | None,
) -> uuid.UUID | None:
    if not global_id:
        return None
    order_id = decode_id_of("Order", global_id)
    order = (
        await order_in_account(session, account_id=account.id, order_id=order_id)
        if order_id
        else None
    )
    if order is None:
        errors.add("orderId", CaseErrorCode.NOT_FOUND, "case.order_not_found")
        return None
    return order.id


async def attach(
    settings: Settings,
    session: AsyncSession,
    case: Case,
    files: list[CheckedFile],
    user: User | None,
    author_kind: AuthorKind = AuthorKind.CUSTOMER,
) -> list[CaseAttachment]:
    rows = []
    for checked in files:
        sha256 = await case_files.store(session, settings, checked.content)
        row = CaseAttachment(
            case_id=case.id,
            filename=checked.filename,
            content_type=checked.content_type,
            size=len(checked.content),
            sha256=sha256,
            uploaded_by=user.id if user else None,
            author_kind=author_kind,
        )
        session.add(row)
        rows.append(row)
    await session.flush()
    return rows


STATUS_NAMES = {
    "es": {
        CaseStatus.NEW: "nuevo",
        CaseStatus.IN_PROGRESS: "en curso",
        CaseStatus.WAITING_ON_CUSTOMER: "esperando tu respuesta",
        CaseStatus.RESOLVED: "resuelto",
        CaseStatus.CLOSED: "cerrado",
    },
    "en": {
        CaseStatus.NEW: "new",
        CaseStatus.IN_PROGRESS: "in progress",
        CaseStatus.WAITING_ON_CUSTOMER: "waiting for your reply",
        CaseStatus.RESOLVED: "resolved",
        CaseStatus.CLOSED: "closed",
    },
}


async def notify_case(
    settings: Settings,
    session: AsyncSession,
    account: Account,
    case: Case,
    template: str,
    *,
    creator_email: str | None = None,
    subcategory: CaseSubcategory | None = None,
    **variables: object,
) -> None:
    """Tell the account's SUPPORT contacts and the person who opened the case
    (while they may still see the account's cases). With the `subcategory`,
    the message may list the case's extra fields (`case_fields`)."""
    if creator_email is None and case.created_by is not None:
        grants = await grants_for_accounts(
            session, user_id=case.created_by, account_ids=[account.id]
        )
        grant = grants.get(account.id)
        creator = await session.get(User, case.created_by)
        if creator is not None and grant is not None and Permission.CASES_VIEW in grant.permissions:
            creator_email = creator.email
    portal_url = (await brand_of(session, settings, account)).portal_url
    await notify_account(
        session,
        settings,
        account=account,
        category=EmailCategory.SUPPORT,
        template=template,
        also_to=[creator_email] if creator_email else [],
        case=case,
        case_number=case.display_number,
        case_url=f"{portal_url}/cases/{case.display_number}",
        case_fields=[
            {"label_es": spec.label_es, "label_en": spec.label_en, "value": value}
            for spec, value in (field_values(subcategory, case) if subcategory else [])
        ],
        **variables,
    )


async def notify_status(
    settings: Settings, session: AsyncSession, account: Account, case: Case
) -> None:
    await notify_case(
        settings,
        session,
        account,
        case,
        "case_status_changed",
        status_es={k.value: v for k, v in STATUS_NAMES["es"].items()},
        status_en={k.value: v for k, v in STATUS_NAMES["en"].items()},
    )


async def move_case(
    settings: Settings,
    session: AsyncSession,
    account: Account,
    case: Case,
    status: CaseStatus,
    by: Actor,
) -> bool:
    """Move a locked case along the transition table, with its activity row and
    its notification, in the caller's transaction; False when not allowed."""
    previous = case.status
    if not models.can_move(previous, status):
        return False
    case.status = status
    case.updated_at = utcnow()
    if status is CaseStatus.CLOSED:
        case.closed_at = case.updated_at
    session.add(case)
    record_activity(
        session,
        account_id=account.id,
        actor=by,
        action=ActivityAction.CASE_STATUS_CHANGED,
        target=f"{case.display_number} {previous.value} -> {status.value}",
    )
    await notify_status(settings, session, account, case)
    await emit(
        session,
        account.id,
        "case.updated",
        case_data(case, change="status", previousStatus=previous.value),
    )
    return True


async def _locked_open_case(
    session: AsyncSession, errors: FieldErrors[CaseErrorCode], account: Account, case_id: uuid.UUID
) -> Case | None:
    case = await models.lock_case(session, case_id=case_id, account_id=account.id)
    if case is None:
        raise NotFound
    if case.status is CaseStatus.CLOSED:
        errors.add("caseId", CaseErrorCode.CASE_CLOSED, "case.closed", number=case.display_number)
        return None
    return case


def author_name(user: User) -> str:
    full = f"{user.first_name or ''} {user.last_name or ''}".strip()
    return (full or user.email)[:200]


async def add_comment(
    ctx: Context, account: Account, case_id: uuid.UUID, body: str
) -> Outcome[CaseComment, CaseErrorCode]:
    """A customer's comment; on a case waiting for them (or resolved) it goes
    back to IN_PROGRESS."""
    errors: FieldErrors[CaseErrorCode] = FieldErrors()
    text = _text(errors, "body", body, COMMENT_MAX, "case.comment_too_long")
    if errors:
        return Outcome(errors=errors.errors)
    user = require_viewer(ctx).user
    async with ctx.transaction() as session:
        case = await _locked_open_case(session, errors, account, case_id)
        if case is None:
            return Outcome(errors=errors.errors)
        comment = CaseComment(
            case_id=case.id,
            author_kind=AuthorKind.CUSTOMER,
            author_user_id=user.id,
            author_name=author_name(user),
            body=text,
        )
        session.add(comment)
        if case.status in (CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.RESOLVED):
            await move_case(
                ctx.settings, session, account, case, CaseStatus.IN_PROGRESS, actor(ctx)
            )
        case.updated_at = comment.created_at
        session.add(case)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.CASE_COMMENTED,
            target=case.display_number,
        )
        await emit(
            session,
            account.id,
            "case.updated",
            case_data(case, change="comment", commentBy="CUSTOMER"),
        )
    await announce(ctx.events, case.id, CaseUpdateKind.COMMENT_ADDED)
    return Outcome(value=comment)


async def add_attachment(
    ctx: Context, account: Account, case_id: uuid.UUID, upload: UploadedFile
) -> Outcome[CaseAttachment, CaseErrorCode]:
    errors: FieldErrors[CaseErrorCode] = FieldErrors()
    user = require_viewer(ctx).user
    async with ctx.transaction() as session:
        case = await _locked_open_case(session, errors, account, case_id)
        if case is None:
            return Outcome(errors=errors.errors)
        stored = await models.attachment_bytes_of_case(session, case.id)
        files = check_files(ctx, errors, [upload], path="file", already_stored=stored)
        if errors:
            return Outcome(errors=errors.errors)
        [attachment] = await attach(ctx.settings, session, case, files, user)
        case.updated_at = attachment.created_at
        session.add(case)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.CASE_ATTACHMENT_ADDED,
            target=case.display_number,
        )
    await announce(ctx.events, case.id, CaseUpdateKind.ATTACHMENT_ADDED)
    return Outcome(value=attachment)


async def close_case(
    ctx: Context, account: Account, case_id: uuid.UUID
) -> Outcome[Case, CaseErrorCode]:
    errors: FieldErrors[CaseErrorCode] = FieldErrors()
    async with ctx.transaction() as session:
        case = await _locked_open_case(session, errors, account, case_id)
        if case is None:
            return Outcome(errors=errors.errors)
        # Every open status may close: the lock above already refused CLOSED.
        await move_case(ctx.settings, session, account, case, CaseStatus.CLOSED, actor(ctx))
    await announce(ctx.events, case.id, CaseUpdateKind.STATUS_CHANGED)
    return Outcome(value=case)


# --- reading --------------------------------------------------------------


async def cases(
    ctx: Context, account: Account, page: PageRequest, case_filter: CaseFilter
) -> Page[Case]:
    async with ctx.db.read() as session:
        return await models.cases_page(
            session, account_id=account.id, page=page, case_filter=case_filter
        )


async def cases_count(ctx: Context, account: Account, case_filter: CaseFilter) -> int:
    async with ctx.db.read() as session:
        return await models.count_cases(session, account_id=account.id, case_filter=case_filter)


async def comments(ctx: Context, case: Case, page: PageRequest) -> Page[CaseComment]:
    """Public comments only: customers never see staff's internal notes. A first
    page comes from a loader, so a list of cases costs one statement for all."""
    if page.from_start:
        return await ctx.loaders.case_comments_first_page.load((case.id, page.size))
    async with ctx.db.read() as session:
        return await models.comments_page(
            session, case_id=case.id, page=page, include_internal=False
        )


async def comments_count(ctx: Context, case: Case) -> int:
    return await ctx.loaders.case_comments_count.load(case.id) or 0


async def attachments(ctx: Context, case: Case, page: PageRequest) -> Page[CaseAttachment]:
    if page.from_start:
        return await ctx.loaders.case_attachments_first_page.load((case.id, page.size))
    async with ctx.db.read() as session:
        return await models.attachments_page(session, case_id=case.id, page=page)


async def attachments_count(ctx: Context, case: Case) -> int:
    return await ctx.loaders.case_attachments_count.load(case.id) or 0


async def categories(ctx: Context) -> list[tuple[CaseCategory, list[CaseSubcategory]]]:
    """Active categories with their active subcategories, in their order."""
    require_viewer(ctx)
    subs = await ctx.loaders.case_subcategories.load(True)
    return [
        (category, [s for s in subs if s.category_id == category.id])
        for category in await ctx.loaders.case_categories.load(True)
    ]


async def category_of(ctx: Context, case: Case) -> tuple[CaseCategory, CaseSubcategory]:
    """A case's category and subcategory (inactive ones included: the case keeps them)."""
    category = await ctx.loaders.case_category_by_id.load(case.category_id)
    subcategory = await ctx.loaders.case_subcategory_by_id.load(case.subcategory_id)
    assert category is not None
    assert subcategory is not None
    return category, subcategory


async def invoice_of(ctx: Context, case: Case) -> Invoice | None:
    if case.invoice_id is None or not await holds_permission(
        ctx, case.account_id, Permission.INVOICES_VIEW
    ):
        return None
    return await ctx.loaders.invoice_by_id.load(case.invoice_id)


async def order_of(ctx: Context, case: Case) -> Order | None:
    if case.order_id is None or not await holds_permission(
        ctx, case.account_id, Permission.ORDERS_VIEW
    ):
        return None
    return await ctx.loaders.order_by_id.load(case.order_id)


async def account_of_case(ctx: Context, case_id: uuid.UUID) -> uuid.UUID | None:
    async with ctx.db.read() as session:
        return await models.account_of_case(session, case_id)


async def case(ctx: Context, account: Account, case_id: uuid.UUID) -> Case | None:
    """The case for a mutation's payload: only for those who may read cases
    (CASES_CREATE alone lets someone write to a case, not read it)."""
    if not await holds_permission(ctx, account.id, Permission.CASES_VIEW):
        return None
    async with ctx.db.read() as session:
        return await models.case_in_account(session, account_id=account.id, case_id=case_id)


async def follow_case(ctx: Context, global_id: str) -> AsyncIterator[tuple[CaseUpdateKind, Case]]:
    """Every public change of a case, read again under the viewer's permissions
    as they are at that moment: a viewer who lost CASES_VIEW, whose session (or
    API client credential) ended or whose account no longer holds the case
    stops receiving (FORBIDDEN, UNAUTHENTICATED, NOT_FOUND end the
    subscription). An API client follows the cases it reaches the same way."""
    if ctx.api_client is None:
        require_viewer(ctx)
    try:
        case_id = decode_id_of("Case", global_id)
        account_id = await account_of_case(ctx, case_id) if case_id else None
        if case_id is None or account_id is None:
            raise NotFound
        await require_permission(ctx, account_id, Permission.CASES_VIEW)
        await ctx.db.release()
        if ctx.events is None:
            return
        async with ctx.events.subscribe(channel(case_id)) as messages:
            async for message in messages:
                update = parse(message)
                if update is None or update.internal:
                    continue
                await ctx.refresh_viewer()
                await require_permission(ctx, account_id, Permission.CASES_VIEW)
                account = await ctx.loaders.account_by_id.load(account_id)
                found = await case(ctx, account, case_id) if account else None
                if found is None:
                    raise NotFound
                yield update.kind, found
                if found.status is CaseStatus.CLOSED:
                    return  # final: nothing more will happen to it
                # Sent: give the connection back until the next update.
                await ctx.db.release()
    finally:
        # Also when it ends in an error: a socket may stay open for hours.
        await ctx.db.release()
