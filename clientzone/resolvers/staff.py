"""Staff sign-in second factor (TOTP, RFC 6238) and audited access to accounts.

Enrolment: `staffEnrolSecondFactor` (with the password) gives a new secret;
`staffConfirmSecondFactor` with a code from it turns it on, returns ten
recovery codes once (stored hashed) and verifies this session. Every later
staff session proves it with `staffVerifySecondFactor` (a code, or a recovery
code, each used once). A code is accepted for its 30-second step and the
steps either side, and never twice: a step at or before the last accepted one
is refused. Wrong codes slow down per person (auth/rate_limits.py).
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from enum import StrEnum

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.auth.rate_limits import SECOND_FACTOR_ATTEMPT
from clientzone.auth.staff import StaffViewer, require_staff
from clientzone.core.errors import BadUserInput, NotFound
from clientzone.core.ids import decode_id_of
from clientzone.core.tokens import hash_token
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Actor, ActorKind, record_activity
from clientzone.models.base import utcnow
from clientzone.models.customer_search import count_customers, search_customers
from clientzone.models.memberships import ALL_PERMISSIONS, Grant, Role
from clientzone.models.pagination import Page, PageRequest
from clientzone.models.sessions import mark_second_factor
from clientzone.models.staff import (
    AuditFilter,
    StaffAction,
    StaffAuditRecord,
    StaffMember,
    StaffRecoveryCode,
    accept_totp_step,
    audit_page,
    count_audit,
    record_staff_action,
    use_recovery_code,
)
from clientzone.resolvers.email_verification import confirm_password
from clientzone.resolvers.validation import FieldErrors, Outcome

ISSUER = "clientzone"
STEP_SECONDS = 30
RECOVERY_CODES = 10
MAX_REASON = 500
MAX_CASE_NUMBER = 40


class SecondFactorErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID_PASSWORD = "INVALID_PASSWORD"  # noqa: S105 (an error code)
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    NOT_ENROLLED = "NOT_ENROLLED"
    INVALID_CODE = "INVALID_CODE"


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The 30-second step (this one or either side) whose code this is."""
    cleaned = "".join(code.split())
    if len(cleaned) != 6 or not cleaned.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), cleaned):
            return step
    return None


def _recovery_hash(user_id: uuid.UUID, code: str) -> str:
    return hash_token(f"{user_id.hex}:{''.join(code.split()).lower()}")


def new_recovery_code() -> str:
    raw = secrets.token_hex(5)
    return f"{raw[:5]}-{raw[5:]}"


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


async def enrol_second_factor(
    ctx: Context, *, current_password: str
) -> Outcome[tuple[str, str], SecondFactorErrorCode]:
    """A new (not yet active) secret; replaces one not confirmed."""
    staff = await require_staff(ctx, before_second_factor=True)
    user = require_viewer(ctx).user
    code = SecondFactorErrorCode
    errors: FieldErrors[SecondFactorErrorCode] = FieldErrors()
    if staff.member.totp_confirmed_at is not None:
        errors.add(None, code.ALREADY_ENROLLED, "staff.already_enrolled")
    elif not current_password:
        errors.add("currentPassword", code.REQUIRED, "field.required")
    elif not await confirm_password(ctx, user, current_password):
        errors.add("currentPassword", code.INVALID_PASSWORD, "auth.invalid_password")
    if errors:
        return Outcome(errors=errors.errors)
    secret = pyotp.random_base32()
    async with ctx.transaction() as session:
        row = await session.get(StaffMember, user.id)
        assert row is not None
        row.totp_secret = secret
        row.totp_last_step = None
    return Outcome(value=(secret, provisioning_uri(secret, user.email)))


