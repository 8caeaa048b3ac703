"""Claiming an old portal login into the signed-in email login."""

from __future__ import annotations

import strawberry

from clientzone.resolvers import legacy as resolvers
from clientzone.resolvers.legacy import ClaimLegacyAccountErrorCode
from clientzone.schema.accounts import Account
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors

strawberry.enum(ClaimLegacyAccountErrorCode)


@strawberry.input
class ClaimLegacyAccountInput:
    customer_number: str
    username: str
    password: str


@strawberry.type
class ClaimLegacyAccountError(UserError):
    code: ClaimLegacyAccountErrorCode


@strawberry.type
class ClaimLegacyAccountPayload:
    account: Account | None = strawberry.field(description="The account now in your memberships.")
    user_errors: list[ClaimLegacyAccountError]


async def claim_legacy_account(
    info: Info, input: ClaimLegacyAccountInput
) -> ClaimLegacyAccountPayload:
    outcome = await resolvers.claim_legacy_account(
        info.context,
        customer_number=input.customer_number,
        username=input.username,
        password=input.password,
    )
    return ClaimLegacyAccountPayload(
        account=Account.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(ClaimLegacyAccountError, outcome.errors, info.context.locale),
    )
