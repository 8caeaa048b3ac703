"""The Query and Mutation roots."""

from __future__ import annotations

import strawberry

from clientzone.models.accounts import Account as AccountRow
from clientzone.models.mail import EmailMessage as EmailMessageRow
from clientzone.resolvers import accounts as account_resolvers
from clientzone.resolvers import node as node_resolvers
from clientzone.schema import email_verification, legacy, passwords, sessions
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

    password_strength: passwords.PasswordStrength = strawberry.field(
        resolver=passwords.password_strength,
        description="Score a password for a strength meter (send it as a variable, by POST).",
    )


@strawberry.type
class Mutation:
    login: sessions.LoginPayload = strawberry.mutation(
        resolver=sessions.login,
        description="Sign in with email and password: sets the session cookie.",
    )
    logout: sessions.LogoutPayload = strawberry.mutation(
        resolver=sessions.logout, description="End this session, or all of them."
    )
    revoke_session: sessions.RevokeSessionPayload = strawberry.mutation(
        resolver=sessions.revoke_session, description="End one of your sessions or tokens."
    )
    sign_up: email_verification.SignUpPayload = strawberry.mutation(
        resolver=email_verification.sign_up,
        description="Create a login; it works once the emailed link is opened.",
    )
    request_email_verification: email_verification.RequestEmailVerificationPayload = (
        strawberry.mutation(
            resolver=email_verification.request_email_verification,
            description="Send a new verification link.",
        )
    )
    verify_email: email_verification.VerifyEmailPayload = strawberry.mutation(
        resolver=email_verification.verify_email,
        description="Open a verification link: confirms the email (or switches to a new one).",
    )
    change_email: email_verification.ChangeEmailPayload = strawberry.mutation(
        resolver=email_verification.change_email,
        description="Ask to change your login email; it switches once the new one is verified.",
    )
    change_password: passwords.ChangePasswordPayload = strawberry.mutation(
        resolver=passwords.change_password,
        description="Change your password; your other sessions end.",
    )
    request_password_reset: passwords.RequestPasswordResetPayload = strawberry.mutation(
        resolver=passwords.request_password_reset,
        description="Email a reset code and link to the login, if it exists.",
    )
    reset_password: passwords.ResetPasswordPayload = strawberry.mutation(
        resolver=passwords.reset_password,
        description="Set a new password with the emailed code; every session ends.",
    )
    claim_legacy_account: legacy.ClaimLegacyAccountPayload = strawberry.mutation(
        resolver=legacy.claim_legacy_account,
        description="Add an account of the old portal to your login with its old credentials.",
    )
    update_personal_details: UpdatePersonalDetailsPayload = strawberry.mutation(
        resolver=update_personal_details,
        description="Change your own name or language.",
    )
