"""What support staff do to a case: answer (publicly or as an internal note),
move it through its statuses, and assign it. The staff API
(resolvers/staff_cases.py) and the `clientzone case` commands both use these;
each action runs in the caller's transaction with its activity row and its
notification, and is announced to live subscribers once committed.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.models import cases as models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Actor, ActorKind, record_activity
from clientzone.models.cases import AuthorKind, Case, CaseComment, CaseStatus
from clientzone.models.webhooks import emit
from clientzone.realtime.case_updates import CaseUpdateKind, announce
from clientzone.realtime.events import EventBus
from clientzone.resolvers.cases import COMMENT_MAX, case_data, move_case, notify_case


class DeskErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    CASE_CLOSED = "CASE_CLOSED"
    INVALID_TRANSITION = "INVALID_TRANSITION"


class DeskError(Exception):
    """A staff action that cannot be done; the message says why."""

    def __init__(self, code: DeskErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def staff_actor(author: str) -> Actor:
    return Actor(ActorKind.STAFF, None, author)


async def locked_case(
    session: AsyncSession, *, number: int | None = None, case_id: uuid.UUID | None = None
) -> tuple[Case, Account]:
    """The case (by number or id), locked for this transaction, and its account."""
    if case_id is None:
        found = await models.case_by_number(session, number) if number is not None else None
        case_id = found.id if found else None
    case = await models.lock_case(session, case_id=case_id) if case_id else None
    account = await session.get(Account, case.account_id) if case else None
    if case is None or account is None:
        shown = f"{models.NUMBER_PREFIX}{number:06d}" if number is not None else "with that id"
        raise DeskError(DeskErrorCode.NOT_FOUND, f"no case {shown}")
    return case, account


def checked_comment(body: str) -> str:
    text = body.strip()
    if not text:
        raise DeskError(DeskErrorCode.REQUIRED, "a comment needs some text")
    if len(text) > COMMENT_MAX:
        raise DeskError(DeskErrorCode.TOO_LONG, f"a comment has at most {COMMENT_MAX} characters")
    return text


async def add_comment(
    session: AsyncSession,
    settings: Settings,
    case: Case,
    account: Account,
    *,
    body: str,
    author: str,
    internal: bool,
) -> CaseComment:
    """A staff answer (emailed to the customer) or an internal note (never shown)."""
    text = checked_comment(body)
    if case.status is CaseStatus.CLOSED:
        raise DeskError(DeskErrorCode.CASE_CLOSED, f"{case.display_number} is closed")
    row = CaseComment(
        case_id=case.id,
        author_kind=AuthorKind.STAFF,
        author_name=author[:200],
        body=text,
        internal=internal,
    )
    session.add(row)
    if not internal:
        case.updated_at = row.created_at
        session.add(case)
        record_activity(
            session,
            account_id=account.id,
            actor=staff_actor(author),
            action=ActivityAction.CASE_COMMENTED,
            target=case.display_number,
        )
        await notify_case(
            settings, session, account, case, "case_comment_added", author=author, comment=text
        )
        # Public answers only: an internal note announces nothing.
        await emit(
            session,
            account.id,
            "case.updated",
            case_data(case, change="comment", commentBy="STAFF"),
        )
    return row


async def change_status(
    session: AsyncSession,
    settings: Settings,
    case: Case,
    account: Account,
    status: CaseStatus,
    author: str,
) -> None:
    """Through the transition table, notifying the customer."""
    previous = case.status
    if not await move_case(settings, session, account, case, status, staff_actor(author)):
        raise DeskError(
            DeskErrorCode.INVALID_TRANSITION,
            f"{case.display_number} cannot go from {previous.value} to {status.value}",
        )


async def comment(
    database: Database,
    settings: Settings,
    events: EventBus | None,
    *,
    number: int,
    body: str,
    author: str,
    internal: bool = False,
) -> CaseComment:
    checked_comment(body)
    async with database.transaction() as session:
        case, account = await locked_case(session, number=number)
        row = await add_comment(
            session, settings, case, account, body=body, author=author, internal=internal
        )
    await announce(events, case.id, CaseUpdateKind.COMMENT_ADDED, internal=internal)
    return row


async def set_status(
    database: Database,
    settings: Settings,
    events: EventBus | None,
    *,
    number: int,
    status: CaseStatus,
    author: str,
) -> Case:
    async with database.transaction() as session:
        case, account = await locked_case(session, number=number)
        await change_status(session, settings, case, account, status, author)
    await announce(events, case.id, CaseUpdateKind.STATUS_CHANGED)
    return case