async def _checked_code(
    ctx: Context, staff: StaffViewer, errors: FieldErrors[SecondFactorErrorCode], code: str
) -> int | None:
    subject = staff.member.user_id.hex
    await ctx.limiter.check(SECOND_FACTOR_ATTEMPT, subject)
    secret = staff.member.totp_secret
    step = matching_step(secret, code) if secret else None
    if step is None:
        await ctx.limiter.failed(SECOND_FACTOR_ATTEMPT, subject)
        errors.add("code", SecondFactorErrorCode.INVALID_CODE, "staff.invalid_code")
    return step


async def confirm_second_factor(
    ctx: Context, *, code: str
) -> Outcome[list[str], SecondFactorErrorCode]:
    """Turn the enrolled secret on; the recovery codes are returned only here."""
    staff = await require_staff(ctx, before_second_factor=True)
    viewer = require_viewer(ctx)
    errors: FieldErrors[SecondFactorErrorCode] = FieldErrors()
    if staff.member.totp_confirmed_at is not None:
        errors.add(None, SecondFactorErrorCode.ALREADY_ENROLLED, "staff.already_enrolled")
    elif staff.member.totp_secret is None:
        errors.add(None, SecondFactorErrorCode.NOT_ENROLLED, "staff.not_enrolled")
    elif not code.strip():
        errors.add("code", SecondFactorErrorCode.REQUIRED, "field.required")
    if errors:
        return Outcome(errors=errors.errors)
    step = await _checked_code(ctx, staff, errors, code)
    if step is None:
        return Outcome(errors=errors.errors)
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    user_id = staff.member.user_id
    async with ctx.transaction() as session:
        if not await accept_totp_step(session, user_id, step):
            errors.add("code", SecondFactorErrorCode.INVALID_CODE, "staff.invalid_code")
            return Outcome(errors=errors.errors)
        row = await session.get(StaffMember, user_id)
        assert row is not None
        row.totp_confirmed_at = utcnow()
        for recovery in codes:
            hashed = _recovery_hash(user_id, recovery)
            session.add(StaffRecoveryCode(user_id=user_id, code_hash=hashed))
        await mark_second_factor(session, session_id=viewer.session.id)
        _audit(ctx, session, staff, StaffAction.SECOND_FACTOR_ENROLLED, target=staff.email)
    await ctx.limiter.succeeded(SECOND_FACTOR_ATTEMPT, user_id.hex)
    return Outcome(value=codes)


async def verify_second_factor(
    ctx: Context, *, code: str | None, recovery_code: str | None
) -> Outcome[bool, SecondFactorErrorCode]:
    """Prove the second factor for this session (a code, or a recovery code)."""
    staff = await require_staff(ctx, before_second_factor=True)
    viewer = require_viewer(ctx)
    errors: FieldErrors[SecondFactorErrorCode] = FieldErrors()
    user_id = staff.member.user_id
    if staff.member.totp_confirmed_at is None:
        errors.add(None, SecondFactorErrorCode.NOT_ENROLLED, "staff.not_enrolled")
        return Outcome(errors=errors.errors)
    if not (code or "").strip() and not (recovery_code or "").strip():
        errors.add("code", SecondFactorErrorCode.REQUIRED, "field.required")
        return Outcome(errors=errors.errors)
    if recovery_code and recovery_code.strip():
        await ctx.limiter.check(SECOND_FACTOR_ATTEMPT, user_id.hex)
        async with ctx.transaction() as session:
            used = await use_recovery_code(session, user_id, _recovery_hash(user_id, recovery_code))
            if used:
                await mark_second_factor(session, session_id=viewer.session.id)
        if used:
            await ctx.limiter.succeeded(SECOND_FACTOR_ATTEMPT, user_id.hex)
            return Outcome(value=True)
        await ctx.limiter.failed(SECOND_FACTOR_ATTEMPT, user_id.hex)
        errors.add("recoveryCode", SecondFactorErrorCode.INVALID_CODE, "staff.invalid_code")
        return Outcome(errors=errors.errors)
    step = await _checked_code(ctx, staff, errors, code or "")
    if step is None:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        if not await accept_totp_step(session, user_id, step):
            errors.add("code", SecondFactorErrorCode.INVALID_CODE, "staff.invalid_code")
            return Outcome(errors=errors.errors)
        await mark_second_factor(session, session_id=viewer.session.id)
    await ctx.limiter.succeeded(SECOND_FACTOR_ATTEMPT, user_id.hex)
    return Outcome(value=True)


