"""The Query and Mutation roots."""

from __future__ import annotations

import strawberry

from clientzone.models.accounts import Account as AccountRow
from clientzone.models.mail import EmailMessage as EmailMessageRow
from clientzone.resolvers import accounts as account_resolvers
from clientzone.resolvers import node as node_resolvers
from clientzone.schema.accounts import Account
from clientzone.schema.info import Info
from clientzone.schema.mail import EmailMessageType
from clientzone.schema.node import Node
from clientzone.schema.users import UpdatePersonalDetailsPayload, User, update_personal_details
from clientzone.schema.viewer import Viewer


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in person; null when anonymous.")
    def viewer(self, info: Info) -> Viewer | None:
        viewer = info.context.viewer
        return None if viewer is None else Viewer(user=User.from_row(viewer.user))

    @strawberry.field(description="An account you reach; without `id`, the active account.")
    async def account(self, info: Info, id: strawberry.ID | None = None) -> Account | None:
        found = await account_resolvers.account(info.context, id)
        return None if found is None else Account.from_row(found[0])

    @strawberry.field(description="Any object by its ID. Objects you cannot see are NOT_FOUND.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        row = await node_resolvers.node(info.context, id)
        if isinstance(row, AccountRow):
            return Account.from_row(row)
        if isinstance(row, EmailMessageRow):
            return EmailMessageType.from_row(row)
        return User.from_row(row)


@strawberry.type
class Mutation:
    update_personal_details: UpdatePersonalDetailsPayload = strawberry.mutation(
        resolver=update_personal_details,
        description="Change your own name or language.",
    )
