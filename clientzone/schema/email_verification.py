"""Signing up, verifying an email, changing the login email."""

from __future__ import annotations

import strawberry

from clientzone.resolvers import email_verification as resolvers
from clientzone.resolvers.email_verification import (
    ChangeEmailErrorCode,
    EmailChangeOutcome,
    SignUpErrorCode,
    VerifyEmailErrorCode,
)
from clientzone.schema.enums import Locale
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors
from clientzone.schema.users import User

strawberry.enum(SignUpErrorCode)
strawberry.enum(VerifyEmailErrorCode)
strawberry.enum(ChangeEmailErrorCode)
strawberry.enum(
    EmailChangeOutcome,
    description="LINK_SENT: open the link sent to the new email to switch; AWAITING_STAFF: "
    "staff review the change first (viewer.pendingEmailChange), then the link is sent.",
)


@strawberry.input
class SignUpInput:
    email: str
    password: str = strawberry.field(description="10-128 characters, hard to guess.")
    first_name: str
    last_name: str
    locale: Locale | None = None


@strawberry.type
class SignUpError(UserError):
    code: SignUpErrorCode


@strawberry.type
class SignUpPayload:
    accepted: bool = strawberry.field(
        description="True when the input was valid: check your email for the link. "
        "Whether the email already had a login is never told."
    )
    user_errors: list[SignUpError]


async def sign_up(info: Info, input: SignUpInput) -> SignUpPayload:
    outcome = await resolvers.sign_up(
        info.context,
        email=input.email,
        password=input.password,
        first_name=input.first_name,
        last_name=input.last_name,
        locale=input.locale,
    )
    return SignUpPayload(
        accepted=bool(outcome.value),
        user_errors=user_errors(SignUpError, outcome.errors, info.context.locale),
    )


@strawberry.input
class RequestEmailVerificationInput:
    email: str | None = strawberry.field(
        default=None,
        description="The login to send a link to; signed in, leave it out for your own email.",
    )


@strawberry.type
class RequestEmailVerificationPayload:
    accepted: bool = strawberry.field(description="Always true.")


async def request_email_verification(
    info: Info, input: RequestEmailVerificationInput | None = None
) -> RequestEmailVerificationPayload:
    email = input.email if input else None
    accepted = await resolvers.request_email_verification(info.context, email=email)
    return RequestEmailVerificationPayload(accepted=accepted)


@strawberry.input
class VerifyEmailInput:
    token: str = strawberry.field(description="The token from the emailed link.")


@strawberry.type
class VerifyEmailError(UserError):
    code: VerifyEmailErrorCode


@strawberry.type
class VerifyEmailPayload:
    user: User | None
    user_errors: list[VerifyEmailError]


async def verify_email(info: Info, input: VerifyEmailInput) -> VerifyEmailPayload:
    outcome = await resolvers.verify_email(info.context, token=input.token)
    return VerifyEmailPayload(
        user=User.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(VerifyEmailError, outcome.errors, info.context.locale),
    )


@strawberry.input
class ChangeEmailInput:
    new_email: str
    current_password: str


@strawberry.type
class ChangeEmailError(UserError):
    code: ChangeEmailErrorCode


@strawberry.type
class ChangeEmailPayload:
    accepted: bool = strawberry.field(
        description="True when the change was taken; `status` says what happens next."
    )
    status: EmailChangeOutcome | None = strawberry.field(
        description="Null when refused (see userErrors)."
    )
    user_errors: list[ChangeEmailError]


async def change_email(info: Info, input: ChangeEmailInput) -> ChangeEmailPayload:
    outcome = await resolvers.change_email(
        info.context, new_email=input.new_email, current_password=input.current_password
    )
    return ChangeEmailPayload(
        accepted=bool(outcome.value),
        status=outcome.value,
        user_errors=user_errors(ChangeEmailError, outcome.errors, info.context.locale),
    )


def signup_enabled(info: Info) -> bool:
    return info.context.settings.signup_enabled
