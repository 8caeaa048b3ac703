"""An account's history: every change, who made it, from where, what changed.

Rows are written in the same transaction as the change they describe, so the
history never misses a change nor records one that did not happen. Secrets
(PINs, passwords, tokens) are recorded as changed, never with their values.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page


class ActorKind(StrEnum):
    USER = "USER"
    STAFF = "STAFF"
    SYSTEM = "SYSTEM"
    INTEGRATION = "INTEGRATION"  # an API client of the account


class ActivityAction(StrEnum):
    PROFILE_UPDATED = "PROFILE_UPDATED"
    SECURITY_PIN_SET = "SECURITY_PIN_SET"
    CONTACT_CREATED = "CONTACT_CREATED"
    CONTACT_UPDATED = "CONTACT_UPDATED"
    CONTACT_DELETED = "CONTACT_DELETED"
    INVITATION_SENT = "INVITATION_SENT"
    INVITATION_RESENT = "INVITATION_RESENT"
    INVITATION_REVOKED = "INVITATION_REVOKED"
    INVITATION_ACCEPTED = "INVITATION_ACCEPTED"
    MEMBER_PERMISSIONS_UPDATED = "MEMBER_PERMISSIONS_UPDATED"
    MEMBER_REMOVED = "MEMBER_REMOVED"
    MEMBER_SUSPENDED = "MEMBER_SUSPENDED"
    MEMBER_RESTORED = "MEMBER_RESTORED"
    OWNERSHIP_TRANSFERRED = "OWNERSHIP_TRANSFERRED"
    LEGACY_LOGIN_CLAIMED = "LEGACY_LOGIN_CLAIMED"
    ACCOUNT_UNIFIED = "ACCOUNT_UNIFIED"
    ACCOUNT_LINKED = "ACCOUNT_LINKED"
    PAYMENT_STARTED = "PAYMENT_STARTED"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAYMENT_REFUND_DUE = "PAYMENT_REFUND_DUE"
    PAYMENT_REPORTED = "PAYMENT_REPORTED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"
    PAYMENT_EXPIRED = "PAYMENT_EXPIRED"
    PAYMENT_REJECTED = "PAYMENT_REJECTED"
    CASE_CREATED = "CASE_CREATED"
    ORDER_PLACED = "ORDER_PLACED"
    SERVICE_CHANGE_REQUESTED = "SERVICE_CHANGE_REQUESTED"
    SERVICE_CREDENTIALS_REVEALED = "SERVICE_CREDENTIALS_REVEALED"
    SERVICE_CREDENTIALS_REQUESTED = "SERVICE_CREDENTIALS_REQUESTED"
    CASE_COMMENTED = "CASE_COMMENTED"
    CASE_ATTACHMENT_ADDED = "CASE_ATTACHMENT_ADDED"
    CASE_STATUS_CHANGED = "CASE_STATUS_CHANGED"
    SUPPORT_VIEWED_ACCOUNT = "SUPPORT_VIEWED_ACCOUNT"
    API_CLIENT_CREATED = "API_CLIENT_CREATED"
    API_CLIENT_ROTATED = "API_CLIENT_ROTATED"
    API_CLIENT_REVOKED = "API_CLIENT_REVOKED"
    WEBHOOK_ENDPOINT_CREATED = "WEBHOOK_ENDPOINT_CREATED"
    WEBHOOK_ENDPOINT_UPDATED = "WEBHOOK_ENDPOINT_UPDATED"
    WEBHOOK_ENDPOINT_DELETED = "WEBHOOK_ENDPOINT_DELETED"
    WEBHOOK_SECRET_ROTATED = "WEBHOOK_SECRET_ROTATED"  # noqa: S105 (an action name)


@dataclass(frozen=True)
class Change:
    """One changed field; `before`/`after` are None for secrets."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user_id: uuid.UUID | None
    label: str  # the person's email at the time, or "system"
    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor(ActorKind.SYSTEM, None, "system")


class ActivityEntry(SQLModel, table=True):
    __tablename__ = "account_activity"
    __table_args__ = (Index("ix_account_activity_account_id_id", "account_id", "id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="accounts.id", ondelete="CASCADE")
    actor_kind: ActorKind = Field(sa_type=StrEnumType(ActorKind))
    actor_user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    actor_label: str = Field(sa_type=String(254))
    action: ActivityAction = Field(sa_type=StrEnumType(ActivityAction))
    target: str | None = Field(default=None, sa_type=String(254))
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    ip: str | None = Field(default=None, sa_type=String(45))
    user_agent: str | None = Field(default=None, sa_type=String(400))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def change_list(self) -> list[Change]:
        return [Change(**item) for item in self.changes]


def record_activity(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    action: ActivityAction,
    target: str | None = None,
    changes: Sequence[Change] = (),
) -> ActivityEntry:
    entry = ActivityEntry(
        account_id=account_id,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_label=actor.label[:254],
        action=action,
        target=target[:254] if target else None,
        changes=[asdict(change) for change in changes],
        ip=actor.ip or None,
        user_agent=actor.user_agent[:400] if actor.user_agent else None,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class ActivityFilter:
    actions: frozenset[ActivityAction] = frozenset()
    since: datetime | None = None
    until: datetime | None = None


def _activity(account_id: uuid.UUID, activity_filter: ActivityFilter) -> Any:
    statement = select(ActivityEntry).where(col(ActivityEntry.account_id) == account_id)
    if activity_filter.actions:
        statement = statement.where(col(ActivityEntry.action).in_(activity_filter.actions))
    if activity_filter.since is not None:
        statement = statement.where(col(ActivityEntry.created_at) >= activity_filter.since)
    if activity_filter.until is not None:
        statement = statement.where(col(ActivityEntry.created_at) < activity_filter.until)
    return statement


ACTIVITY_ORDER = SortKey(columns=[col(ActivityEntry.id)], descending=True)


async def activity_page(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    page: PageRequest,
    activity_filter: ActivityFilter,
) -> Page[ActivityEntry]:
    """Newest first (ids are time-ordered)."""
    return await fetch_page(
        session,
        _activity(account_id, activity_filter),
        sort=ACTIVITY_ORDER,
        page=page,
        key_of=lambda e: (e.id,),
    )


async def count_activity(
    session: AsyncSession, *, account_id: uuid.UUID, activity_filter: ActivityFilter
) -> int:
    subquery = _activity(account_id, activity_filter).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def account_of_activity(session: AsyncSession, entry_id: uuid.UUID) -> uuid.UUID | None:
    statement = select(col(ActivityEntry.account_id)).where(col(ActivityEntry.id) == entry_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def activity_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, entry_id: uuid.UUID
) -> ActivityEntry | None:
    statement = select(ActivityEntry).where(
        col(ActivityEntry.account_id) == account_id, col(ActivityEntry.id) == entry_id
    )
    return (await session.execute(statement)).scalar_one_or_none()
