"""The outbox: every email, written in the same transaction as the change that
causes it, then claimed and sent by a worker.

Claiming is one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING: on PostgreSQL concurrent workers skip each other's rows; on SQLite
the single statement is atomic. A claim is a lease, renewed just before each
message is sent and ended when its outcome is recorded (one message at a time):
only a message whose worker died between the SMTP server's acceptance and that
record can be sent again, once its lease has expired.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, cast, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.accounts import mark_email_bouncing
from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.contacts import EmailCategory, mark_bouncing
from clientzone.models.mail_search import BodyMatches, body_document
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page
from clientzone.models.users import Locale


class EmailStatus(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # refused for good by the server (5xx)
    DEAD = "DEAD"  # temporary failures until attempts ran out


class EmailMessage(SQLModel, table=True):
    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_email_messages_account_id_sent_at_id", "account_id", "sent_at", "id"),
        Index(
            "ix_email_messages_body_search",
            body_document(text("text_body")),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # None: a message about a login (codes, links, security notices), never
    # shown among the account's emails and never sent to contacts.
    category: EmailCategory | None = Field(default=None, sa_type=StrEnumType(EmailCategory))
    account_id: uuid.UUID | None = Field(
        default=None, foreign_key="accounts.id", ondelete="SET NULL"
    )
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="SET NULL"
    )
    recipients: list[str] = Field(sa_type=JSON)
    # Final outcome per recipient ("sent" or the refusal); a retry goes only to
    # the recipients not in here.
    deliveries: dict[str, str] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": text("'{}'")}
    )
    # The recipients who are contacts (not the account's own address nor
    # someone copied in): their copy carries a one-click unsubscribe link.
    unsubscribable: list[str] = Field(
        default_factory=list, sa_type=JSON, sa_column_kwargs={"server_default": text("'[]'")}
    )
    # The sender of a branded message (the account's brand, clientzone/brands.py);
    # None: MAIL_FROM_NAME, MAIL_FROM_ADDRESS and MAIL_REPLY_TO when it is sent.
    from_name: str | None = Field(default=None, sa_type=String(200))
    from_address: str | None = Field(default=None, sa_type=String(254))
    reply_to: str | None = Field(default=None, sa_type=String(254))
    subject: str = Field(sa_type=String(300))
    text_body: str = Field(sa_type=Text)
    html_body: str = Field(sa_type=Text)
    template: str = Field(sa_type=String(100))
    locale: Locale = Field(sa_type=StrEnumType(Locale))
    message_id: str = Field(sa_type=String(255), unique=True)
    status: EmailStatus = Field(default=EmailStatus.QUEUED, sa_type=StrEnumType(EmailStatus))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, sa_type=String(100))
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    # SHA-256 of the one-time token whose link or code the message carries (a
    # password reset, an email verification, an invitation): a retry resends
    # it only while that token still works (mailers/retry.py).
    token_hash: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def claim_messages(
    session: AsyncSession, *, worker: str, limit: int, lease: timedelta, max_attempts: int
) -> list[EmailMessage]:
    """Claim up to `limit` due messages for `worker`; commit to make the claim visible.

    A message whose worker vanished mid-send (lease expired) with no attempts
    left is DEAD, not sent once more.
    """
    now = utcnow()
    await session.execute(
        update(EmailMessage)
        .where(
            col(EmailMessage.status) == EmailStatus.SENDING,
            col(EmailMessage.lease_expires_at) < now,
            col(EmailMessage.attempts) >= max_attempts,
        )
        .values(
            status=EmailStatus.DEAD,
            claimed_by=None,
            lease_expires_at=None,
            last_error="lease expired while sending; attempts exhausted",
        )
    )
    due = (
        select(col(EmailMessage.id))
        .where(
            or_(
                (col(EmailMessage.status) == EmailStatus.QUEUED)
                & (col(EmailMessage.next_attempt_at) <= now),
                (col(EmailMessage.status) == EmailStatus.SENDING)
                & (col(EmailMessage.lease_expires_at) < now),
            )
        )
        .order_by(col(EmailMessage.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(EmailMessage)
        .where(col(EmailMessage.id).in_(due.scalar_subquery()))
        .values(
            status=EmailStatus.SENDING,
            claimed_by=worker,
            lease_expires_at=now + lease,
            attempts=col(EmailMessage.attempts) + 1,
        )
        .returning(EmailMessage)
    )
    result = await session.execute(statement)
    return list(result.scalars())


@dataclass(frozen=True)
class Delivery:
    """What happened to one claimed message."""

    message_id: uuid.UUID
    status: EmailStatus
    error: str | None = None
    retry_at: datetime | None = None
    deliveries: dict[str, str] | None = None
    # Recipients the server refused for good (5xx to RCPT): marked bouncing.
    bounced: tuple[str, ...] = ()


async def renew_claim(
    session: AsyncSession, *, message_id: uuid.UUID, worker: str, lease: timedelta
) -> bool:
    """Extend the lease just before sending; False when the message is no longer ours."""
    result = await session.execute(
        update(EmailMessage)
        .where(
            col(EmailMessage.id) == message_id,
            col(EmailMessage.claimed_by) == worker,
            col(EmailMessage.status) == EmailStatus.SENDING,
        )
        .values(lease_expires_at=utcnow() + lease)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def record_delivery(session: AsyncSession, *, worker: str, delivery: Delivery) -> None:
    """Store one outcome, only if this worker still holds the message; the
    contacts at an address refused for good are bouncing from now."""
    values: dict[str, Any] = {
        "status": delivery.status,
        "last_error": delivery.error,
        "claimed_by": None,
        "lease_expires_at": None,
    }
    if delivery.status is EmailStatus.SENT:
        values["sent_at"] = utcnow()
    if delivery.retry_at is not None:
        values["next_attempt_at"] = delivery.retry_at
    if delivery.deliveries is not None:
        values["deliveries"] = delivery.deliveries
    result = await session.execute(
        update(EmailMessage)
        .where(col(EmailMessage.id) == delivery.message_id, col(EmailMessage.claimed_by) == worker)
        .values(**values)
    )
    if delivery.bounced and result.rowcount:  # type: ignore[attr-defined]
        await mark_bouncing(session, delivery.bounced)
        await mark_email_bouncing(session, delivery.bounced)


async def release_claims(
    session: AsyncSession, *, worker: str, message_ids: Sequence[uuid.UUID]
) -> int:
    """Give back claimed messages that were never attempted (stopping mid-batch)."""
    if not message_ids:
        return 0
    result = await session.execute(
        update(EmailMessage)
        .where(
            col(EmailMessage.id).in_(message_ids),
            col(EmailMessage.claimed_by) == worker,
            col(EmailMessage.status) == EmailStatus.SENDING,
        )
        .values(
            status=EmailStatus.QUEUED,
            claimed_by=None,
            lease_expires_at=None,
            attempts=col(EmailMessage.attempts) - 1,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


ACCOUNT_EMAILS_ORDER = SortKey(
    columns=[col(EmailMessage.sent_at), col(EmailMessage.id)], descending=True
)


def _account_emails(
    account_id: uuid.UUID,
    category: EmailCategory | None,
    sent_from: datetime | None,
    sent_to: datetime | None,
    search: str | None = None,
) -> Any:
    statement = select(EmailMessage).where(
        col(EmailMessage.account_id) == account_id,
        col(EmailMessage.status) == EmailStatus.SENT,
        col(EmailMessage.category).is_not(None),
    )
    if category is not None:
        statement = statement.where(col(EmailMessage.category) == category)
    if sent_from is not None:
        statement = statement.where(col(EmailMessage.sent_at) >= sent_from)
    if sent_to is not None:
        statement = statement.where(col(EmailMessage.sent_at) < sent_to)
    if search:
        # Within one account's mail (the account_id, sent_at index): part of
        # the subject or of a recipient's address, any case, or words of the
        # text (full-text on PostgreSQL: models/mail_search.py).
        needle = search.strip().lower()
        statement = statement.where(
            or_(
                func.lower(col(EmailMessage.subject)).contains(needle, autoescape=True),
                func.lower(cast(col(EmailMessage.recipients), Text)).contains(
                    needle, autoescape=True
                ),
                BodyMatches(col(EmailMessage.text_body), needle),
            )
        )
    return statement


async def account_emails_page(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    page: PageRequest,
    category: EmailCategory | None = None,
    sent_from: datetime | None = None,
    sent_to: datetime | None = None,
    search: str | None = None,
) -> Page[EmailMessage]:
    """Sent account-category emails, newest first."""
    return await fetch_page(
        session,
        _account_emails(account_id, category, sent_from, sent_to, search),
        sort=ACCOUNT_EMAILS_ORDER,
        page=page,
        key_of=lambda m: (m.sent_at, m.id),
    )


async def count_account_emails(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    category: EmailCategory | None = None,
    sent_from: datetime | None = None,
    sent_to: datetime | None = None,
    search: str | None = None,
) -> int:
    inner = _account_emails(account_id, category, sent_from, sent_to, search).subquery()
    return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


async def account_email(
    session: AsyncSession, *, account_id: uuid.UUID, email_id: uuid.UUID
) -> EmailMessage | None:
    statement = _account_emails(account_id, None, None, None).where(
        col(EmailMessage.id) == email_id
    )
    result: EmailMessage | None = (await session.execute(statement)).scalar_one_or_none()
    return result


async def account_of_email(session: AsyncSession, email_id: uuid.UUID) -> uuid.UUID | None:
    """Which account an account email belongs to (to check access before reading it)."""
    statement = select(col(EmailMessage.account_id)).where(
        col(EmailMessage.id) == email_id, col(EmailMessage.category).is_not(None)
    )
    account_id: uuid.UUID | None = (await session.execute(statement)).scalar_one_or_none()
    return account_id


async def messages(
    session: AsyncSession, *, status: EmailStatus | None = None, limit: int = 50
) -> list[EmailMessage]:
    """The newest messages (all kinds), for operators."""
    statement = select(EmailMessage).order_by(col(EmailMessage.created_at).desc()).limit(limit)
    if status is not None:
        statement = statement.where(col(EmailMessage.status) == status)
    return list((await session.execute(statement)).scalars())


async def message_by_id(session: AsyncSession, message_id: uuid.UUID) -> EmailMessage | None:
    return await session.get(EmailMessage, message_id)


UNDELIVERED = (EmailStatus.DEAD, EmailStatus.FAILED)
UNDELIVERED_ORDER = SortKey(columns=[col(EmailMessage.id)], descending=True)


def _undelivered(account_id: uuid.UUID | None, recipient: str | None) -> Any:
    statement = select(EmailMessage).where(col(EmailMessage.status).in_(UNDELIVERED))
    if account_id is not None:
        statement = statement.where(col(EmailMessage.account_id) == account_id)
    if recipient:
        needle = recipient.strip().lower()
        statement = statement.where(
            func.lower(cast(col(EmailMessage.recipients), Text)).contains(needle, autoescape=True)
        )
    return statement


async def undelivered_page(
    session: AsyncSession,
    *,
    page: PageRequest,
    account_id: uuid.UUID | None = None,
    recipient: str | None = None,
) -> Page[EmailMessage]:
    """DEAD and FAILED messages of every account (login mail included),
    newest first (ids are time-ordered): what support may send again."""
    return await fetch_page(
        session,
        _undelivered(account_id, recipient),
        sort=UNDELIVERED_ORDER,
        page=page,
        key_of=lambda m: (m.id,),
    )


async def count_undelivered(
    session: AsyncSession, *, account_id: uuid.UUID | None = None, recipient: str | None = None
) -> int:
    subquery = _undelivered(account_id, recipient).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def messages_by_ids(
    session: AsyncSession, message_ids: Sequence[uuid.UUID]
) -> list[EmailMessage]:
    statement = select(EmailMessage).where(col(EmailMessage.id).in_(message_ids))
    return list((await session.execute(statement)).scalars())


async def dead_messages(
    session: AsyncSession, *, since: datetime | None = None, until: datetime | None = None
) -> list[EmailMessage]:
    """DEAD messages queued in [since, until), oldest first."""
    statement = (
        select(EmailMessage)
        .where(col(EmailMessage.status) == EmailStatus.DEAD)
        .order_by(col(EmailMessage.created_at), col(EmailMessage.id))
    )
    if since is not None:
        statement = statement.where(col(EmailMessage.created_at) >= since)
    if until is not None:
        statement = statement.where(col(EmailMessage.created_at) < until)
    return list((await session.execute(statement)).scalars())


async def requeue_dead(
    session: AsyncSession, message_ids: Sequence[uuid.UUID], *, failed_too: bool = False
) -> set[uuid.UUID]:
    """DEAD messages back to the queue, due now with every attempt again; the
    recipients already served (`deliveries`) are not sent another copy.
    Returns the ids requeued: a message no longer DEAD (requeued by someone
    else meanwhile) is left alone, so two retries at once requeue it once.
    With `failed_too`, FAILED messages too, their refusals forgotten (no
    recipient of a FAILED message was served)."""
    if not message_ids:
        return set()
    requeued = await _requeue(session, message_ids, EmailStatus.DEAD)
    if failed_too:
        requeued |= await _requeue(session, message_ids, EmailStatus.FAILED, deliveries={})
    return requeued


async def _requeue(
    session: AsyncSession,
    message_ids: Sequence[uuid.UUID],
    status: EmailStatus,
    **also: Any,
) -> set[uuid.UUID]:
    result = await session.execute(
        update(EmailMessage)
        .where(col(EmailMessage.id).in_(message_ids), col(EmailMessage.status) == status)
        .values(
            status=EmailStatus.QUEUED,
            attempts=0,
            next_attempt_at=utcnow(),
            claimed_by=None,
            lease_expires_at=None,
            **also,
        )
        .returning(col(EmailMessage.id))
    )
    return set(result.scalars())


async def outbox_health(session: AsyncSession) -> tuple[dict[str, int], float | None]:
    """Messages not yet sent by status (QUEUED, SENDING, DEAD: the history of
    sent mail is not counted), and how many seconds the oldest message due for
    sending has waited (None: none is due)."""
    pending = [EmailStatus.QUEUED, EmailStatus.SENDING, EmailStatus.DEAD]
    counts = select(col(EmailMessage.status), func.count()).where(
        col(EmailMessage.status).in_(pending)
    )
    depth = {status.value: 0 for status in pending}
    for status, count in (await session.execute(counts.group_by(col(EmailMessage.status)))).all():
        depth[EmailStatus(status).value] = int(count)
    now = utcnow()
    oldest = (
        await session.execute(
            select(func.min(col(EmailMessage.next_attempt_at))).where(
                col(EmailMessage.status) == EmailStatus.QUEUED,
                col(EmailMessage.next_attempt_at) <= now,
            )
        )
    ).scalar_one_or_none()
    if oldest is None:
        return depth, None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return depth, max(0.0, (now - oldest).total_seconds())
