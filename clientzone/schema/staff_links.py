"""ADMIN links an account under a parent, or unlinks it (resolvers/staff_links.py)."""

from __future__ import annotations

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.models.accounts import Account as AccountRow
from clientzone.resolvers import staff_links as resolvers
from clientzone.resolvers.staff_links import StaffLinkErrorCode
from clientzone.resolvers.validation import Outcome
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors
from clientzone.schema.staff import StaffCustomer

strawberry.enum(StaffLinkErrorCode)


@strawberry.type
class StaffLinkError(UserError):
    code: StaffLinkErrorCode


@strawberry.type
class StaffAccountLinkPayload:
    account: StaffCustomer | None
    parent_id: strawberry.ID | None = strawberry.field(
        description="The parent Account's ID now; null: on its own."
    )
    user_errors: list[StaffLinkError]


def _payload(
    info: Info, outcome: Outcome[AccountRow, StaffLinkErrorCode]
) -> StaffAccountLinkPayload:
    row = outcome.value
    return StaffAccountLinkPayload(
        account=StaffCustomer.from_row(row) if row else None,
        parent_id=strawberry.ID(encode_global_id("Account", row.parent_id))
        if row and row.parent_id
        else None,
        user_errors=user_errors(StaffLinkError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="Put an account under a parent, saying why (audited).")
class StaffLinkAccountInput:
    account_id: strawberry.ID
    parent_id: strawberry.ID
    reason: str


async def staff_link_account(info: Info, input: StaffLinkAccountInput) -> StaffAccountLinkPayload:
    outcome = await resolvers.set_account_parent(
        info.context, str(input.account_id), str(input.parent_id), input.reason
    )
    return _payload(info, outcome)


@strawberry.input(description="Take a linked account from its parent, saying why (audited).")
class StaffUnlinkAccountInput:
    account_id: strawberry.ID
    reason: str


async def staff_unlink_account(
    info: Info, input: StaffUnlinkAccountInput
) -> StaffAccountLinkPayload:
    outcome = await resolvers.set_account_parent(
        info.context, str(input.account_id), None, input.reason
    )
    return _payload(info, outcome)