def _audit(
    ctx: Context,
    session: AsyncSession,
    staff: StaffViewer,
    action: StaffAction,
    *,
    account_id: uuid.UUID | None = None,
    target: str | None = None,
    reason: str | None = None,
    case_number: str | None = None,
) -> StaffAuditRecord:
    return record_staff_action(
        session,
        staff_user_id=staff.member.user_id,
        staff_email=staff.email,
        action=action,
        account_id=account_id,
        target=target,
        reason=reason,
        case_number=case_number,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
    )


SUPPORT_ACTOR_LABEL = "support"


async def open_account(
    ctx: Context, global_id: str, *, reason: str, case_number: str | None
) -> Account:
    """Any account, for reading, with a reason: audited, and the customer sees
    "support viewed your account" in its activity. For the rest of this
    request the staff member reads the account as its owner would (queries
    only: a mutation request never opens an account)."""
    staff = await require_staff(ctx)
    cleaned = reason.strip()
    number = (case_number or "").strip() or None
    if not cleaned:
        raise BadUserInput("staff.reason_required")
    if len(cleaned) > MAX_REASON or (number and len(number) > MAX_CASE_NUMBER):
        raise BadUserInput("staff.too_long", maximum=MAX_REASON)
    account_id = decode_id_of("Account", global_id)
    account = await ctx.loaders.account_by_id.load(account_id) if account_id else None
    if account is None:
        raise NotFound
    async with ctx.transaction() as session:
        _audit(
            ctx,
            session,
            staff,
            StaffAction.ACCOUNT_VIEWED,
            account_id=account.id,
            target=account.number,
            reason=cleaned,
            case_number=number,
        )
        record_activity(
            session,
            account_id=account.id,
            actor=Actor(
                ActorKind.STAFF,
                None,
                SUPPORT_ACTOR_LABEL,
                ip=None,
                user_agent=None,
            ),
            action=ActivityAction.SUPPORT_VIEWED_ACCOUNT,
            target=f"case {number}" if number else None,
        )
    # Fresh loaders after the transaction: the staff grant lives in them only.
    account = await ctx.loaders.account_by_id.load(account.id) or account
    ctx.loaders.grant_by_account.prime(
        account.id,
        Grant(
            account_id=account.id,
            account_number=account.number,
            role=Role.MEMBER,
            permissions=ALL_PERMISSIONS,
            inherited=False,
        ),
    )
    return account


async def audit_log(
    ctx: Context, page: PageRequest, audit_filter: AuditFilter
) -> Page[StaffAuditRecord]:
    async with ctx.db.read() as session:
        return await audit_page(session, page=page, audit_filter=audit_filter)


async def audit_count(ctx: Context, audit_filter: AuditFilter) -> int:
    async with ctx.db.read() as session:
        return await count_audit(session, audit_filter)


def audit_filter(
    *, account_global_id: str | None, staff_global_id: str | None, action: StaffAction | None
) -> AuditFilter:
    """An ID of the wrong type or of nothing matches nothing: NOT_FOUND."""
    ids: list[uuid.UUID | None] = []
    for type_name, global_id in (("Account", account_global_id), ("User", staff_global_id)):
        found = decode_id_of(type_name, global_id) if global_id is not None else None
        if global_id is not None and found is None:
            raise NotFound
        ids.append(found)
    return AuditFilter(account_id=ids[0], staff_user_id=ids[1], action=action)


async def customers(ctx: Context, search: str, page: PageRequest) -> Page[Account]:
    async with ctx.db.read() as session:
        return await search_customers(session, search, page)


async def customers_count(ctx: Context, search: str) -> int:
    async with ctx.db.read() as session:
        return await count_customers(session, search)
