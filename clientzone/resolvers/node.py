"""`node(id:)`: any object by global ID, with the same access rules as everywhere."""

from __future__ import annotations

from clientzone.auth.access import reachable_account, require_viewer
from clientzone.auth.context import Context
from clientzone.errors import NotFound
from clientzone.ids import decode_global_id
from clientzone.models.accounts import Account
from clientzone.models.mail import EmailMessage
from clientzone.models.users import User
from clientzone.resolvers.mail import account_email


async def node(ctx: Context, global_id: str) -> Account | User | EmailMessage:
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
    if type_name == "EmailMessage":
        return await account_email(ctx, row_id)
    raise NotFound
