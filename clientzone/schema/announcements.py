"""News and announcements: what customers read, what staff publish."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.models.announcements import Announcement as AnnouncementRow
from clientzone.models.announcements import AudienceKind
from clientzone.models.pagination import PageRequest
from clientzone.models.users import Locale
from clientzone.resolvers import announcements as resolvers
from clientzone.resolvers.announcements import AnnouncementErrorCode, ReadAnnouncement
from clientzone.resolvers.validation import Outcome
from clientzone.schema.enums import EmailCategory, ServiceKind
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.pagination import Connection, page_request
from clientzone.schema.payloads import user_errors

strawberry.enum(AnnouncementErrorCode)
strawberry.enum(
    AudienceKind, name="AnnouncementAudience", description="Who an announcement is for."
)


def _global_id(row: AnnouncementRow) -> strawberry.ID:
    return strawberry.ID(encode_global_id("Announcement", row.id))


@strawberry.type(description="News from the company, in the request's language.")
class Announcement:
    id: strawberry.ID
    title: str
    body: str = strawberry.field(description="The Markdown source.")
    body_html: str = strawberry.field(
        description="The body as sanitized HTML (no scripts, http/https/mailto links only): "
        "safe to insert as is."
    )
    visible_from: datetime
    visible_until: datetime | None
    read_at: datetime | None = strawberry.field(
        description="When you marked it read (markAnnouncementRead); null: unread."
    )

    @classmethod
    def from_read(cls, read: ReadAnnouncement, locale: Locale) -> Announcement:
        row = read.row
        english = locale is Locale.EN
        return cls(
            id=_global_id(row),
            title=(row.title_en if english and row.title_en else row.title_es),
            body=(row.body_en if english and row.body_en else row.body_es),
            body_html=(row.html_en if english and row.html_en else row.html_es),
            visible_from=row.visible_from,
            visible_until=row.visible_until,
            read_at=read.read_at,
        )


async def announcements(
    info: Info,
    account_id: uuid.UUID | None,
    request: PageRequest,
    unread_only: bool,
) -> Connection[Announcement]:
    """The viewer's (`account_id` None) or one account's announcements."""
    ctx = info.context
    page = await resolvers.announcements(ctx, account_id, request, unread_only=unread_only)
    nodes = [Announcement.from_read(read, ctx.locale) for read in page.rows]
    return Connection.from_page(
        page,
        nodes,
        lambda: resolvers.announcements_count(ctx, account_id, unread_only=unread_only),
    )


async def viewer_announcements(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    unread_only: bool = False,
) -> Connection[Announcement]:
    return await announcements(info, None, page_request(first, after, last, before), unread_only)


@strawberry.type(description="An announcement as staff manage it, both languages.")
class StaffAnnouncement:
    id: strawberry.ID
    title_es: str
    title_en: str | None
    body_es: str
    body_en: str | None
    body_html_es: str
    body_html_en: str | None
    audience: AudienceKind
    country: str | None
    currency: str | None
    service_kind: ServiceKind | None
    account_numbers: list[str] | None = strawberry.field(
        description="The customer numbers of an ACCOUNTS audience."
    )
    visible_from: datetime
    visible_until: datetime | None
    withdrawn_at: datetime | None
    email_category: EmailCategory | None
    email_done_at: datetime | None = strawberry.field(
        description="When every targeted account's email was queued (null: pending or none)."
    )
    created_at: datetime

    @classmethod
    def from_row(cls, row: AnnouncementRow, numbers: list[str] | None) -> StaffAnnouncement:
        return cls(
            id=_global_id(row),
            title_es=row.title_es,
            title_en=row.title_en,
            body_es=row.body_es,
            body_en=row.body_en,
            body_html_es=row.html_es,
            body_html_en=row.html_en,
            audience=row.audience,
            country=row.audience_value if row.audience is AudienceKind.COUNTRY else None,
            currency=row.audience_value if row.audience is AudienceKind.CURRENCY else None,
            service_kind=ServiceKind(row.audience_value)
            if row.audience is AudienceKind.SERVICE_KIND and row.audience_value
            else None,
            account_numbers=numbers if row.audience is AudienceKind.ACCOUNTS else None,
            visible_from=row.visible_from,
            visible_until=row.visible_until,
            withdrawn_at=row.withdrawn_at,
            email_category=row.email_category,
            email_done_at=row.email_done_at,
            created_at=row.created_at,
        )


async def staff_announcements(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[StaffAnnouncement]:
    ctx = info.context
    page = await resolvers.staff_announcements(ctx, page_request(first, after, last, before))
    listed = [row.id for row in page.rows if row.audience is AudienceKind.ACCOUNTS]
    numbers = await resolvers.listed_numbers(ctx, listed) if listed else {}
    nodes = [StaffAnnouncement.from_row(row, numbers.get(row.id)) for row in page.rows]
    return Connection.from_page(page, nodes, lambda: resolvers.staff_announcements_count(ctx))


@strawberry.type
class AnnouncementError(UserError):
    code: AnnouncementErrorCode


@strawberry.input(description="A new announcement. Spanish is required; English falls back to it.")
class StaffPublishAnnouncementInput:
    title_es: str
    body_es: str = strawberry.field(description="Markdown (raw HTML is shown as text).")
    title_en: str | None = None
    body_en: str | None = None
    audience: AudienceKind = AudienceKind.ALL
    country: str | None = strawberry.field(default=None, description="For a COUNTRY audience.")
    currency: str | None = strawberry.field(default=None, description="For a CURRENCY audience.")
    service_kind: ServiceKind | None = strawberry.field(
        default=None,
        description="For a SERVICE_KIND audience: accounts with an ACTIVE service of this kind.",
    )
    account_numbers: list[str] | None = strawberry.field(
        default=None, description=f"For an ACCOUNTS audience (at most {resolvers.ACCOUNTS_MAX})."
    )
    visible_from: datetime | None = strawberry.field(default=None, description="Default: now.")
    visible_until: datetime | None = strawberry.field(default=None, description="Null: no end.")
    email_category: EmailCategory | None = strawberry.field(
        default=None,
        description="Also email each targeted account's contacts opted into this category, "
        "once visible (queued by the mail scheduler).",
    )


@strawberry.type
class StaffAnnouncementPayload:
    announcement: StaffAnnouncement | None
    user_errors: list[AnnouncementError]


async def _staff_payload(
    info: Info, outcome: Outcome[AnnouncementRow, AnnouncementErrorCode]
) -> StaffAnnouncementPayload:
    row = outcome.value
    numbers = None
    if row is not None and row.audience is AudienceKind.ACCOUNTS:
        numbers = (await resolvers.listed_numbers(info.context, [row.id]))[row.id]
    return StaffAnnouncementPayload(
        announcement=StaffAnnouncement.from_row(row, numbers) if row else None,
        user_errors=user_errors(AnnouncementError, outcome.errors, info.context.locale),
    )


async def staff_publish_announcement(
    info: Info, input: StaffPublishAnnouncementInput
) -> StaffAnnouncementPayload:
    request = resolvers.PublishRequest(
        title_es=input.title_es,
        body_es=input.body_es,
        title_en=input.title_en,
        body_en=input.body_en,
        audience=input.audience,
        country=input.country,
        currency=input.currency,
        account_numbers=input.account_numbers,
        visible_from=input.visible_from,
        visible_until=input.visible_until,
        email_category=input.email_category,
        service_kind=input.service_kind,
    )
    return await _staff_payload(info, await resolvers.publish(info.context, request))


@strawberry.input(description="Take an announcement down at once (its unsent email too).")
class StaffWithdrawAnnouncementInput:
    announcement_id: strawberry.ID


async def staff_withdraw_announcement(
    info: Info, input: StaffWithdrawAnnouncementInput
) -> StaffAnnouncementPayload:
    outcome = await resolvers.withdraw(info.context, str(input.announcement_id))
    return await _staff_payload(info, outcome)


@strawberry.input(description="Mark an announcement you can see as read (for you alone).")
class MarkAnnouncementReadInput:
    announcement_id: strawberry.ID


@strawberry.type
class MarkAnnouncementReadPayload:
    announcement: Announcement | None
    user_errors: list[AnnouncementError]


async def mark_announcement_read(
    info: Info, input: MarkAnnouncementReadInput
) -> MarkAnnouncementReadPayload:
    read = await resolvers.mark_read(info.context, str(input.announcement_id))
    return MarkAnnouncementReadPayload(
        announcement=Announcement.from_read(read, info.context.locale), user_errors=[]
    )
