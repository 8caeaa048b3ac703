"""The staff side of the schema: `Query.staff` and the `staff...` mutations.

Every field here declares the least staff role that may use it
(auth/staff.py); customers get FORBIDDEN and anonymous callers
UNAUTHENTICATED. The fields are in the one public SDL: hiding them would
hide nothing (each resolver refuses non-staff), and one schema keeps the
explorer, clients and the matrix test simple.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from clientzone.auth.staff import staff_only, viewer_staff
from clientzone.core.errors import NotFound
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.models import cases as case_models
from clientzone.models import staff as models
from clientzone.models.accounts import Account as AccountRow
from clientzone.models.case_desk import WAITING_ON_SUPPORT, DeskFilter
from clientzone.models.cases import AuthorKind, CaseStatus
from clientzone.models.staff import StaffRole
from clientzone.models.users import User as UserRow
from clientzone.resolvers import staff as resolvers
from clientzone.resolvers import staff_backoffice as backoffice
from clientzone.resolvers import staff_billing as billing
from clientzone.resolvers import staff_cases as case_resolvers
from clientzone.resolvers import staff_mail as mail_resolvers
from clientzone.resolvers.cases import category_of
from clientzone.resolvers.payment_options import quotes_transfer_reference, transfer_reference
from clientzone.resolvers.staff import SecondFactorErrorCode
from clientzone.resolvers.staff_backoffice import StaffAccountErrorCode, StaffLoginErrorCode
from clientzone.resolvers.staff_cases import StaffCaseErrorCode
from clientzone.resolvers.validation import Outcome
from clientzone.schema.accounts import Account
from clientzone.schema.announcements import StaffAnnouncement, staff_announcements
from clientzone.schema.cases import (
    CaseAttachment,
    CaseFieldValue,
    CaseSubcategory,
    read_upload,
)
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.mail import as_utc
from clientzone.schema.pagination import Connection, page_request
from clientzone.schema.payloads import user_errors
from clientzone.schema.payments import Payment
from clientzone.schema.staff_email_changes import (
    StaffEmailChangeRequest,
    staff_email_change_requests,
)
from clientzone.schema.staff_mail import StaffEmail

strawberry.enum(
    StaffRole,
    description="SUPPORT_AGENT reads accounts and answers cases; BILLING_AGENT also "
    "handles payments; ADMIN also manages staff and reads the staff audit log.",
)
strawberry.enum(models.StaffAction, description="What a staff member did.")
strawberry.enum(SecondFactorErrorCode)
strawberry.enum(StaffCaseErrorCode)
strawberry.enum(StaffLoginErrorCode)
strawberry.enum(StaffAccountErrorCode)


@strawberry.type(description="The signed-in staff member.")
class StaffMe:
    email: str
    role: StaffRole
    second_factor_enrolled: bool = strawberry.field(
        description="False until staffConfirmSecondFactor."
    )
    second_factor_verified: bool = strawberry.field(
        description="Whether this session proved the second factor; staff fields need it."
    )


@strawberry.type(description="One staff action: who, when, on what, why, from where.")
class StaffAuditEntry:
    id: strawberry.ID
    action: models.StaffAction
    staff_email: str
    account_id: strawberry.ID | None
    target: str | None = strawberry.field(description="The account number, an email...")
    reason: str | None
    case_number: str | None
    ip: str | None
    user_agent: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.StaffAuditRecord) -> StaffAuditEntry:
        return cls(
            id=strawberry.ID(encode_global_id("StaffAuditEntry", row.id)),
            action=row.action,
            staff_email=row.staff_email,
            account_id=strawberry.ID(encode_global_id("Account", row.account_id))
            if row.account_id
            else None,
            target=row.target,
            reason=row.reason,
            case_number=row.case_number,
            ip=row.ip,
            user_agent=row.user_agent,
            created_at=row.created_at,
        )


@strawberry.type(
    description="An account found by support's search: enough to pick the right one. "
    "Open it with `staff.account(id:, reason:)` to see the rest (audited)."
)
class StaffCustomer:
    id: strawberry.ID = strawberry.field(description="The Account's ID.")
    number: str
    name: str
    company_name: str | None
    status: str
    email: str | None
    tax_id: str | None
    phone: str | None
    mobile_phone: str | None

    @classmethod
    def from_row(cls, row: AccountRow) -> StaffCustomer:
        return cls(
            id=strawberry.ID(encode_global_id("Account", row.id)),
            number=row.number,
            name=row.name,
            company_name=row.company_name,
            status=row.status.value,
            email=row.email,
            tax_id=row.tax_id,
            phone=row.phone,
            mobile_phone=row.mobile_phone,
        )


@strawberry.type(description="A bank transfer a customer reported, waiting for billing staff.")
class StaffTransfer:
    payment: Payment
    account: StaffCustomer
    expected_reference: str = strawberry.field(
        description="The reference this account's customers are asked to quote in transfers."
    )
    quotes_expected_reference: bool = strawberry.field(
        description="Whether the reported reference carries the expected one, check digits "
        "included: a strong sign the transfer is this account's."
    )


@strawberry.input(description="Narrow the staff audit log.")
class StaffAuditFilterInput:
    account_id: strawberry.ID | None = None
    staff_user_id: strawberry.ID | None = None
    action: models.StaffAction | None = None


@strawberry.type(description="What support staff can see. Every field needs a staff role.")
class StaffQuery:
    @strawberry.field(
        description="Who you are on the staff side; usable before the second factor.",
        extensions=staff_only(before_second_factor=True),
    )
    async def me(self, info: Info) -> StaffMe:
        ctx = info.context
        staff = await viewer_staff(ctx)
        assert staff is not None
        assert ctx.viewer is not None
        return StaffMe(
            email=ctx.viewer.user.email,
            role=staff.role,
            second_factor_enrolled=staff.totp_confirmed_at is not None,
            second_factor_verified=ctx.viewer.session.second_factor_at is not None,
        )

    @strawberry.field(
        description="Open any account to read it, saying why (and the case number, if any). "
        "Audited; the customer sees that support viewed the account.",
        extensions=staff_only(),
    )
    async def account(
        self,
        info: Info,
        id: strawberry.ID,
        reason: str,
        case_number: str | None = None,
    ) -> Account:
        row = await resolvers.open_account(
            info.context, str(id), reason=reason, case_number=case_number
        )
        return Account.from_row(row)

    @strawberry.field(
        description="Find accounts by customer number, email (of the account, a contact or a "
        "login), tax id, phone, or three or more letters of the name; by customer number.",
        extensions=staff_only(),
    )
    async def customers(
        self,
        info: Info,
        search: str,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StaffCustomer]:
        ctx = info.context
        request = page_request(first, after, last, before)
        page = await resolvers.customers(ctx, search, request)
        return Connection.from_page(
            page,
            [StaffCustomer.from_row(row) for row in page.rows],
            lambda: resolvers.customers_count(ctx, search),
        )

    @strawberry.field(
        description="The desk: cases of every account, oldest waiting first.",
        extensions=staff_only(),
    )
    async def cases(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: StaffCaseFilterInput | None = None,
    ) -> Connection[StaffCase]:
        return await staff_cases(info, first, after, last, before, filter)

    @strawberry.field(
        description="One case of any account, internal notes included.",
        extensions=staff_only(),
    )
    async def case(self, info: Info, id: strawberry.ID) -> StaffCase:
        return await staff_case(info, id)

    @strawberry.field(
        description="Transfers customers reported, oldest first, for billing staff to "
        "confirm (staffConfirmTransfer) or reject (staffRejectTransfer).",
        extensions=staff_only(StaffRole.BILLING_AGENT),
    )
    async def transfers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StaffTransfer]:
        ctx = info.context
        page = await billing.reported_transfers(ctx, page_request(first, after, last, before))
        accounts = await ctx.loaders.account_by_id.load_many([p.account_id for p in page.rows])
        nodes = []
        for payment, row in zip(page.rows, accounts, strict=True):
            assert row is not None  # a payment goes with its account
            nodes.append(
                StaffTransfer(
                    payment=Payment.from_row(payment),
                    account=StaffCustomer.from_row(row),
                    expected_reference=transfer_reference(row),
                    quotes_expected_reference=quotes_transfer_reference(payment.reference, row),
                )
            )
        return Connection.from_page(page, nodes, lambda: billing.reported_transfers_count(ctx))

    email_change_requests: Connection[StaffEmailChangeRequest] = strawberry.field(
        resolver=staff_email_change_requests,
        description="Login-email changes awaiting staff (EMAIL_CHANGE=staff), oldest first: "
        "staffApproveEmailChange (ADMIN) or staffRejectEmailChange.",
        extensions=staff_only(),
    )

    announcements: Connection[StaffAnnouncement] = strawberry.field(
        resolver=staff_announcements,
        description="Every announcement, newest first, withdrawn and expired ones too (ADMIN).",
        extensions=staff_only(StaffRole.ADMIN),
    )

    @strawberry.field(
        description="Mail that did not reach its recipients (DEAD or FAILED), of every "
        "account and login, newest first: narrow by account or by part of a recipient's "
        "address, then send one again with staffRetryEmail.",
        extensions=staff_only(),
    )
    async def undelivered_emails(
        self,
        info: Info,
        account_id: strawberry.ID | None = None,
        recipient: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StaffEmail]:
        ctx = info.context
        wanted = mail_resolvers.undelivered_filter(
            str(account_id) if account_id is not None else None, recipient
        )
        page = await mail_resolvers.undelivered(
            ctx, page_request(first, after, last, before), *wanted
        )
        return Connection.from_page(
            page,
            [StaffEmail.from_row(row) for row in page.rows],
            lambda: mail_resolvers.undelivered_count(ctx, *wanted),
        )

    @strawberry.field(
        description="Everything staff did, newest first (ADMIN).",
        extensions=staff_only(StaffRole.ADMIN),
    )
    async def audit_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: StaffAuditFilterInput | None = None,
    ) -> Connection[StaffAuditEntry]:
        ctx = info.context
        wanted = filter or StaffAuditFilterInput()
        audit_filter = resolvers.audit_filter(
            account_global_id=str(wanted.account_id) if wanted.account_id is not None else None,
            staff_global_id=str(wanted.staff_user_id) if wanted.staff_user_id is not None else None,
            action=wanted.action,
        )
        request = page_request(first, after, last, before)
        page = await resolvers.audit_log(ctx, request, audit_filter)
        return Connection.from_page(
            page,
            [StaffAuditEntry.from_row(row) for row in page.rows],
            lambda: resolvers.audit_count(ctx, audit_filter),
        )


async def staff(info: Info) -> StaffQuery:
    return StaffQuery()


@strawberry.input
class StaffEnrolSecondFactorInput:
    current_password: str


@strawberry.type
class StaffSecondFactorError(UserError):
    code: SecondFactorErrorCode


@strawberry.type
class StaffEnrolSecondFactorPayload:
    secret: str | None = strawberry.field(
        description="Base32 secret for an authenticator app; shown only here."
    )
    provisioning_uri: str | None = strawberry.field(description="otpauth:// URI (as a QR code).")
    user_errors: list[StaffSecondFactorError]


async def staff_enrol_second_factor(
    info: Info, input: StaffEnrolSecondFactorInput
) -> StaffEnrolSecondFactorPayload:
    outcome = await resolvers.enrol_second_factor(
        info.context, current_password=input.current_password
    )
    secret, uri = outcome.value or (None, None)
    return StaffEnrolSecondFactorPayload(
        secret=secret,
        provisioning_uri=uri,
        user_errors=user_errors(StaffSecondFactorError, outcome.errors, info.context.locale),
    )


@strawberry.input
class StaffConfirmSecondFactorInput:
    code: str = strawberry.field(description="The 6-digit code the app shows now.")


@strawberry.type
class StaffConfirmSecondFactorPayload:
    recovery_codes: list[str] | None = strawberry.field(
        description="Ten one-time codes for when the app is lost; shown only here."
    )
    user_errors: list[StaffSecondFactorError]


async def staff_confirm_second_factor(
    info: Info, input: StaffConfirmSecondFactorInput
) -> StaffConfirmSecondFactorPayload:
    outcome = await resolvers.confirm_second_factor(info.context, code=input.code)
    return StaffConfirmSecondFactorPayload(
        recovery_codes=outcome.value,
        user_errors=user_errors(StaffSecondFactorError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="A code from the app, or one of the recovery codes.")
class StaffVerifySecondFactorInput:
    code: str | None = None
    recovery_code: str | None = None


@strawberry.type
class StaffVerifySecondFactorPayload:
    verified: bool
    user_errors: list[StaffSecondFactorError]


async def staff_verify_second_factor(
    info: Info, input: StaffVerifySecondFactorInput
) -> StaffVerifySecondFactorPayload:
    outcome = await resolvers.verify_second_factor(
        info.context, code=input.code, recovery_code=input.recovery_code
    )
    return StaffVerifySecondFactorPayload(
        verified=bool(outcome.value),
        user_errors=user_errors(StaffSecondFactorError, outcome.errors, info.context.locale),
    )


@strawberry.type(description="A comment as staff see it: internal notes included.")
class StaffCaseComment:
    id: strawberry.ID
    body: str
    author_name: str
    author_kind: AuthorKind
    internal: bool = strawberry.field(description="A note between staff; customers never see it.")
    created_at: datetime

    @classmethod
    def from_row(cls, row: case_models.CaseComment) -> StaffCaseComment:
        return cls(
            id=strawberry.ID(encode_global_id("CaseComment", row.id)),
            body=row.body,
            author_name=row.author_name,
            author_kind=row.author_kind,
            internal=row.internal,
            created_at=row.created_at,
        )


@strawberry.type(description="A case on the staff desk, from any account.")
class StaffCase:
    id: strawberry.ID = strawberry.field(description="The Case's ID.")
    number: str
    subject: str
    description: str
    status: CaseStatus
    category_id: strawberry.ID
    waiting_since: datetime = strawberry.field(
        description="The last public change: the desk lists the oldest first."
    )
    created_at: datetime
    row: strawberry.Private[case_models.Case]

    @classmethod
    def from_row(cls, row: case_models.Case) -> StaffCase:
        return cls(
            id=strawberry.ID(encode_global_id("Case", row.id)),
            number=row.display_number,
            subject=row.subject,
            description=row.description,
            status=row.status,
            category_id=strawberry.ID(encode_global_id("CaseCategory", row.category_id)),
            waiting_since=row.updated_at,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="The account's ID and customer number.")
    async def account(self, info: Info) -> StaffCustomer | None:
        row = await info.context.loaders.account_by_id.load(self.row.account_id)
        return StaffCustomer.from_row(row) if row else None

    @strawberry.field(description="The kind of request, with the fields it asks for.")
    async def subcategory(self, info: Info) -> CaseSubcategory:
        _, subcategory = await category_of(info.context, self.row)
        return CaseSubcategory.of(subcategory, info.context.locale)

    @strawberry.field(
        description="The extra fields the customer entered (e.g. the new user's details "
        "of a DATABASE_UPDATE), in the subcategory's order."
    )
    async def fields(self, info: Info) -> list[CaseFieldValue]:
        return await CaseFieldValue.of_case(info, self.row)

    @strawberry.field(description="The staff member handling it; null: in the queue.")
    async def assignee(self, info: Info) -> StaffMemberRef | None:
        if self.row.assignee_id is None:
            return None
        user = await info.context.loaders.user_by_id.load(self.row.assignee_id)
        return StaffMemberRef.from_row(user) if user else None

    @strawberry.field(description="Every comment, internal notes included, oldest first.")
    async def comments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StaffCaseComment]:
        ctx = info.context
        request = page_request(first, after, last, before)
        page = await case_resolvers.comments(ctx, self.row.id, request)
        return Connection.from_page(
            page,
            [StaffCaseComment.from_row(row) for row in page.rows],
            lambda: case_resolvers.comments_count(ctx, self.row.id),
        )


@strawberry.type(description="A staff member, as shown on a case.")
class StaffMemberRef:
    id: strawberry.ID = strawberry.field(description="The User's ID (for staffAssignCase).")
    email: str
    name: str

    @classmethod
    def from_row(cls, user: UserRow) -> StaffMemberRef:
        return cls(
            id=strawberry.ID(encode_global_id("User", user.id)),
            email=user.email,
            name=f"{user.first_name} {user.last_name}".strip(),
        )


@strawberry.input(description="Narrow the desk; without `statuses`, cases waiting on support.")
class StaffCaseFilterInput:
    statuses: list[CaseStatus] | None = None
    category_id: strawberry.ID | None = strawberry.field(
        default=None, description="The queue: a case category."
    )
    assignee_id: strawberry.ID | None = None
    unassigned: bool = False
    search: str | None = strawberry.field(
        default=None, description="A case number, or words of the subject or description."
    )
    waiting_since: datetime | None = strawberry.field(
        default=None,
        description="Only cases waiting since before this time (their waitingSince is "
        "earlier): e.g. now minus a day for the ones unanswered for over a day. Without an "
        "offset, UTC.",
    )

    def to_filter(self) -> DeskFilter:
        category = decode_id_of("CaseCategory", str(self.category_id)) if self.category_id else None
        assignee = decode_id_of("User", str(self.assignee_id)) if self.assignee_id else None
        if (self.category_id and category is None) or (self.assignee_id and assignee is None):
            raise NotFound
        return DeskFilter(
            statuses=frozenset(self.statuses) if self.statuses else WAITING_ON_SUPPORT,
            category_id=category,
            assignee_id=assignee,
            unassigned=self.unassigned,
            search=(self.search or "")[:200] or None,
            waiting_before=as_utc(self.waiting_since),
        )


async def staff_cases(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: StaffCaseFilterInput | None = None,
) -> Connection[StaffCase]:
    ctx = info.context
    flt = (filter or StaffCaseFilterInput()).to_filter()
    page = await case_resolvers.desk(ctx, flt, page_request(first, after, last, before))
    return Connection.from_page(
        page,
        [StaffCase.from_row(row) for row in page.rows],
        lambda: case_resolvers.desk_count(ctx, flt),
    )


async def staff_case(info: Info, id: strawberry.ID) -> StaffCase:
    row = await case_resolvers.read_case(info.context, str(id))
    return StaffCase.from_row(row)


@strawberry.type
class StaffCaseError(UserError):
    code: StaffCaseErrorCode


@strawberry.type
class StaffCasePayload:
    case: StaffCase | None
    user_errors: list[StaffCaseError]


def _case_payload(
    info: Info, outcome: Outcome[case_models.Case, StaffCaseErrorCode]
) -> StaffCasePayload:
    return StaffCasePayload(
        case=StaffCase.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(StaffCaseError, outcome.errors, info.context.locale),
    )


@strawberry.input
class StaffCommentCaseInput:
    case_id: strawberry.ID
    body: str
    internal: bool = strawberry.field(
        default=False, description="An internal note: never shown nor sent to the customer."
    )


async def staff_comment_case(info: Info, input: StaffCommentCaseInput) -> StaffCasePayload:
    outcome = await case_resolvers.comment_case(
        info.context, str(input.case_id), body=input.body, internal=input.internal
    )
    return _case_payload(info, outcome)


@strawberry.input(description="A document for the customer on a case (multipart request).")
class StaffAddCaseAttachmentInput:
    case_id: strawberry.ID
    file: Upload


@strawberry.type
class StaffAddCaseAttachmentPayload:
    attachment: CaseAttachment | None
    case: StaffCase | None
    user_errors: list[StaffCaseError]


async def staff_add_case_attachment(
    info: Info, input: StaffAddCaseAttachmentInput
) -> StaffAddCaseAttachmentPayload:
    ctx = info.context
    upload = await read_upload(input.file, ctx.settings.case_attachment_max_bytes)
    outcome = await case_resolvers.attach_to_case(ctx, str(input.case_id), upload)
    case = await case_resolvers.read_case(ctx, str(input.case_id)) if outcome.value else None
    return StaffAddCaseAttachmentPayload(
        attachment=CaseAttachment.from_row(outcome.value) if outcome.value else None,
        case=StaffCase.from_row(case) if case else None,
        user_errors=user_errors(StaffCaseError, outcome.errors, ctx.locale),
    )


@strawberry.input
class StaffSetCaseStatusInput:
    case_id: strawberry.ID
    status: CaseStatus


async def staff_set_case_status(info: Info, input: StaffSetCaseStatusInput) -> StaffCasePayload:
    outcome = await case_resolvers.set_case_status(
        info.context, str(input.case_id), status=input.status
    )
    return _case_payload(info, outcome)


@strawberry.input
class StaffAssignCaseInput:
    case_id: strawberry.ID
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None, description="A staff member's User ID; null puts the case back in the queue."
    )


async def staff_assign_case(info: Info, input: StaffAssignCaseInput) -> StaffCasePayload:
    outcome = await case_resolvers.assign_case(
        info.context,
        str(input.case_id),
        assignee_global_id=str(input.assignee_id) if input.assignee_id is not None else None,
    )
    return _case_payload(info, outcome)


@strawberry.type
class StaffLoginError(UserError):
    code: StaffLoginErrorCode


@strawberry.type(description="A customer's login as support sees it.")
class StaffLogin:
    email: str
    status: str = strawberry.field(description="ACTIVE or DISABLED.")
    email_verified: bool


@strawberry.type
class StaffLoginPayload:
    login: StaffLogin | None
    user_errors: list[StaffLoginError]


def _login_payload(info: Info, outcome: Outcome[UserRow, StaffLoginErrorCode]) -> StaffLoginPayload:
    user = outcome.value
    return StaffLoginPayload(
        login=StaffLogin(
            email=user.email,
            status=user.status.value,
            email_verified=user.email_verified_at is not None,
        )
        if user
        else None,
        user_errors=user_errors(StaffLoginError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="A login, by its email.")
class StaffLoginInput:
    email: str


@strawberry.input(description="A login, by its email, and why (kept in the audit log).")
class StaffLoginStatusInput:
    email: str
    reason: str | None = None


async def staff_disable_login(info: Info, input: StaffLoginStatusInput) -> StaffLoginPayload:
    outcome = await backoffice.set_login_enabled(
        info.context, input.email, enabled=False, reason=(input.reason or "")[:500] or None
    )
    return _login_payload(info, outcome)


async def staff_enable_login(info: Info, input: StaffLoginStatusInput) -> StaffLoginPayload:
    outcome = await backoffice.set_login_enabled(
        info.context, input.email, enabled=True, reason=(input.reason or "")[:500] or None
    )
    return _login_payload(info, outcome)


async def staff_send_password_reset(info: Info, input: StaffLoginInput) -> StaffLoginPayload:
    return _login_payload(info, await backoffice.send_password_reset(info.context, input.email))


async def staff_resend_verification(info: Info, input: StaffLoginInput) -> StaffLoginPayload:
    return _login_payload(info, await backoffice.resend_verification(info.context, input.email))


async def staff_clear_login_block(info: Info, input: StaffLoginInput) -> StaffLoginPayload:
    return _login_payload(info, await backoffice.clear_login_block(info.context, input.email))


@strawberry.type
class StaffAccountError(UserError):
    code: StaffAccountErrorCode


@strawberry.input(description="The PIN the caller says, to check against the account's.")
class StaffVerifySecurityPinInput:
    account_id: strawberry.ID
    pin: str


@strawberry.type
class StaffVerifySecurityPinPayload:
    matches: bool | None = strawberry.field(
        description="Whether it is the account's PIN (the PIN itself is never shown)."
    )
    user_errors: list[StaffAccountError]


async def staff_verify_security_pin(
    info: Info, input: StaffVerifySecurityPinInput
) -> StaffVerifySecurityPinPayload:
    outcome = await backoffice.verify_security_pin(info.context, str(input.account_id), input.pin)
    return StaffVerifySecurityPinPayload(
        matches=outcome.value,
        user_errors=user_errors(StaffAccountError, outcome.errors, info.context.locale),
    )


@strawberry.input(description="Invite the first user of an account nobody reaches yet.")
class StaffSendFirstInvitationInput:
    account_id: strawberry.ID
    email: str


@strawberry.type
class StaffSendFirstInvitationPayload:
    sent: bool
    user_errors: list[StaffAccountError]


async def staff_send_first_invitation(
    info: Info, input: StaffSendFirstInvitationInput
) -> StaffSendFirstInvitationPayload:
    outcome = await backoffice.send_first_invitation(
        info.context, str(input.account_id), input.email
    )
    return StaffSendFirstInvitationPayload(
        sent=outcome.value is not None,
        user_errors=user_errors(StaffAccountError, outcome.errors, info.context.locale),
    )
