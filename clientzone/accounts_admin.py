"""Linking an account under a parent, or unlinking it: `clientzone account
link` and the ADMIN mutations staffLinkAccount / staffUnlinkAccount share
`set_parent`, which runs in the caller's transaction.

Linking is one level deep (a parent is not itself linked, a linked account has
no children) and is recorded in the activity of every account it touches (the
account, its new parent and its former one). Both accounts are locked first
(in id order), then read again, so two links at once cannot build a chain.
An account already under a parent may be moved under another one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.db import Database
from clientzone.models.accounts import Account, account_by_number, lock_account, update_account
from clientzone.models.activity import SYSTEM, ActivityAction, Actor, Change, record_activity


class LinkProblem(StrEnum):
    NO_SUCH_ACCOUNT = "NO_SUCH_ACCOUNT"
    SELF_LINK = "SELF_LINK"
    PARENT_LINKED = "PARENT_LINKED"
    HAS_CHILDREN = "HAS_CHILDREN"
    ALREADY_LINKED = "ALREADY_LINKED"
    NOT_LINKED = "NOT_LINKED"


@dataclass
class LinkError(Exception):
    problem: LinkProblem
    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Relinked:
    account: Account  # as it is now
    old_parent: Account | None
    parent: Account | None


async def _fresh(session: AsyncSession, account_id: uuid.UUID) -> Account:
    statement = select(Account).where(col(Account.id) == account_id)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one()


async def set_parent(
    session: AsyncSession,
    account_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    *,
    actor: Actor = SYSTEM,
) -> Relinked:
    """Put the account under `parent_id` (None: on its own). Raises LinkError
    when the link is not allowed or changes nothing."""
    for locked in sorted({account_id} | ({parent_id} if parent_id else set())):
        await lock_account(session, locked)
    account = await _fresh(session, account_id)
    parent = await _fresh(session, parent_id) if parent_id is not None else None
    if parent is None:
        if account.parent_id is None:
            raise LinkError(LinkProblem.NOT_LINKED, f"{account.number} is not linked")
    else:
        await _check_link(session, account, parent)
    before = account.parent_id
    old_parent = await session.get(Account, before) if before else None
    updated = await update_account(session, account.id, parent_id=parent_id)
    change = Change(
        "parent", old_parent.number if old_parent else None, parent.number if parent else None
    )
    for target in {account.id, before, parent_id} - {None}:
        assert target is not None
        record_activity(
            session,
            account_id=target,
            actor=actor,
            action=ActivityAction.ACCOUNT_LINKED,
            target=account.number,
            changes=[change],
        )
    return Relinked(updated, old_parent, parent)


async def _check_link(session: AsyncSession, account: Account, parent: Account) -> None:
    if parent.id == account.id:
        raise LinkError(LinkProblem.SELF_LINK, "an account cannot be linked under itself")
    if account.parent_id == parent.id:
        raise LinkError(
            LinkProblem.ALREADY_LINKED,
            f"{account.number} is already under {parent.number}",
            {"parent": parent.number},
        )
    if parent.parent_id is not None:
        raise LinkError(
            LinkProblem.PARENT_LINKED,
            f"{parent.number} is itself linked: links are one level deep",
            {"parent": parent.number},
        )
    has_children = await session.execute(
        select(col(Account.id)).where(col(Account.parent_id) == account.id).limit(1)
    )
    if has_children.first() is not None:
        raise LinkError(
            LinkProblem.HAS_CHILDREN,
            f"{account.number} has linked accounts: links are one level deep",
            {"account": account.number},
        )


async def link_account(database: Database, *, child: str, parent: str | None) -> None:
    """The command's form: accounts by number; linking again as it is changes nothing."""
    async with database.transaction() as session:
        account = await account_by_number(session, child)
        if account is None:
            raise LinkError(LinkProblem.NO_SUCH_ACCOUNT, f"no account {child}")
        parent_account = await account_by_number(session, parent) if parent else None
        if parent and parent_account is None:
            raise LinkError(LinkProblem.NO_SUCH_ACCOUNT, f"no account {parent}")
        new_parent = parent_account.id if parent_account else None
        if account.parent_id == new_parent:
            return
        await set_parent(session, account.id, new_parent)
