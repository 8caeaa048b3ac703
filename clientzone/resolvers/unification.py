"""Adding an account with the same email to the signed-in login.

`requestAccountUnification` takes a customer number: when that account's
email is the login's email (case-insensitive), a code and a link go to that
email, in the same transaction. An unknown number and an account with another
email get the same answer (NOT_ELIGIBLE), as the legacy claim answers every
wrong credential alike, and count as failures that slow the person down.
`confirmAccountUnification` takes the code (or the link's token): used once,
for UNIFICATION_CODE_MINUTES, at most five wrong codes per request; the login
becomes an OWNER of the account, with activity on that account and on the
accounts the login already owns, and a security event on the login.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.auth.rate_limits import ACCOUNT_UNIFICATION, UNIFICATION_EMAIL_PER_USER
from clientzone.mailers.outbox import notify_user
from clientzone.models.accounts import Account, account_by_number
from clientzone.models.activity import ActivityAction, record_activity
from clientzone.models.memberships import Membership, Role, direct_membership, grant_membership
from clientzone.models.security_events import SecurityEventKind
from clientzone.models.user_tokens import (
    CODE_KEY,
    TokenPurpose,
    UserToken,
    code_matches,
    count_failed_attempt,
    issue_user_token,
    live_token,
    live_user_token,
    use_token,
)
from clientzone.models.users import User
from clientzone.resolvers.activity import actor
from clientzone.resolvers.email_verification import portal_link
from clientzone.resolvers.security import security_event
from clientzone.resolvers.validation import FieldErrors, Outcome

CUSTOMER_NUMBER_MAX = 40


class AccountUnificationErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    INVALID_CODE = "INVALID_CODE"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code)


def _same_email(account: Account, user: User) -> bool:
    return bool(account.email) and (account.email or "").strip().lower() == user.email.lower()


async def request_account_unification(
    ctx: Context, *, customer_number: str
) -> Outcome[bool, AccountUnificationErrorCode]:
    """Email a code and link to the login's (and the account's) address."""
    user = require_viewer(ctx).user
    code = AccountUnificationErrorCode
    errors: FieldErrors[AccountUnificationErrorCode] = FieldErrors()
    number = customer_number.strip().upper()
    if not number:
        errors.add("customerNumber", code.REQUIRED, "field.required")
    if user.email_verified_at is None:
        errors.add(None, code.EMAIL_NOT_VERIFIED, "auth.verify_first")
    if errors:
        return Outcome(errors=errors.errors)
    subject = user.id.hex
    await ctx.limiter.check(ACCOUNT_UNIFICATION, subject)
    async with ctx.db.read() as session:
        account = (
            await account_by_number(session, number) if len(number) <= CUSTOMER_NUMBER_MAX else None
        )
        member = (
            await direct_membership(session, account_id=account.id, user_id=user.id)
            if account is not None and _same_email(account, user)
            else None
        )
    if account is None or not _same_email(account, user):
        await ctx.limiter.failed(ACCOUNT_UNIFICATION, subject)
        errors.add("customerNumber", code.NOT_ELIGIBLE, "auth.unify_not_eligible")
        return Outcome(errors=errors.errors)
    if member is not None:
        errors.add("customerNumber", code.ALREADY_MEMBER, "auth.unify_already_member")
        return Outcome(errors=errors.errors)
    await ctx.limiter.hit(UNIFICATION_EMAIL_PER_USER, subject)
    minutes = ctx.settings.unification_code_minutes
    async with ctx.transaction() as session:
        token, secret_code = await issue_user_token(
            session,
            user_id=user.id,
            purpose=TokenPurpose.UNIFY_ACCOUNT,
            lifetime=timedelta(minutes=minutes),
            code_key=ctx.settings.key(CODE_KEY),
            with_code=True,
            account_id=account.id,
        )
        await notify_user(
            session,
            ctx.settings,
            user=user,
            template="account_unification",
            carries_token=token,
            account=account,
            code=secret_code,
            link=portal_link(ctx, "unify-account", token),
            minutes=minutes,
        )
    return Outcome(value=True)


async def _matching_request(
    ctx: Context,
    user: User,
    code_text: str,
    token: str,
    errors: FieldErrors[AccountUnificationErrorCode],
) -> UserToken | None:
    """The viewer's live request the code (or token) opens; else an error, counted."""
    subject = user.id.hex
    await ctx.limiter.check(ACCOUNT_UNIFICATION, subject)
    async with ctx.db.read() as session:
        if token:
            row = await live_token(session, purpose=TokenPurpose.UNIFY_ACCOUNT, token=token)
            if row is not None and row.user_id != user.id:
                row = None  # a link of someone else's request
        else:
            row = await live_user_token(
                session, user_id=user.id, purpose=TokenPurpose.UNIFY_ACCOUNT
            )
    matched = row is not None and (
        bool(token) or code_matches(row, ctx.settings.key(CODE_KEY), code_text)
    )
    if matched:
        return row
    await ctx.limiter.failed(ACCOUNT_UNIFICATION, subject)
    if row is not None and not token:
        async with ctx.transaction() as session:
            await count_failed_attempt(session, [row.id])
    if token:
        errors.add("token", AccountUnificationErrorCode.INVALID_TOKEN, "auth.unify_invalid_token")
    else:
        errors.add("code", AccountUnificationErrorCode.INVALID_CODE, "auth.unify_invalid_code")
    return None


