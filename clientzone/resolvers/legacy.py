"""Claiming an old portal login (customer number + username + password).

The signed-in, verified person proves they held the old credential; its
account joins their memberships (as OWNER when it was the account's main
login) and the old credential stops working. Wrong, unknown and already
claimed credentials all give the same answer.
"""

from __future__ import annotations

from enum import StrEnum

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.auth.legacy_hashes import verify_legacy
from clientzone.auth.passwords import run_limited, verify_password
from clientzone.auth.rate_limits import LEGACY_CLAIM
from clientzone.mailers.outbox import notify_user
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, record_activity
from clientzone.models.legacy_logins import active_legacy_login, mark_claimed
from clientzone.models.memberships import Role, grant_membership
from clientzone.models.security_events import SecurityEventKind
from clientzone.resolvers.activity import actor
from clientzone.resolvers.security import security_event
from clientzone.resolvers.validation import FieldErrors, Outcome


class ClaimLegacyAccountErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"


async def claim_legacy_account(
    ctx: Context, *, customer_number: str, username: str, password: str
) -> Outcome[Account, ClaimLegacyAccountErrorCode]:
    viewer = require_viewer(ctx)
    user = viewer.user
    code = ClaimLegacyAccountErrorCode
    errors: FieldErrors[ClaimLegacyAccountErrorCode] = FieldErrors()
    for path, value in (
        ("customerNumber", customer_number),
        ("username", username),
        ("password", password),
    ):
        if not value.strip():
            errors.add(path, code.REQUIRED, "field.required")
    if user.email_verified_at is None:
        errors.add(None, code.EMAIL_NOT_VERIFIED, "auth.verify_first")
    if errors:
        return Outcome(errors=errors.errors)
    credential = f"{customer_number.strip().upper()}:{username.strip().lower()}"
    await ctx.limiter.check(LEGACY_CLAIM, user.id.hex)
    await ctx.limiter.check(LEGACY_CLAIM, credential)
    async with ctx.db.read() as session:
        found = await active_legacy_login(
            session, customer_number=customer_number, username=username
        )
    if found is not None:
        matched = await run_limited(verify_legacy, found[0].password_hash, password)
    else:
        matched = await verify_password(None, password)  # same cost as a real check
    if not matched or found is None:
        await ctx.limiter.failed(LEGACY_CLAIM, user.id.hex)
        await ctx.limiter.failed(LEGACY_CLAIM, credential)
        errors.add(None, code.INVALID_CREDENTIALS, "auth.legacy_invalid")
        return Outcome(errors=errors.errors)
    legacy, account = found
    async with ctx.transaction() as session:
        if not await mark_claimed(session, legacy_id=legacy.id, user_id=user.id):
            errors.add(None, code.INVALID_CREDENTIALS, "auth.legacy_invalid")
            return Outcome(errors=errors.errors)
        await grant_membership(
            session,
            user_id=user.id,
            account_id=account.id,
            role=Role.OWNER if legacy.is_main else Role.MEMBER,
            permissions=legacy.permissions,
        )
        security_event(
            ctx, session, user.id, SecurityEventKind.LEGACY_ACCOUNT_CLAIMED, account.number
        )
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.LEGACY_LOGIN_CLAIMED,
            target=legacy.username,
        )
        await notify_user(
            session,
            ctx.settings,
            user=user,
            template="legacy_account_claimed",
            account=account,
            username=legacy.username,
        )
    await ctx.limiter.succeeded(LEGACY_CLAIM, user.id.hex)
    return Outcome(value=account)
