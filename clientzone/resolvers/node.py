"""`node(id:)`: any object by global ID, with the same access rules as everywhere."""

from __future__ import annotations

from clientzone.auth.access import reachable_account, require_viewer
from clientzone.auth.context import Context
from clientzone.errors import NotFound
from clientzone.ids import decode_global_id
from clientzone.models.accounts import Account
from clientzone.models.users import User


async def node(ctx: Context, global_id: str) -> Account | User:
    viewer = require_viewer(ctx)
    try:
        type_name, row_id = decode_global_id(global_id)
    except ValueError:
        raise NotFound from None
    if type_name == "Account":
        account, _grant = await reachable_account(ctx, row_id)
        return account
    if type_name == "User" and row_id == viewer.user.id:
        return viewer.user
    raise NotFound
