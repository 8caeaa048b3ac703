"""The signed-in person's own details."""

from __future__ import annotations

from enum import StrEnum

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.models import users
from clientzone.models.users import Locale, User
from clientzone.resolvers.validation import FieldErrors, Outcome

NAME_MAX_LENGTH = 100


class UpdatePersonalDetailsErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"


async def update_personal_details(
    ctx: Context,
    *,
    first_name: str | None,
    last_name: str | None,
    locale: Locale | None,
) -> Outcome[User, UpdatePersonalDetailsErrorCode]:
    viewer = require_viewer(ctx)
    errors: FieldErrors[UpdatePersonalDetailsErrorCode] = FieldErrors()
    code = UpdatePersonalDetailsErrorCode
    names = {
        path: errors.text(
            path, value, maximum=NAME_MAX_LENGTH, required=code.REQUIRED, too_long=code.TOO_LONG
        )
        for path, value in (("firstName", first_name), ("lastName", last_name))
    }
    if errors:
        return Outcome(errors=errors.errors)
    async with ctx.transaction() as session:
        user = await users.update_personal_details(
            session,
            user_id=viewer.user.id,
            first_name=names["firstName"],
            last_name=names["lastName"],
            locale=locale,
        )
    return Outcome(value=user)
