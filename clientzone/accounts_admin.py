"""Staff tasks on accounts that have no API yet: linking an account under a parent.

Linking is one level deep (a parent is not itself linked, a linked account has
no children) and is recorded in both accounts' activity.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from clientzone.db import Database
from clientzone.models.accounts import Account, account_by_number, update_account
from clientzone.models.activity import SYSTEM, ActivityAction, Change, record_activity


class LinkError(Exception):
    pass


async def link_account(database: Database, *, child: str, parent: str | None) -> None:
    async with database.transaction() as session:
        account = await account_by_number(session, child)
        if account is None:
            raise LinkError(f"no account {child}")
        parent_account = await account_by_number(session, parent) if parent else None
        if parent and parent_account is None:
            raise LinkError(f"no account {parent}")
        if parent_account is not None:
            if parent_account.id == account.id:
                raise LinkError("an account cannot be linked under itself")
            if parent_account.parent_id is not None:
                raise LinkError(f"{parent} is itself linked: links are one level deep")
            has_children = await session.execute(
                select(col(Account.id)).where(col(Account.parent_id) == account.id).limit(1)
            )
            if has_children.first() is not None:
                raise LinkError(f"{child} has linked accounts: links are one level deep")
        before = account.parent_id
        new_parent = parent_account.id if parent_account else None
        if before == new_parent:
            return
        old_parent = await session.get(Account, before) if before else None
        await update_account(session, account.id, parent_id=new_parent)
        change = Change("parent", old_parent.number if old_parent else None, parent)
        touched = {account.id, before, new_parent} - {None}
        for target in touched:
            assert target is not None
            record_activity(
                session,
                account_id=target,
                actor=SYSTEM,
                action=ActivityAction.ACCOUNT_LINKED,
                target=child,
                changes=[change],
            )
