"""The signed-in person's own details."""

from __future__ import annotations

from enum import StrEnum

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.mailers.outbox import notify_user
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
    before = viewer.user
    async with ctx.transaction() as session:
        user = await users.update_personal_details(
            session,
            user_id=before.id,
            first_name=names["firstName"],
            last_name=names["lastName"],
            locale=locale,
        )
        changed = [
            field
            for field in ("first_name", "last_name", "locale")
            if getattr(before, field) != getattr(user, field)
        ]
        if changed:
            await notify_user(
                session,
                ctx.settings,
                user=user,
                template="personal_details_changed",
                changed=changed,
            )
    return Outcome(value=user)
