"""Password strength, changing a password, resetting a forgotten one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from clientzone.resolvers import passwords as resolvers
from clientzone.resolvers.passwords import (
    ChangePasswordErrorCode,
    RequestPasswordResetErrorCode,
    ResetPasswordErrorCode,
    VerifyResetCodeErrorCode,
)
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors
from clientzone.schema.sessions import SessionType
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
strawberry.enum(VerifyResetCodeErrorCode)


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
class VerifyResetCodeInput:
    login: str = strawberry.field(
        description="The email or customer number the reset was asked with."
    )
    code: str = strawberry.field(description="The emailed 6-digit code.")


@strawberry.type
class VerifyResetCodeError(UserError):
    code: VerifyResetCodeErrorCode


@strawberry.type
class VerifyResetCodePayload:
    grant: str | None = strawberry.field(
        description="Single use, for resetPassword(input: {grant, newPassword}). The code is spent."
    )
    expires_at: datetime | None = strawberry.field(description="When the grant stops working.")
    user_errors: list[VerifyResetCodeError]


async def verify_reset_code(info: Info, input: VerifyResetCodeInput) -> VerifyResetCodePayload:
    outcome = await resolvers.verify_reset_code(info.context, login=input.login, code=input.code)
    return VerifyResetCodePayload(
        grant=outcome.value.grant if outcome.value else None,
        expires_at=outcome.value.expires_at if outcome.value else None,
        user_errors=user_errors(VerifyResetCodeError, outcome.errors, info.context.locale),
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
    grant: str | None = strawberry.field(
        default=None,
        description="Instead of login + code: the grant from verifyResetCode. "
        "The person is then signed in.",
    )
    new_password: str = strawberry.field(description="10-128 characters, hard to guess.")
    remember: bool = strawberry.field(default=False, description="With grant: as login's remember.")
    issue_token: bool = strawberry.field(
        default=False, description="With grant: return a bearer token, as login's issueToken."
    )


@strawberry.type
class ResetPasswordError(UserError):
    code: ResetPasswordErrorCode


@strawberry.type
class ResetPasswordPayload:
    reset: bool = strawberry.field(
        description="True when the password changed. Every older session ended."
    )
    user: User | None = strawberry.field(description="With grant: the person now signed in.")
    session: SessionType | None = strawberry.field(description="With grant: the new session.")
    token: str | None = strawberry.field(
        description="With grant and issueToken: send it as `Authorization: Bearer <token>`."
    )
    user_errors: list[ResetPasswordError]


async def reset_password(info: Info, input: ResetPasswordInput) -> ResetPasswordPayload:
    outcome = await resolvers.reset_password(
        info.context,
        login=input.login,
        code=input.code,
        token=input.token,
        grant=input.grant,
        new_password=input.new_password,
        remember=input.remember,
        issue_token=input.issue_token,
    )
    signed_in = outcome.value.signed_in if outcome.value else None
    return ResetPasswordPayload(
        reset=outcome.value is not None,
        user=User.from_row(signed_in.user) if signed_in else None,
        session=SessionType.from_row(signed_in.session, info) if signed_in else None,
        token=signed_in.token if signed_in else None,
        user_errors=user_errors(ResetPasswordError, outcome.errors, info.context.locale),
    )
