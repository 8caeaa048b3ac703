"""The person who logs in, and the mutation to edit their own details."""

from __future__ import annotations

from datetime import datetime

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.models import users as models
from clientzone.resolvers import users as resolvers
from clientzone.resolvers.users import UpdatePersonalDetailsErrorCode
from clientzone.schema.enums import Locale
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.node import Node
from clientzone.schema.payloads import user_errors


@strawberry.type(description="A person with a login (an email).")
class User(Node):
    email: str
    first_name: str
    last_name: str
    locale: Locale
    email_verified: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.User) -> User:
        return cls(
            id=strawberry.ID(encode_global_id("User", row.id)),
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            locale=row.locale,
            email_verified=row.email_verified_at is not None,
            created_at=row.created_at,
        )


strawberry.enum(UpdatePersonalDetailsErrorCode)


@strawberry.input
class UpdatePersonalDetailsInput:
    first_name: str | None = strawberry.field(default=None, description="1-100 characters.")
    last_name: str | None = strawberry.field(default=None, description="1-100 characters.")
    locale: Locale | None = None


@strawberry.type
class UpdatePersonalDetailsError(UserError):
    code: UpdatePersonalDetailsErrorCode


@strawberry.type
class UpdatePersonalDetailsPayload:
    user: User | None
    user_errors: list[UpdatePersonalDetailsError]


async def update_personal_details(
    info: Info, input: UpdatePersonalDetailsInput
) -> UpdatePersonalDetailsPayload:
    outcome = await resolvers.update_personal_details(
        info.context,
        first_name=input.first_name,
        last_name=input.last_name,
        locale=input.locale,
    )
    return UpdatePersonalDetailsPayload(
        user=User.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(UpdatePersonalDetailsError, outcome.errors, info.context.locale),
    )
