"""The Query and Mutation roots."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

import strawberry

from clientzone.auth.permissions import account_mutation
from clientzone.auth.staff import staff_only
from clientzone.models.memberships import Permission
from clientzone.models.staff import StaffRole
from clientzone.resolvers import accounts as account_resolvers
from clientzone.resolvers import node as node_resolvers
from clientzone.schema import announcements as news
from clientzone.schema import (
    api_clients,
    brands,
    cases,
    contacts,
    email_verification,
    legacy,
    members,
    ordering,
    passwords,
    payments,
    profile,
    service_changes,
    sessions,
    unification,
    webhooks,
)
from clientzone.schema import staff as staff_schema
from clientzone.schema import staff_billing as billing_schema
from clientzone.schema import staff_email_changes as email_change_schema
from clientzone.schema import staff_links as links_schema
from clientzone.schema import staff_mail as mail_schema
from clientzone.schema.accounts import Account
from clientzone.schema.activity import Activity
from clientzone.schema.contacts import Contact
from clientzone.schema.info import Info
from clientzone.schema.invoices import Invoice
from clientzone.schema.ledger import LedgerEntry
from clientzone.schema.mail import EmailMessageType
from clientzone.schema.members import Invitation, Member
from clientzone.schema.node import Node
from clientzone.schema.orders import Order, Service
from clientzone.schema.payments import Payment
from clientzone.schema.staff_billing import (
    StaffSetDocumentTypeOnlinePaymentPayload as DocumentTypePayload,
)
from clientzone.schema.users import UpdatePersonalDetailsPayload, User, update_personal_details
from clientzone.schema.viewer import Viewer

NODE_TYPES: dict[str, Callable[[Any], Node]] = {
    "Account": Account.from_row,
    "User": User.from_row,
    "EmailMessage": EmailMessageType.from_row,
    "Contact": Contact.from_row,
    "Member": lambda pair: Member.from_row(*pair),
    "Invitation": Invitation.from_row,
    "Activity": Activity.from_row,
    "LedgerEntry": LedgerEntry.from_row,
    "Invoice": Invoice.from_row,
    "Order": Order.from_row,
    "Service": Service.from_row,
    "Payment": Payment.from_row,
    "Case": cases.Case.from_row,
    "CaseComment": cases.CaseComment.from_row,
    "CaseAttachment": cases.CaseAttachment.from_row,
}


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
        type_name, row = await node_resolvers.node(info.context, id)
        return NODE_TYPES[type_name](row)

    staff: staff_schema.StaffQuery | None = strawberry.field(
        resolver=staff_schema.staff,
        description="The support staff's side (staff logins only; see docs/staff.md).",
        extensions=staff_only(before_second_factor=True),
    )
    case_categories: list[cases.CaseCategory] = strawberry.field(
        resolver=cases.case_categories,
        description="What a case can be about, with each subcategory's extra fields.",
    )
    brand: brands.Brand | None = strawberry.field(
        resolver=brands.brand,
        description="A brand for a page before sign-in (the login page's logo and colours): "
        "by `code`, else by `host`, else the default brand; null when none matches.",
    )
    password_strength: passwords.PasswordStrength = strawberry.field(
        resolver=passwords.password_strength,
        description="Score a password for a strength meter (send it as a variable, by POST).",
    )
    signup_enabled: bool = strawberry.field(
        resolver=email_verification.signup_enabled,
        description="Whether anyone may sign up with `signUp`. False on an invitation-only "
        "portal (SIGNUP_ENABLED=false): show no sign-up form there.",
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
    verify_reset_code: passwords.VerifyResetCodePayload = strawberry.mutation(
        resolver=passwords.verify_reset_code,
        description="Exchange the emailed reset code for a short-lived single-use grant.",
    )
    reset_password: passwords.ResetPasswordPayload = strawberry.mutation(
        resolver=passwords.reset_password,
        description="Set a new password with the emailed code or link, or a grant (which "
        "also signs you in); every older session ends.",
    )
    claim_legacy_account: legacy.ClaimLegacyAccountPayload = strawberry.mutation(
        resolver=legacy.claim_legacy_account,
        description="Add an account of the old portal to your login with its old credentials.",
    )
    request_account_unification: unification.RequestAccountUnificationPayload = strawberry.mutation(
        resolver=unification.request_account_unification,
        description="Ask to add an account whose email is your login email: a code and "
        "a link go to that email.",
    )
    confirm_account_unification: unification.ConfirmAccountUnificationPayload = strawberry.mutation(
        resolver=unification.confirm_account_unification,
        description="Confirm adding the account with the emailed code or link: you become "
        "its owner.",
    )
    update_personal_details: UpdatePersonalDetailsPayload = strawberry.mutation(
        resolver=update_personal_details,
        description="Change your own name or language.",
    )
    switch_account: profile.SwitchAccountPayload = strawberry.mutation(
        resolver=profile.switch_account,
        description="Make an account you reach the active one for this session.",
        extensions=account_mutation(None),
    )
    update_account_profile: profile.UpdateAccountProfilePayload = strawberry.mutation(
        resolver=profile.update_account_profile,
        description="Change the account's profile (PROFILE_EDIT); any bad field changes nothing.",
        extensions=account_mutation(Permission.PROFILE_EDIT),
    )
    set_security_pin: profile.SetSecurityPinPayload = strawberry.mutation(
        resolver=profile.set_security_pin,
        description="Set the PIN support asks for on the phone (PROFILE_EDIT).",
        extensions=account_mutation(Permission.PROFILE_EDIT),
    )
    create_contact: contacts.ContactPayload = strawberry.mutation(
        resolver=contacts.create_contact,
        description="Add a contact (CONTACTS_MANAGE).",
        extensions=account_mutation(Permission.CONTACTS_MANAGE),
    )
    update_contact: contacts.ContactPayload = strawberry.mutation(
        resolver=contacts.update_contact,
        description="Change a contact (CONTACTS_MANAGE).",
        extensions=account_mutation(Permission.CONTACTS_MANAGE, contacts.contact_in_input),
    )
    grant_contact_access: contacts.GrantContactAccessPayload = strawberry.mutation(
        resolver=contacts.grant_contact_access,
        description="Invite a contact's email as a member and link the contact to it "
        "(USERS_MANAGE).",
        extensions=account_mutation(Permission.USERS_MANAGE, contacts.contact_in_input),
    )
    delete_contact: contacts.DeleteContactPayload = strawberry.mutation(
        resolver=contacts.delete_contact,
        description="Remove a contact (CONTACTS_MANAGE).",
        extensions=account_mutation(Permission.CONTACTS_MANAGE, contacts.contact_in_input),
    )
    invite_user: members.InviteUserPayload = strawberry.mutation(
        resolver=members.invite_user,
        description="Email someone a link to join the account (USERS_MANAGE).",
        extensions=account_mutation(Permission.USERS_MANAGE),
    )
    resend_invitation: members.InvitationPayload = strawberry.mutation(
        resolver=members.resend_invitation,
        description="Send a new link, valid 48 hours; the old one stops working (USERS_MANAGE).",
        extensions=account_mutation(Permission.USERS_MANAGE, members.invitation_in_input),
    )
    revoke_invitation: members.InvitationPayload = strawberry.mutation(
        resolver=members.revoke_invitation,
        description="Cancel an invitation (USERS_MANAGE).",
        extensions=account_mutation(Permission.USERS_MANAGE, members.invitation_in_input),
    )
    accept_invitation: members.AcceptInvitationPayload = strawberry.mutation(
        resolver=members.accept_invitation,
        description="Join an account with an invitation link: signed in, or as a new login.",
    )
    update_member_permissions: members.UpdateMemberPermissionsPayload = strawberry.mutation(
        resolver=members.update_member_permissions,
        description="Change what a member may do (USERS_MANAGE).",
        extensions=account_mutation(Permission.USERS_MANAGE, members.member_in_input),
    )
    remove_member: members.RemoveMemberPayload = strawberry.mutation(
        resolver=members.remove_member,
        description="Take someone's access away, or leave the account (USERS_MANAGE).",
        extensions=account_mutation(Permission.USERS_MANAGE, members.member_in_input),
    )
    set_member_access: members.SetMemberAccessPayload = strawberry.mutation(
        resolver=members.set_member_access,
        description="Suspend or restore a member without removing them (USERS_MANAGE).",
        extensions=account_mutation(Permission.USERS_MANAGE, members.member_in_input),
    )
    transfer_ownership: members.TransferOwnershipPayload = strawberry.mutation(
        resolver=members.transfer_ownership,
        description="Make a member the owner; you stay as a member with every permission.",
        extensions=account_mutation(Permission.USERS_MANAGE, members.member_in_input),
    )
    create_api_client: api_clients.ApiClientKeyPayload = strawberry.mutation(
        resolver=api_clients.create_api_client,
        description="Create an API client for the account; its key is in this response only "
        "(INTEGRATIONS_MANAGE).",
        extensions=account_mutation(Permission.INTEGRATIONS_MANAGE),
    )
    rotate_api_client_key: api_clients.ApiClientKeyPayload = strawberry.mutation(
        resolver=api_clients.rotate_api_client_key,
        description="Give an API client a new key; the old one works for API_KEY_GRACE_HOURS "
        "(INTEGRATIONS_MANAGE).",
        extensions=account_mutation(
            Permission.INTEGRATIONS_MANAGE, api_clients.api_client_in_input
        ),
    )
    revoke_api_client: api_clients.RevokeApiClientPayload = strawberry.mutation(
        resolver=api_clients.revoke_api_client,
        description="Stop an API client: its keys and tokens stop working at once "
        "(INTEGRATIONS_MANAGE).",
        extensions=account_mutation(
            Permission.INTEGRATIONS_MANAGE, api_clients.api_client_in_input
        ),
    )
    create_webhook_endpoint: webhooks.WebhookSecretPayload = strawberry.mutation(
        resolver=webhooks.create_webhook_endpoint,
        description="Send the account's events to a URL, signed; the secret is in this "
        "response only (INTEGRATIONS_MANAGE).",
        extensions=account_mutation(Permission.INTEGRATIONS_MANAGE),
    )
    update_webhook_endpoint: webhooks.WebhookEndpointPayload = strawberry.mutation(
        resolver=webhooks.update_webhook_endpoint,
        description="Change a webhook endpoint's URL or events, or disable or enable it "
        "(INTEGRATIONS_MANAGE).",
        extensions=account_mutation(Permission.INTEGRATIONS_MANAGE, webhooks.endpoint_in_input),
    )
    delete_webhook_endpoint: webhooks.DeleteWebhookEndpointPayload = strawberry.mutation(
        resolver=webhooks.delete_webhook_endpoint,
        description="Stop sending to a webhook endpoint and forget its deliveries "
        "(INTEGRATIONS_MANAGE).",
        extensions=account_mutation(Permission.INTEGRATIONS_MANAGE, webhooks.endpoint_in_input),
    )
    rotate_webhook_secret: webhooks.WebhookSecretPayload = strawberry.mutation(
        resolver=webhooks.rotate_webhook_secret,
        description="Give a webhook endpoint a new signing secret, used from the next "
        "delivery (INTEGRATIONS_MANAGE).",
        extensions=account_mutation(Permission.INTEGRATIONS_MANAGE, webhooks.endpoint_in_input),
    )
    redeliver_webhook: webhooks.RedeliverWebhookPayload = strawberry.mutation(
        resolver=webhooks.redeliver_webhook,
        description="Send one delivery again, with the same webhook-id (INTEGRATIONS_MANAGE).",
        extensions=account_mutation(Permission.INTEGRATIONS_MANAGE, webhooks.delivery_in_input),
    )
    redeliver_webhooks: webhooks.RedeliverWebhooksPayload = strawberry.mutation(
        resolver=webhooks.redeliver_webhooks,
        description="Send again an endpoint's failed deliveries created in [from, to) "
        "(INTEGRATIONS_MANAGE).",
        extensions=account_mutation(Permission.INTEGRATIONS_MANAGE, webhooks.endpoint_in_input),
    )
    start_payment: payments.StartPaymentPayload = strawberry.mutation(
        resolver=payments.start_payment,
        description="Pay online (INVOICES_PAY), when the payment rules allow it.",
        extensions=account_mutation(Permission.INVOICES_PAY),
    )
    report_payment: payments.ReportPaymentPayload = strawberry.mutation(
        resolver=payments.report_payment,
        description="Report a bank transfer for staff to confirm (INVOICES_PAY).",
        extensions=account_mutation(Permission.INVOICES_PAY),
    )
    reset_service_credentials: service_changes.RequestServiceChangePayload = strawberry.mutation(
        resolver=service_changes.reset_service_credentials,
        description="Ask for a new control-panel password for a service (SERVICES_MANAGE): "
        "a support case for the staff.",
        extensions=account_mutation(Permission.SERVICES_MANAGE, service_changes.service_in_input),
    )
    reveal_service_credentials: service_changes.RevealServiceCredentialsPayload = (
        strawberry.mutation(
            resolver=service_changes.reveal_service_credentials,
            description="Show a service's control-panel login (SERVICES_MANAGE; people only); "
            "each reveal is written to the account's activity.",
            extensions=account_mutation(
                Permission.SERVICES_MANAGE, service_changes.service_in_input
            ),
        )
    )
    create_order: ordering.CreateOrderPayload = strawberry.mutation(
        resolver=ordering.create_order,
        description="Order products of the catalogue (ORDERS_CREATE); confirmed by email.",
        extensions=account_mutation(Permission.ORDERS_CREATE),
    )
    request_service_change: service_changes.RequestServiceChangePayload = strawberry.mutation(
        resolver=service_changes.request_service_change,
        description="Ask for an upgrade, downgrade, cancellation or renewal of a service "
        "(SERVICES_MANAGE): a support case for the staff.",
        extensions=account_mutation(Permission.SERVICES_MANAGE, service_changes.service_in_input),
    )
    create_case: cases.CreateCasePayload = strawberry.mutation(
        resolver=cases.create_case,
        description="Open a support request or claim (CASES_CREATE).",
        extensions=account_mutation(Permission.CASES_CREATE),
    )
    add_case_comment: cases.AddCaseCommentPayload = strawberry.mutation(
        resolver=cases.add_case_comment,
        description="Comment on a case (CASES_CREATE).",
        extensions=account_mutation(Permission.CASES_CREATE, cases.case_in_input),
    )
    add_case_attachment: cases.AddCaseAttachmentPayload = strawberry.mutation(
        resolver=cases.add_case_attachment,
        description="Attach a file to a case (CASES_CREATE; multipart request).",
        extensions=account_mutation(Permission.CASES_CREATE, cases.case_in_input),
    )
    close_case: cases.CloseCasePayload = strawberry.mutation(
        resolver=cases.close_case,
        description="Close a case: nothing more is needed (CASES_CREATE). Closing is final.",
        extensions=account_mutation(Permission.CASES_CREATE, cases.case_in_input),
    )
    staff_enrol_second_factor: staff_schema.StaffEnrolSecondFactorPayload = strawberry.mutation(
        resolver=staff_schema.staff_enrol_second_factor,
        description="Staff: start TOTP enrolment with your password; returns the secret once.",
        extensions=staff_only(before_second_factor=True),
    )
    staff_confirm_second_factor: staff_schema.StaffConfirmSecondFactorPayload = strawberry.mutation(
        resolver=staff_schema.staff_confirm_second_factor,
        description="Staff: turn TOTP on with a code; returns recovery codes once.",
        extensions=staff_only(before_second_factor=True),
    )
    staff_verify_second_factor: staff_schema.StaffVerifySecondFactorPayload = strawberry.mutation(
        resolver=staff_schema.staff_verify_second_factor,
        description="Staff: prove the second factor for this session (code or recovery code).",
        extensions=staff_only(before_second_factor=True),
    )
    staff_comment_case: staff_schema.StaffCasePayload = strawberry.mutation(
        resolver=staff_schema.staff_comment_case,
        description="Staff: answer a case (emailed to the customer) or add an internal note.",
        extensions=staff_only(),
    )
    staff_add_case_attachment: staff_schema.StaffAddCaseAttachmentPayload = strawberry.mutation(
        resolver=staff_schema.staff_add_case_attachment,
        description="Staff: attach a document for the customer to a case (shown as support's; "
        "comment to tell them).",
        extensions=staff_only(),
    )
    staff_set_case_status: staff_schema.StaffCasePayload = strawberry.mutation(
        resolver=staff_schema.staff_set_case_status,
        description="Staff: move a case along its statuses; the customer is told.",
        extensions=staff_only(),
    )
    staff_assign_case: staff_schema.StaffCasePayload = strawberry.mutation(
        resolver=staff_schema.staff_assign_case,
        description="Staff: give a case to a staff member, or back to the queue.",
        extensions=staff_only(),
    )

    staff_disable_login: staff_schema.StaffLoginPayload = strawberry.mutation(
        resolver=staff_schema.staff_disable_login,
        description="Staff (ADMIN): disable a login; its sessions end at once.",
        extensions=staff_only(StaffRole.ADMIN),
    )
    staff_enable_login: staff_schema.StaffLoginPayload = strawberry.mutation(
        resolver=staff_schema.staff_enable_login,
        description="Staff (ADMIN): enable a disabled login again.",
        extensions=staff_only(StaffRole.ADMIN),
    )
    staff_send_password_reset: staff_schema.StaffLoginPayload = strawberry.mutation(
        resolver=staff_schema.staff_send_password_reset,
        description="Staff: email the customer a password reset code and link.",
        extensions=staff_only(),
    )
    staff_resend_verification: staff_schema.StaffLoginPayload = strawberry.mutation(
        resolver=staff_schema.staff_resend_verification,
        description="Staff: email a new verification link to an unconfirmed login.",
        extensions=staff_only(),
    )
    staff_clear_login_block: staff_schema.StaffLoginPayload = strawberry.mutation(
        resolver=staff_schema.staff_clear_login_block,
        description="Staff: lift a login's sign-in slow-down after failed attempts.",
        extensions=staff_only(),
    )
    staff_verify_security_pin: staff_schema.StaffVerifySecurityPinPayload = strawberry.mutation(
        resolver=staff_schema.staff_verify_security_pin,
        description="Staff: check the security PIN a caller says (a few tries per hour).",
        extensions=staff_only(),
    )
    staff_send_first_invitation: staff_schema.StaffSendFirstInvitationPayload = strawberry.mutation(
        resolver=staff_schema.staff_send_first_invitation,
        description="Staff: invite the first user (the owner) of an account with none.",
        extensions=staff_only(),
    )
    staff_retry_email: mail_schema.StaffRetryEmailPayload = strawberry.mutation(
        resolver=mail_schema.staff_retry_email,
        description="Staff: send a DEAD or FAILED email again, unless its one-time link or "
        "code no longer works (EXPIRED_LINK). Audited.",
        extensions=staff_only(),
    )
    staff_approve_email_change: email_change_schema.StaffEmailChangePayload = strawberry.mutation(
        resolver=email_change_schema.staff_approve_email_change,
        description="Admin: approve a customer's login-email change; the verification link "
        "goes to the new email. Audited.",
        extensions=staff_only(StaffRole.ADMIN),
    )
    staff_reject_email_change: email_change_schema.StaffEmailChangePayload = strawberry.mutation(
        resolver=email_change_schema.staff_reject_email_change,
        description="Staff: reject a customer's login-email change, saying why (emailed). Audited.",
        extensions=staff_only(),
    )
    staff_link_account: links_schema.StaffAccountLinkPayload = strawberry.mutation(
        resolver=links_schema.staff_link_account,
        description="Admin: put an account under a parent account (one level deep); the "
        "parent's owners then reach it. Audited.",
        extensions=staff_only(StaffRole.ADMIN),
    )
    staff_unlink_account: links_schema.StaffAccountLinkPayload = strawberry.mutation(
        resolver=links_schema.staff_unlink_account,
        description="Admin: take a linked account from its parent. Audited.",
        extensions=staff_only(StaffRole.ADMIN),
    )
    staff_confirm_transfer: billing_schema.StaffPaymentPayload = strawberry.mutation(
        resolver=billing_schema.staff_confirm_transfer,
        description="Billing staff: a reported transfer arrived; post it and send the receipt.",
        extensions=staff_only(StaffRole.BILLING_AGENT),
    )
    staff_reject_transfer: billing_schema.StaffPaymentPayload = strawberry.mutation(
        resolver=billing_schema.staff_reject_transfer,
        description="Billing staff: a reported transfer did not arrive; the customer is told why.",
        extensions=staff_only(StaffRole.BILLING_AGENT),
    )
    staff_refund_payment: billing_schema.StaffPaymentPayload = strawberry.mutation(
        resolver=billing_schema.staff_refund_payment,
        description="Billing staff: refund a settled online payment, or part of it (its invoices "
        "open again).",
        extensions=staff_only(StaffRole.BILLING_AGENT),
    )
    staff_set_online_payment_limit: billing_schema.StaffSetOnlinePaymentLimitPayload = (
        strawberry.mutation(
            resolver=billing_schema.staff_set_online_payment_limit,
            description="Billing staff: an account's own limit for paying online.",
            extensions=staff_only(StaffRole.BILLING_AGENT),
        )
    )
    staff_publish_announcement: news.StaffAnnouncementPayload = strawberry.mutation(
        resolver=news.staff_publish_announcement,
        description="Staff (ADMIN): publish news to all accounts, a country, a currency or a "
        "list of accounts; optionally emailed to a contact category.",
        extensions=staff_only(StaffRole.ADMIN),
    )
    staff_withdraw_announcement: news.StaffAnnouncementPayload = strawberry.mutation(
        resolver=news.staff_withdraw_announcement,
        description="Staff (ADMIN): take an announcement down at once.",
        extensions=staff_only(StaffRole.ADMIN),
    )
    mark_announcement_read: news.MarkAnnouncementReadPayload = strawberry.mutation(
        resolver=news.mark_announcement_read,
        description="Mark an announcement you can see as read, for you alone.",
    )
    staff_set_document_type_online_payment: DocumentTypePayload = strawberry.mutation(
        resolver=billing_schema.staff_set_document_type_online_payment,
        description="Billing staff: whether invoices of a document type may be paid online.",
        extensions=staff_only(StaffRole.BILLING_AGENT),
    )


@strawberry.type
class Subscription:
    case_updated: AsyncGenerator[cases.CaseUpdate, None] = strawberry.subscription(
        resolver=cases.case_updated,
        description="Each public change of a case, as it happens (CASES_VIEW, checked again "
        "for every update). Over graphql-transport-ws on /graphql.",
    )
