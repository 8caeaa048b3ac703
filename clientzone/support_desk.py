"""What support staff do to a case until the staff API exists: answer (publicly
or as an internal note) and move it through its statuses. Used by the
`clientzone case` commands; each action is one transaction with its activity
row and its notification, announced to live subscribers once committed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.case_updates import CaseUpdateKind, announce
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.events import EventBus
from clientzone.models import cases as models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Actor, ActorKind, record_activity
from clientzone.models.cases import AuthorKind, Case, CaseComment, CaseStatus
from clientzone.resolvers.cases import COMMENT_MAX, move_case, notify_case


class DeskError(Exception):
    """A staff action that cannot be done; the message says why."""


def _staff(author: str) -> Actor:
    return Actor(ActorKind.STAFF, None, author)


async def _case(session: AsyncSession, number: int) -> tuple[Case, Account]:
    found = await models.case_by_number(session, number)
    case = await models.lock_case(session, case_id=found.id) if found else None
    account = await session.get(Account, case.account_id) if case else None
    if case is None or account is None:
        raise DeskError(f"no case {models.NUMBER_PREFIX}{number:06d}")
    return case, account


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
    text = body.strip()
    if not text or len(text) > COMMENT_MAX:
        raise DeskError(f"a comment has 1 to {COMMENT_MAX} characters")
    async with database.transaction() as session:
        case, account = await _case(session, number)
        if case.status is CaseStatus.CLOSED:
            raise DeskError(f"{case.display_number} is closed")
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
                actor=_staff(author),
                action=ActivityAction.CASE_COMMENTED,
                target=case.display_number,
            )
            await notify_case(
                settings, session, account, case, "case_comment_added", author=author, comment=text
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
        case, account = await _case(session, number)
        previous = case.status
        if not await move_case(settings, session, account, case, status, _staff(author)):
            raise DeskError(
                f"{case.display_number} cannot go from {previous.value} to {status.value}"
            )
    await announce(events, case.id, CaseUpdateKind.STATUS_CHANGED)
    return case
