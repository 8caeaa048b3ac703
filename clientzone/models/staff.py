"""Support staff: who is staff with which role, their second factor, and the
append-only record of what staff did.

A staff member is a login (`users.is_staff`) with a row here. The TOTP secret
is needed in clear to check codes, so it is kept only for staff and never
shown again after enrolment; recovery codes are stored as SHA-256 hashes and
each works once. `totp_last_step` is the last 30-second step a code was
accepted for: the same code (or an older one) is refused afterwards.

The audit log has no update or delete here: rows are only ever inserted,
and the database refuses any UPDATE or DELETE of them (triggers, migration
0021), but for the ON DELETE SET NULL of `staff_user_id` / `account_id` when
that user or account is deleted (the staff email stays in the row).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page


class StaffRole(StrEnum):
    SUPPORT_AGENT = "SUPPORT_AGENT"
    BILLING_AGENT = "BILLING_AGENT"
    ADMIN = "ADMIN"


class StaffMember(SQLModel, table=True):
    __tablename__ = "staff_members"

    user_id: uuid.UUID = Field(primary_key=True, foreign_key="users.id", ondelete="CASCADE")
    role: StaffRole = Field(sa_type=StrEnumType(StaffRole))
    disabled: bool = False
    totp_secret: str | None = Field(default=None, sa_type=String(64))
    totp_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffRecoveryCode(SQLModel, table=True):
    __tablename__ = "staff_recovery_codes"
    __table_args__ = (Index("ix_staff_recovery_codes_user_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    code_hash: str = Field(sa_type=String(64), unique=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffAction(StrEnum):
    STAFF_ADDED = "STAFF_ADDED"
    SECOND_FACTOR_ENROLLED = "SECOND_FACTOR_ENROLLED"
    ACCOUNT_VIEWED = "ACCOUNT_VIEWED"
    CASE_COMMENTED = "CASE_COMMENTED"
    CASE_STATUS_CHANGED = "CASE_STATUS_CHANGED"
    CASE_ASSIGNED = "CASE_ASSIGNED"
    CASE_ATTACHMENT_ADDED = "CASE_ATTACHMENT_ADDED"
    LOGIN_DISABLED = "LOGIN_DISABLED"
    LOGIN_ENABLED = "LOGIN_ENABLED"
    PASSWORD_RESET_SENT = "PASSWORD_RESET_SENT"  # noqa: S105 (an action name)
    VERIFICATION_SENT = "VERIFICATION_SENT"
    LOGIN_BLOCK_CLEARED = "LOGIN_BLOCK_CLEARED"
    SECURITY_PIN_CHECKED = "SECURITY_PIN_CHECKED"
    FIRST_INVITATION_SENT = "FIRST_INVITATION_SENT"
    TRANSFER_CONFIRMED = "TRANSFER_CONFIRMED"
    TRANSFER_REJECTED = "TRANSFER_REJECTED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"
    PAYMENT_LIMIT_CHANGED = "PAYMENT_LIMIT_CHANGED"
    DOCUMENT_TYPE_CHANGED = "DOCUMENT_TYPE_CHANGED"
    EMAIL_RETRIED = "EMAIL_RETRIED"
    ACCOUNT_LINKED = "ACCOUNT_LINKED"
    ACCOUNT_UNLINKED = "ACCOUNT_UNLINKED"
    ANNOUNCEMENT_PUBLISHED = "ANNOUNCEMENT_PUBLISHED"
    ANNOUNCEMENT_WITHDRAWN = "ANNOUNCEMENT_WITHDRAWN"
    EMAIL_CHANGE_APPROVED = "EMAIL_CHANGE_APPROVED"
    EMAIL_CHANGE_REJECTED = "EMAIL_CHANGE_REJECTED"


class StaffAuditRecord(SQLModel, table=True):
    __tablename__ = "staff_audit_log"
    __table_args__ = (
        Index("ix_staff_audit_log_staff_user_id_id", "staff_user_id", "id"),
        Index("ix_staff_audit_log_account_id_id", "account_id", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    staff_user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL"
    )
    staff_email: str = Field(sa_type=String(254))
    action: StaffAction = Field(sa_type=StrEnumType(StaffAction))
    account_id: uuid.UUID | None = Field(
        default=None, foreign_key="accounts.id", ondelete="SET NULL"
    )
    target: str | None = Field(default=None, sa_type=String(254))
    reason: str | None = Field(default=None, sa_type=String(500))
    case_number: str | None = Field(default=None, sa_type=String(40))
    ip: str | None = Field(default=None, sa_type=String(45))
    user_agent: str | None = Field(default=None, sa_type=String(400))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def staff_member(session: AsyncSession, user_id: uuid.UUID) -> StaffMember | None:
    statement = select(StaffMember).where(col(StaffMember.user_id) == user_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def accept_totp_step(session: AsyncSession, user_id: uuid.UUID, step: int) -> bool:
    """Record `step` as used; False when it (or a later one) was used already,
    also when two requests race with the same code."""
    statement = (
        update(StaffMember)
        .where(
            col(StaffMember.user_id) == user_id,
            (col(StaffMember.totp_last_step).is_(None)) | (col(StaffMember.totp_last_step) < step),
        )
        .values(totp_last_step=step)
    )
    result = await session.execute(statement, execution_options={"synchronize_session": False})
    return bool(getattr(result, "rowcount", 0))


async def use_recovery_code(session: AsyncSession, user_id: uuid.UUID, code_hash: str) -> bool:
    statement = (
        update(StaffRecoveryCode)
        .where(
            col(StaffRecoveryCode.user_id) == user_id,
            col(StaffRecoveryCode.code_hash) == code_hash,
            col(StaffRecoveryCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


def record_staff_action(
    session: AsyncSession,
    *,
    staff_user_id: uuid.UUID | None,
    staff_email: str,
    action: StaffAction,
    account_id: uuid.UUID | None = None,
    target: str | None = None,
    reason: str | None = None,
    case_number: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> StaffAuditRecord:
    row = StaffAuditRecord(
        staff_user_id=staff_user_id,
        staff_email=staff_email[:254],
        action=action,
        account_id=account_id,
        target=target[:254] if target else None,
        reason=reason[:500] if reason else None,
        case_number=case_number[:40] if case_number else None,
        ip=ip or None,
        user_agent=user_agent[:400] if user_agent else None,
    )
    session.add(row)
    return row


AUDIT_ORDER = SortKey(columns=[col(StaffAuditRecord.id)], descending=True)


@dataclass(frozen=True)
class AuditFilter:
    account_id: uuid.UUID | None = None
    staff_user_id: uuid.UUID | None = None
    action: StaffAction | None = None


def _audit(audit_filter: AuditFilter) -> Any:
    statement = select(StaffAuditRecord)
    if audit_filter.account_id is not None:
        statement = statement.where(col(StaffAuditRecord.account_id) == audit_filter.account_id)
    if audit_filter.staff_user_id is not None:
        statement = statement.where(
            col(StaffAuditRecord.staff_user_id) == audit_filter.staff_user_id
        )
    if audit_filter.action is not None:
        statement = statement.where(col(StaffAuditRecord.action) == audit_filter.action)
    return statement


async def count_audit(session: AsyncSession, audit_filter: AuditFilter) -> int:
    subquery = _audit(audit_filter).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def audit_page(
    session: AsyncSession, *, page: PageRequest, audit_filter: AuditFilter
) -> Page[StaffAuditRecord]:
    """Newest first (ids are time-ordered)."""
    statement = _audit(audit_filter)
    return await fetch_page(
        session, statement, sort=AUDIT_ORDER, page=page, key_of=lambda r: (r.id,)
    )
