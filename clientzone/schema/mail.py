"""Emails the company sent to an account ("Ver mensaje")."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.models import mail as models
from clientzone.resolvers.mail import EmailFilter
from clientzone.schema.enums import EmailCategory
from clientzone.schema.node import Node


@strawberry.type(name="EmailMessage", description="A copy of an email sent to the account.")
class EmailMessageType(Node):
    category: EmailCategory
    subject: str
    sent_at: datetime
    recipients: list[str]
    text_body: str = strawberry.field(description="The plain-text version.")
    html_body: str = strawberry.field(
        description="The HTML version as sent; show it sandboxed (e.g. an iframe with sandbox)."
    )

    @classmethod
    def from_row(cls, row: models.EmailMessage) -> EmailMessageType:
        assert row.category is not None, "account emails have a category"
        assert row.sent_at is not None, "only sent emails are listed"
        return cls(
            id=strawberry.ID(encode_global_id("EmailMessage", row.id)),
            category=row.category,
            subject=row.subject,
            sent_at=row.sent_at,
            recipients=list(row.recipients),
            text_body=row.text_body,
            html_body=row.html_body,
        )


@strawberry.input(description="Narrow the list of emails; dates are inclusive from, exclusive to.")
class EmailFilterInput:
    category: EmailCategory | None = None
    sent_from: datetime | None = None
    sent_to: datetime | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Part of the subject or of a recipient's address (any case), or "
        "words of the text (stemmed, es and en, on PostgreSQL).",
    )

    def to_filter(self) -> EmailFilter:
        return EmailFilter(
            category=self.category,
            sent_from=as_utc(self.sent_from),
            sent_to=as_utc(self.sent_to),
            search=(self.search or "").strip()[:100] or None,
        )


def as_utc(value: datetime | None) -> datetime | None:
    """A time without an offset is read as UTC, like every time in the API."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
