"""The one enforcement path for account data: a field declares the permission
it needs, and this extension checks it before the resolver runs.

    @strawberry.field(extensions=[RequiresPermission(Permission.EMAILS_VIEW)])

The extension finds the account the field acts on (the `Account` it hangs
from, the `accountId` of a mutation's input or else the active account, or
the account of an object named in the input), requires the viewer to reach it
(else NOT_FOUND, exactly as if it did not exist) and to hold the permission
(else FORBIDDEN naming it). The resolver then takes that account with
`scoped_account(info)`. `None` as the permission means "any member".

The permission matrix test walks the schema for this extension, so a new
account-scoped field cannot be left out of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from clientzone.auth.access import active_grant, reachable_account, require_permission
from clientzone.auth.context import Context
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of
from clientzone.models.accounts import Account
from clientzone.models.memberships import Permission

# Finds the id of the account a field acts on, from its parent object and arguments.
AccountLocator = Callable[[Context, Any, dict[str, Any]], Awaitable[uuid.UUID]]


async def parent_account(ctx: Context, source: Any, kwargs: dict[str, Any]) -> uuid.UUID:
    """For fields of the Account type: the account itself."""
    account_id: uuid.UUID = source.row.id
    return account_id


async def input_account(ctx: Context, source: Any, kwargs: dict[str, Any]) -> uuid.UUID:
    """For mutations: `input.accountId` when given, else the active account."""
    global_id = getattr(kwargs.get("input"), "account_id", None)
    if global_id is not None:
        account_id = decode_id_of("Account", str(global_id))
        if account_id is None:
            raise NotFound
        return account_id
    grant = await active_grant(ctx)
    if grant is None:
        raise NotFound
    return grant.account_id


def input_object(
    field_name: str,
    type_name: str,
    account_of: Callable[[Context, uuid.UUID], Awaitable[uuid.UUID | None]],
) -> AccountLocator:
    """For mutations on one object (`input.contactId`): the object's account.
    An ID of the wrong type or of nothing is NOT_FOUND."""

    async def locate(ctx: Context, source: Any, kwargs: dict[str, Any]) -> uuid.UUID:
        global_id = getattr(kwargs.get("input"), field_name, None)
        object_id = decode_id_of(type_name, str(global_id)) if global_id else None
        account_id = await account_of(ctx, object_id) if object_id else None
        if account_id is None:
            raise NotFound
        return account_id

    return locate


def _key(info: Info[Context, Any]) -> tuple[str | int, ...]:
    return tuple(info.path.as_list())


class RequiresPermission(FieldExtension):
    def __init__(self, permission: Permission | None, locate: AccountLocator) -> None:
        self.permission = permission
        self.locate = locate

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Context, Any],
        **kwargs: Any,
    ) -> Any:
        ctx = info.context
        account_id = await self.locate(ctx, source, kwargs)
        if self.permission is None:
            account, _ = await reachable_account(ctx, account_id)
        else:
            account, _ = await require_permission(ctx, account_id, self.permission)
        ctx.scoped_accounts[_key(info)] = account
        return await next_(source, info, **kwargs)


def account_field(permission: Permission | None) -> list[FieldExtension]:
    """Extensions for a field of the Account type."""
    return [RequiresPermission(permission, parent_account)]


def account_mutation(
    permission: Permission | None, locate: AccountLocator = input_account
) -> list[FieldExtension]:
    """Extensions for a mutation acting on one account."""
    return [RequiresPermission(permission, locate)]


def scoped_account(info: Info[Context, Any]) -> Account:
    """The account this field's RequiresPermission checked."""
    return info.context.scoped_accounts[_key(info)]
