"""Sending DEAD mail again, after an SMTP outage outlasted its attempts.

`retry_dead_mail` runs in the caller's transaction: `clientzone mail retry`
wraps it in one of its own, and a staff mutation (a support agent retrying a
message) will call it inside its transaction, with its audit row.

A retried message goes back to the queue as if new (status QUEUED, due now,
MAIL_MAX_ATTEMPTS attempts again) and the workers send it with the outbox's
usual guarantees: claims never overlap, and a recipient whose copy was
accepted before (`deliveries`) does not get another. Only a DEAD message is
requeued, by one conditional UPDATE, so two retries at once requeue it once.

A message that carries a one-time link or code is sent again only while that
link works. It is recognised by its template (`ONE_TIME`) and the hash of the
token it carries (`EmailMessage.token_hash`, kept when it was queued); the
token's own row says whether it still works:

- a password reset or email verification (`user_tokens`): unused, not
  expired, not locked by wrong codes. Otherwise it is skipped: the person
  asks again (a newer request replaces the older one anyway);
- an invitation (`invitations`): still pending with this very link (resending
  the invitation gives it a new link). Otherwise skipped: a manager resends it
  with `resendInvitation` (a new link, 48 more hours) or it is closed.

A one-time message queued before tokens were recorded cannot be checked and is
skipped. Skipped messages stay DEAD, with the reason in the result.

Support (`staffRetryEmail`) may also requeue a FAILED message (every
recipient refused it for good, e.g. a full mailbox the customer has since
emptied) with `failed_too`: its refusals are forgotten so each recipient is
tried again. The one-time link rule is the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.models import invitations, mail, user_tokens
from clientzone.models.base import utcnow
from clientzone.models.invitations import InvitationStatus
from clientzone.models.mail import EmailMessage, EmailStatus

# Templates whose message carries a one-time link or code, and where its token lives.
ONE_TIME = {
    "password_reset": "user_token",
    "verify_email": "user_token",
    "invitation": "invitation",
}
_CHUNK = 500


class RetryOutcome(StrEnum):
    REQUEUED = "REQUEUED"
    EXPIRED = "EXPIRED"  # its link or code no longer works: not sent again
    NOT_DEAD = "NOT_DEAD"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class RetryResult:
    message_id: uuid.UUID
    outcome: RetryOutcome
    reason: str | None = None
    message: EmailMessage | None = None


async def retry_dead_mail(
    session: AsyncSession,
    *,
    message_ids: Sequence[uuid.UUID] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    dry_run: bool = False,
    failed_too: bool = False,
) -> list[RetryResult]:
    """Requeue the messages named (each must be DEAD, or FAILED with
    `failed_too`), or every DEAD message queued in [since, until). `dry_run`
    decides without changing anything."""
    if message_ids is not None:
        found = {m.id: m for m in await _by_ids(session, message_ids)}
        named = list(dict.fromkeys(message_ids))
        results = [RetryResult(i, RetryOutcome.NOT_FOUND) for i in named if i not in found]
        rows = [found[i] for i in named if i in found]
    else:
        results, rows = [], await mail.dead_messages(session, since=since, until=until)
    for start in range(0, len(rows), _CHUNK):
        results += await _retry(session, rows[start : start + _CHUNK], dry_run, failed_too)
    return results


async def _by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[EmailMessage]:
    rows: list[EmailMessage] = []
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        rows += await mail.messages_by_ids(session, unique[start : start + _CHUNK])
    return rows


async def _retry(
    session: AsyncSession, rows: list[EmailMessage], dry_run: bool, failed_too: bool
) -> list[RetryResult]:
    hashes = [m.token_hash for m in rows if m.token_hash and m.template in ONE_TIME]
    tokens = await user_tokens.tokens_by_hash(session, hashes)
    invited = await invitations.invitations_by_token_hash(session, hashes)
    decided: list[RetryResult] = []
    retryable = {EmailStatus.DEAD, EmailStatus.FAILED} if failed_too else {EmailStatus.DEAD}
    for row in rows:
        if row.status not in retryable:
            reason = f"it is {row.status.value}, not DEAD"
            decided.append(RetryResult(row.id, RetryOutcome.NOT_DEAD, reason, row))
            continue
        expired = _expired(row, tokens, invited)
        outcome = RetryOutcome.EXPIRED if expired else RetryOutcome.REQUEUED
        decided.append(RetryResult(row.id, outcome, expired, row))
    if dry_run:
        return decided
    wanted = [r.message_id for r in decided if r.outcome is RetryOutcome.REQUEUED]
    requeued = await mail.requeue_dead(session, wanted, failed_too=failed_too)
    return [
        RetryResult(r.message_id, RetryOutcome.NOT_DEAD, "it was requeued meanwhile", r.message)
        if r.outcome is RetryOutcome.REQUEUED and r.message_id not in requeued
        else r
        for r in decided
    ]


def _expired(
    row: EmailMessage,
    tokens: dict[str, user_tokens.UserToken],
    invited: dict[str, invitations.Invitation],
) -> str | None:
    """Why the message's link or code no longer works; None when it does (or
    the message carries none)."""
    where = ONE_TIME.get(row.template)
    if where is None:
        return None
    if row.token_hash is None:
        return "its one-time link or code cannot be checked (queued before they were recorded)"
    if where == "invitation":
        invitation = invited.get(row.token_hash)
        if invitation is None:
            return "the invitation was resent with a new link since"
        status = invitation.status
        if status is InvitationStatus.EXPIRED:
            return (
                f"the invitation expired at {invitation.expires_at:%Y-%m-%d %H:%M} UTC; "
                "resend it with resendInvitation"
            )
        if status is not InvitationStatus.PENDING:
            return f"the invitation is {status.value.lower()}"
        return None
    token = tokens.get(row.token_hash)
    if token is None:
        return "its link or code no longer exists"
    if user_tokens.is_live(token):
        return None
    what = "reset code" if row.template == "password_reset" else "verification link"
    if token.used_at is not None:
        return f"the {what} was used or replaced by a newer request; the person must ask again"
    if token.expires_at <= utcnow():
        return (
            f"the {what} expired at {token.expires_at:%Y-%m-%d %H:%M} UTC; "
            "the person must ask again"
        )
    return f"the {what} is locked after too many wrong attempts; the person must ask again"
