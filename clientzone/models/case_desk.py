"""The staff desk's inbox: every account's cases, oldest waiting first.

"Waiting" is the time of the case's last public change (`updated_at`): a
customer's new case or comment, or staff's last answer or status change. By
default the inbox holds the cases waiting on support (NEW, IN_PROGRESS).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.models.cases import Case, CaseComment, CaseStatus, parse_number
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page

WAITING_ON_SUPPORT = frozenset({CaseStatus.NEW, CaseStatus.IN_PROGRESS})
DESK_ORDER = SortKey(columns=[col(Case.updated_at), col(Case.id)])


@dataclass(frozen=True)
class DeskFilter:
    statuses: frozenset[CaseStatus] = WAITING_ON_SUPPORT
    category_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    search: str | None = None  # a case number, or words of the subject or description
    waiting_before: datetime | None = None  # waiting (last public change) since before this


def _desk(flt: DeskFilter) -> Any:
    statement = select(Case).where(col(Case.status).in_(flt.statuses))
    if flt.category_id is not None:
        statement = statement.where(col(Case.category_id) == flt.category_id)
    if flt.unassigned:
        statement = statement.where(col(Case.assignee_id).is_(None))
    elif flt.assignee_id is not None:
        statement = statement.where(col(Case.assignee_id) == flt.assignee_id)
    if flt.waiting_before is not None:
        statement = statement.where(col(Case.updated_at) < flt.waiting_before)
    search = (flt.search or "").strip()
    if search:
        number = parse_number(search)
        needle = search.lower()
        conditions: list[Any] = [
            func.lower(col(Case.subject)).contains(needle, autoescape=True),
            func.lower(col(Case.description)).contains(needle, autoescape=True),
        ]
        if number is not None:
            conditions.append(col(Case.number) == number)
        statement = statement.where(or_(*conditions))
    return statement


async def desk_page(session: AsyncSession, flt: DeskFilter, page: PageRequest) -> Page[Case]:
    return await fetch_page(
        session, _desk(flt), sort=DESK_ORDER, page=page, key_of=lambda c: (c.updated_at, c.id)
    )


async def count_desk(session: AsyncSession, flt: DeskFilter) -> int:
    subquery = _desk(flt).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())


async def staff_comments_page(
    session: AsyncSession, case_id: uuid.UUID, page: PageRequest
) -> Page[CaseComment]:
    """Every comment, internal notes included, oldest first."""
    statement = select(CaseComment).where(col(CaseComment.case_id) == case_id)
    return await fetch_page(
        session,
        statement,
        sort=SortKey(columns=[col(CaseComment.id)]),
        page=page,
        key_of=lambda c: (c.id,),
    )


async def count_staff_comments(session: AsyncSession, case_id: uuid.UUID) -> int:
    statement = select(func.count()).where(col(CaseComment.case_id) == case_id)
    return int((await session.execute(statement)).scalar_one())
