"""Password strength, changing a password, resetting a forgotten one."""

from __future__ import annotations

from typing import Annotated

import strawberry

from clientzone.resolvers import passwords as resolvers
from clientzone.resolvers.passwords import (
    ChangePasswordErrorCode,
    RequestPasswordResetErrorCode,
    ResetPasswordErrorCode,
)
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors
from clientzone.schema.users import User


@strawberry.type(description="How hard a password is to guess, for a strength meter.")
class PasswordStrength:
    score: int = strawberry.field(description="0 (guessed at once) to 4 (very hard).")
    acceptable: bool = strawberry.field(description="Whether the password policy accepts it.")
    problem: str | None = strawberry.field(
        description="TOO_SHORT, TOO_LONG, CONTAINS_PERSONAL_INFO or TOO_WEAK when not acceptable."
    )
    warning: str | None = strawberry.field(description="Localized: what makes it weak.")
    suggestions: list[str] = strawberry.field(description="Localized: how to improve it.")


async def password_strength(
    info: Info,
    password: str,
    personal_info: Annotated[
        list[str] | None,
        strawberry.argument(
            description="Words that must not make the password: email, names typed so far "
            "(up to 5). A signed-in viewer's own email and names are always included."
        ),
    ] = None,
) -> PasswordStrength:
    strength = await resolvers.password_strength(info.context, password, personal_info or [])
    return PasswordStrength(
        score=strength.score,
        acceptable=strength.acceptable,
        problem=strength.problem.value if strength.problem else None,
        warning=strength.warning,
        suggestions=strength.suggestions,
    )


strawberry.enum(ChangePasswordErrorCode)
strawberry.enum(RequestPasswordResetErrorCode)
strawberry.enum(ResetPasswordErrorCode)


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str = strawberry.field(description="10-128 characters, hard to guess.")


@strawberry.type
class ChangePasswordError(UserError):
    code: ChangePasswordErrorCode


@strawberry.type
class ChangePasswordPayload:
    user: User | None
    user_errors: list[ChangePasswordError]


async def change_password(info: Info, input: ChangePasswordInput) -> ChangePasswordPayload:
    outcome = await resolvers.change_password(
        info.context, current_password=input.current_password, new_password=input.new_password
    )
    return ChangePasswordPayload(
        user=User.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(ChangePasswordError, outcome.errors, info.context.locale),
    )


@strawberry.input
class RequestPasswordResetInput:
    login: str = strawberry.field(description="The login's email, or a customer number.")


@strawberry.type
class RequestPasswordResetError(UserError):
    code: RequestPasswordResetErrorCode


@strawberry.type
class RequestPasswordResetPayload:
    accepted: bool = strawberry.field(
        description="Always true: whether the login exists is never told."
    )
    user_errors: list[RequestPasswordResetError]


async def request_password_reset(
    info: Info, input: RequestPasswordResetInput
) -> RequestPasswordResetPayload:
    outcome = await resolvers.request_password_reset(info.context, login=input.login)
    return RequestPasswordResetPayload(
        accepted=bool(outcome.value),
        user_errors=user_errors(RequestPasswordResetError, outcome.errors, info.context.locale),
    )


@strawberry.input
class ResetPasswordInput:
    login: str | None = strawberry.field(
        default=None, description="The email or customer number the reset was asked with."
    )
    code: str | None = strawberry.field(default=None, description="The emailed 6-digit code.")
    token: str | None = strawberry.field(
        default=None, description="Instead of login + code: the token from the emailed link."
    )
    new_password: str = strawberry.field(description="10-128 characters, hard to guess.")


@strawberry.type
class ResetPasswordError(UserError):
    code: ResetPasswordErrorCode


@strawberry.type
class ResetPasswordPayload:
    reset: bool = strawberry.field(
        description="True when the password changed. Every session ended: sign in again."
    )
    user_errors: list[ResetPasswordError]


async def reset_password(info: Info, input: ResetPasswordInput) -> ResetPasswordPayload:
    outcome = await resolvers.reset_password(
        info.context,
        login=input.login,
        code=input.code,
        token=input.token,
        new_password=input.new_password,
    )
    return ResetPasswordPayload(
        reset=bool(outcome.value),
        user_errors=user_errors(ResetPasswordError, outcome.errors, info.context.locale),
    )