async def _owned_account_ids(
    session: AsyncSession, user_id: uuid.UUID, but: uuid.UUID
) -> list[uuid.UUID]:
    statement = select(col(Membership.account_id)).where(
        col(Membership.user_id) == user_id,
        col(Membership.role) == Role.OWNER,
        col(Membership.account_id) != but,
    )
    return list((await session.execute(statement)).scalars())


async def confirm_account_unification(
    ctx: Context, *, code: str | None, token: str | None
) -> Outcome[Account, AccountUnificationErrorCode]:
    user = require_viewer(ctx).user
    codes = AccountUnificationErrorCode
    errors: FieldErrors[AccountUnificationErrorCode] = FieldErrors()
    code_text = "".join((code or "").split())
    token_text = (token or "").strip()
    if not code_text and not token_text:
        errors.add("code", codes.REQUIRED, "auth.unify_code_or_token")
        return Outcome(errors=errors.errors)
    row = await _matching_request(ctx, user, code_text, token_text, errors)
    if row is None:
        return Outcome(errors=errors.errors)
    assert row.account_id is not None  # every UNIFY_ACCOUNT request names its account
    field = "token" if token_text else "code"
    async with ctx.transaction() as session:
        account = await session.get(Account, row.account_id)
        if account is None or not _same_email(account, user):
            errors.add(None, codes.NOT_ELIGIBLE, "auth.unify_not_eligible")
            return Outcome(errors=errors.errors)
        if await direct_membership(session, account_id=account.id, user_id=user.id):
            errors.add(None, codes.ALREADY_MEMBER, "auth.unify_already_member")
            return Outcome(errors=errors.errors)
        if not await use_token(session, row.id):
            key = "auth.unify_invalid_token" if token_text else "auth.unify_invalid_code"
            wrong = codes.INVALID_TOKEN if token_text else codes.INVALID_CODE
            errors.add(field, wrong, key)
            return Outcome(errors=errors.errors)
        owned = await _owned_account_ids(session, user.id, account.id)
        await grant_membership(
            session,
            user_id=user.id,
            account_id=account.id,
            role=Role.OWNER,
            permissions=frozenset(),
        )
        who = actor(ctx)
        record_activity(
            session,
            account_id=account.id,
            actor=who,
            action=ActivityAction.ACCOUNT_UNIFIED,
            target=user.email,
        )
        for account_id in owned:
            record_activity(
                session,
                account_id=account_id,
                actor=who,
                action=ActivityAction.ACCOUNT_UNIFIED,
                target=account.number,
            )
        security_event(ctx, session, user.id, SecurityEventKind.ACCOUNT_UNIFIED, account.number)
        await notify_user(
            session, ctx.settings, user=user, template="account_unified", account=account
        )
    await ctx.limiter.succeeded(ACCOUNT_UNIFICATION, user.id.hex)
    return Outcome(value=account)
