"""News and announcements: staff (ADMIN) publish and withdraw them; customers
read those visible now for the accounts they reach, and mark them read.

Reading needs no permission beyond reaching the account: news is meant for
everybody who works in it. An announcement the viewer cannot see (another
audience, outside its window, withdrawn) is NOT_FOUND, like any object out of
reach. An email, when asked for, is not queued here: the scheduler queues one
per targeted account in chunks (mailers/announcement_mail.py), so publishing
to every account is one short transaction.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.auth.staff import require_staff
from clientzone.core import validators
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.core.markdown import render_markdown
from clientzone.models import announcements as models
from clientzone.models.announcements import (
    Announcement,
    AnnouncementAccount,
    AudienceKind,
)
from clientzone.models.base import utcnow
from clientzone.models.contacts import EmailCategory
from clientzone.models.orders import ServiceKind
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.staff import StaffAction, StaffRole
from clientzone.resolvers.staff_backoffice import audit_staff_action
from clientzone.resolvers.validation import FieldErrors, Outcome

TITLE_MAX = 200
BODY_MAX = 10_000
ACCOUNTS_MAX = 1_000
_CURRENCY = re.compile(r"[A-Z]{3}")


class AnnouncementErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_WINDOW = "INVALID_WINDOW"
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_CURRENCY = "INVALID_CURRENCY"
    TOO_MANY_ACCOUNTS = "TOO_MANY_ACCOUNTS"
    UNKNOWN_ACCOUNTS = "UNKNOWN_ACCOUNTS"
    ALREADY_WITHDRAWN = "ALREADY_WITHDRAWN"


@dataclass(frozen=True)
class PublishRequest:
    title_es: str
    body_es: str
    title_en: str | None
    body_en: str | None
    audience: AudienceKind
    country: str | None
    currency: str | None
    account_numbers: list[str] | None
    visible_from: datetime | None
    visible_until: datetime | None
    email_category: EmailCategory | None
    service_kind: ServiceKind | None = None


@dataclass(frozen=True)
class ReadAnnouncement:
    """An announcement as one user sees it."""

    row: Announcement
    read_at: datetime | None


Codes = AnnouncementErrorCode


def _text(
    errors: FieldErrors[Codes], field: str, value: str | None, maximum: int, required: bool
) -> str | None:
    if value is None or (not required and not value.strip()):
        if required:
            errors.add(field, Codes.REQUIRED, "field.required")
        return None
    return errors.text(
        field, value, maximum=maximum, required=Codes.REQUIRED, too_long=Codes.TOO_LONG
    )


def _audience_value(errors: FieldErrors[Codes], request: PublishRequest) -> str | None:
    if request.audience is AudienceKind.COUNTRY:
        value = validators.country(request.country or "")
        if not (request.country or "").strip():
            errors.add("country", Codes.REQUIRED, "announcement.audience_value_required")
        elif value is None:
            errors.add("country", Codes.INVALID_COUNTRY, "field.invalid_country")
        return value
    if request.audience is AudienceKind.SERVICE_KIND:
        if request.service_kind is None:
            errors.add("serviceKind", Codes.REQUIRED, "announcement.audience_value_required")
        return request.service_kind.value if request.service_kind else None
    if request.audience is AudienceKind.CURRENCY:
        code = (request.currency or "").strip().upper()
        if not code:
            errors.add("currency", Codes.REQUIRED, "announcement.audience_value_required")
        elif not _CURRENCY.fullmatch(code):
            errors.add("currency", Codes.INVALID_CURRENCY, "announcement.invalid_currency")
        return code or None
    return None


def _numbers(errors: FieldErrors[Codes], request: PublishRequest) -> list[str]:
    if request.audience is not AudienceKind.ACCOUNTS:
        return []
    numbers = list(dict.fromkeys(n.strip() for n in request.account_numbers or [] if n.strip()))
    if not numbers:
        errors.add("accountNumbers", Codes.REQUIRED, "announcement.accounts_required")
    elif len(numbers) > ACCOUNTS_MAX:
        errors.add(
            "accountNumbers",
            Codes.TOO_MANY_ACCOUNTS,
            "announcement.too_many_accounts",
            maximum=ACCOUNTS_MAX,
        )
    elif any(len(n) > 32 for n in numbers):
        errors.add("accountNumbers", Codes.TOO_LONG, "field.too_long", maximum=32)
    return numbers


async def publish(ctx: Context, request: PublishRequest) -> Outcome[Announcement, Codes]:
    staff = await require_staff(ctx, StaffRole.ADMIN)
    errors: FieldErrors[Codes] = FieldErrors()
    title_es = _text(errors, "titleEs", request.title_es, TITLE_MAX, required=True)
    body_es = _text(errors, "bodyEs", request.body_es, BODY_MAX, required=True)
    title_en = _text(errors, "titleEn", request.title_en, TITLE_MAX, required=False)
    body_en = _text(errors, "bodyEn", request.body_en, BODY_MAX, required=False)
    audience_value = _audience_value(errors, request)
    numbers = _numbers(errors, request)
    visible_from = request.visible_from or utcnow()
    if request.visible_until is not None and request.visible_until <= visible_from:
        errors.add("visibleUntil", Codes.INVALID_WINDOW, "announcement.invalid_window")
    if errors:
        return Outcome(errors=errors.errors)
    assert title_es is not None
    assert body_es is not None
    async with ctx.transaction() as session:
        account_ids: dict[str, uuid.UUID] = {}
        if numbers:
            account_ids = await models.account_ids_by_numbers(session, numbers)
            unknown = [n for n in numbers if n not in account_ids]
            if unknown:
                errors.add(
                    "accountNumbers",
                    Codes.UNKNOWN_ACCOUNTS,
                    "announcement.unknown_accounts",
                    numbers=", ".join(unknown[:20]),
                )
                return Outcome(errors=errors.errors)
        row = Announcement(
            title_es=title_es,
            title_en=title_en,
            body_es=body_es,
            body_en=body_en,
            html_es=render_markdown(body_es),
            html_en=render_markdown(body_en) if body_en else None,
            audience=request.audience,
            audience_value=audience_value,
            visible_from=visible_from,
            visible_until=request.visible_until,
            email_category=request.email_category,
            created_by=staff.member.user_id,
        )
        session.add(row)
        await session.flush()
        session.add_all(
            AnnouncementAccount(announcement_id=row.id, account_id=account_id)
            for account_id in account_ids.values()
        )
        audit_staff_action(
            ctx,
            session,
            staff,
            StaffAction.ANNOUNCEMENT_PUBLISHED,
            target=f"Announcement:{row.id}",
            reason=title_es,
        )
    return Outcome(value=row)


def _announcement_id(global_id: str) -> uuid.UUID:
    found = decode_id_of("Announcement", global_id)
    if found is None:
        raise NotFound
    return found


async def withdraw(ctx: Context, global_id: str) -> Outcome[Announcement, Codes]:
    staff = await require_staff(ctx, StaffRole.ADMIN)
    announcement_id = _announcement_id(global_id)
    async with ctx.transaction() as session:
        row = await session.get(Announcement, announcement_id, populate_existing=True)
        if row is None:
            raise NotFound
        if row.withdrawn_at is not None:
            errors: FieldErrors[Codes] = FieldErrors()
            errors.add("announcementId", Codes.ALREADY_WITHDRAWN, "announcement.already_withdrawn")
            return Outcome(value=row, errors=errors.errors)
        row.withdrawn_at = utcnow()
        audit_staff_action(
            ctx,
            session,
            staff,
            StaffAction.ANNOUNCEMENT_WITHDRAWN,
            target=f"Announcement:{row.id}",
        )
    return Outcome(value=row)


async def staff_announcements(ctx: Context, page: PageRequest) -> Page[Announcement]:
    await require_staff(ctx, StaffRole.ADMIN)
    async with ctx.db.read() as session:
        return await models.all_announcements_page(session, page=page)


async def staff_announcements_count(ctx: Context) -> int:
    async with ctx.db.read() as session:
        return await models.count_announcements(session)


async def listed_numbers(ctx: Context, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    async with ctx.db.read() as session:
        return await models.listed_accounts(session, announcement_ids=ids)


def _scope(ctx: Context, account_id: uuid.UUID | None, unread_only: bool) -> models.Scope:
    """Every account the viewer reaches (`account_id` None), or that one account
    (already reached: Account.announcements); read marks are the viewer's (an
    API client has none: the nil id)."""
    if account_id is None:
        user_id: uuid.UUID | None = require_viewer(ctx).user.id
    else:
        user_id = None
    reader = ctx.viewer.user.id if ctx.viewer is not None else uuid.UUID(int=0)
    return models.Scope(
        reader_id=reader,
        unread_only=unread_only,
        now=utcnow(),
        user_id=user_id,
        account_id=account_id,
    )


async def announcements(
    ctx: Context, account_id: uuid.UUID | None, page: PageRequest, *, unread_only: bool
) -> Page[ReadAnnouncement]:
    if account_id is not None and page.from_start:
        # An account's first page comes from a loader: listed under every
        # account of a list (viewer.memberships), it still costs one statement.
        loaders = ctx.loaders
        loader = (
            loaders.unread_announcements_first_page
            if unread_only
            else loaders.announcements_first_page
        )
        found = await loader.load((account_id, page.size))
    else:
        scope = _scope(ctx, account_id, unread_only)
        async with ctx.db.read() as session:
            found = await models.visible_page(session, scope, page)
    rows = [ReadAnnouncement(row=row[0], read_at=row[1]) for row in found.rows]
    return Page(rows, found.keys, found.has_next_page, found.has_previous_page)


async def announcements_count(
    ctx: Context, account_id: uuid.UUID | None, *, unread_only: bool
) -> int:
    scope = _scope(ctx, account_id, unread_only)
    async with ctx.db.read() as session:
        return await models.count_visible(session, scope)


async def mark_read(ctx: Context, global_id: str) -> ReadAnnouncement:
    """NOT_FOUND unless the announcement is visible now to the viewer."""
    viewer = require_viewer(ctx)
    announcement_id = _announcement_id(global_id)
    async with ctx.transaction() as session:
        row = await models.visible_to_user(
            session, announcement_id=announcement_id, user_id=viewer.user.id, now=utcnow()
        )
        if row is None:
            raise NotFound
        read_at = await models.mark_read(
            session, announcement_id=announcement_id, user_id=viewer.user.id
        )
    return ReadAnnouncement(row=row, read_at=read_at)
