"""The signed-in person's view: who they are and which accounts they reach."""

from __future__ import annotations

from datetime import datetime

import strawberry

from clientzone.models import memberships as models
from clientzone.resolvers import accounts as account_resolvers
from clientzone.resolvers import sessions as session_resolvers
from clientzone.resolvers import viewer as resolvers
from clientzone.schema.accounts import Account
from clientzone.schema.announcements import Announcement, viewer_announcements
from clientzone.schema.enums import Permission, Role
from clientzone.schema.info import Info
from clientzone.schema.pagination import Connection, page_request
from clientzone.schema.sessions import SecurityEventType, SessionType
from clientzone.schema.users import User


@strawberry.type(description="Your access to one account.")
class Membership:
    role: Role
    permissions: list[Permission] = strawberry.field(
        description="Every permission for an OWNER; the granted set for a MEMBER."
    )
    inherited: bool = strawberry.field(
        description="True when reached as owner of the parent account, not by a membership."
    )
    grant: strawberry.Private[models.Grant]

    @classmethod
    def from_grant(cls, grant: models.Grant) -> Membership:
        return cls(
            role=grant.role,
            permissions=sorted(grant.permissions),
            inherited=grant.inherited,
            grant=grant,
        )

    @strawberry.field
    async def account(self, info: Info) -> Account:
        row = await info.context.loaders.account_by_id.load(self.grant.account_id)
        assert row is not None, "a grant always names an existing account"
        return Account.from_row(row)


@strawberry.type(description="Your login-email change awaiting staff (EMAIL_CHANGE=staff).")
class PendingEmailChange:
    new_email: str
    requested_at: datetime


@strawberry.type(description="The signed-in person.")
class Viewer:
    user: User

    @strawberry.field(description="Accounts you reach, by customer number.")
    async def memberships(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Membership]:
        ctx = info.context
        page = await resolvers.memberships(ctx, page_request(first, after, last, before))
        return Connection.from_page(
            page,
            [Membership.from_grant(grant) for grant in page.rows],
            lambda: resolvers.memberships_count(ctx),
        )

    @strawberry.field(
        description="The account requests act on: the X-Account-Id header, else your last "
        "choice, else your first account."
    )
    async def active_account(self, info: Info) -> Account | None:
        found = await account_resolvers.account(info.context, None)
        return Account.from_row(found[0]) if found else None

    announcements: Connection[Announcement] = strawberry.field(
        resolver=viewer_announcements,
        description="News visible now for any account you reach, newest first; "
        "`unreadOnly` leaves out what you marked read.",
    )

    @strawberry.field(
        description="Your login-email change awaiting staff, if any (changeEmail answered "
        "AWAITING_STAFF); null once staff decide."
    )
    async def pending_email_change(self, info: Info) -> PendingEmailChange | None:
        row = await resolvers.pending_email_change(info.context)
        if row is None:
            return None
        return PendingEmailChange(new_email=row.new_email, requested_at=row.created_at)

    @strawberry.field(description="Your permissions on the active account.")
    async def permissions(self, info: Info) -> list[Permission]:
        return await resolvers.active_permissions(info.context)

    @strawberry.field(description="Your sessions and tokens that still work, newest first.")
    async def sessions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SessionType]:
        ctx = info.context
        page = await session_resolvers.sessions(ctx, page_request(first, after, last, before))
        return Connection.from_page(
            page,
            [SessionType.from_row(row, info) for row in page.rows],
            lambda: session_resolvers.sessions_count(ctx),
        )

    @strawberry.field(description="What happened to your login, newest first.")
    async def security_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SecurityEventType]:
        ctx = info.context
        page = await session_resolvers.events(ctx, page_request(first, after, last, before))
        return Connection.from_page(
            page,
            [SecurityEventType.from_row(row) for row in page.rows],
            lambda: session_resolvers.events_count(ctx),
        )
