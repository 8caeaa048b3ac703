"""Adding an account with the same email to the signed-in login."""

from __future__ import annotations

import strawberry

from clientzone.resolvers import unification as resolvers
from clientzone.resolvers.unification import AccountUnificationErrorCode
from clientzone.schema.accounts import Account
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors

strawberry.enum(AccountUnificationErrorCode)


@strawberry.type
class AccountUnificationError(UserError):
    code: AccountUnificationErrorCode


@strawberry.input
class RequestAccountUnificationInput:
    customer_number: str = strawberry.field(
        description="The customer number of an account whose email is your login email."
    )


@strawberry.type
class RequestAccountUnificationPayload:
    accepted: bool = strawberry.field(
        description="True when a code and a link went to your login email."
    )
    user_errors: list[AccountUnificationError]


async def request_account_unification(
    info: Info, input: RequestAccountUnificationInput
) -> RequestAccountUnificationPayload:
    outcome = await resolvers.request_account_unification(
        info.context, customer_number=input.customer_number
    )
    return RequestAccountUnificationPayload(
        accepted=bool(outcome.value),
        user_errors=user_errors(AccountUnificationError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="The emailed code, or the token of the emailed link.")
class ConfirmAccountUnificationInput:
    code: str | None = strawberry.field(default=None, description="The 6-digit code.")
    token: str | None = strawberry.field(
        default=None, description="The token of the link (unify-account?token=...)."
    )


@strawberry.type
class ConfirmAccountUnificationPayload:
    account: Account | None = strawberry.field(
        description="The account now in your memberships (you are its owner)."
    )
    user_errors: list[AccountUnificationError]


async def confirm_account_unification(
    info: Info, input: ConfirmAccountUnificationInput
) -> ConfirmAccountUnificationPayload:
    outcome = await resolvers.confirm_account_unification(
        info.context, code=input.code, token=input.token
    )
    return ConfirmAccountUnificationPayload(
        account=Account.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(AccountUnificationError, outcome.errors, info.context.locale),
    )
