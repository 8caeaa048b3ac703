"""Support cases: categories, cases, comments, attachments and their mutations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import date, datetime

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from clientzone.auth.context import Context
from clientzone.auth.permissions import input_object, scoped_account
from clientzone.core.ids import decode_id_of, encode_global_id
from clientzone.models import cases as models
from clientzone.models.users import Locale
from clientzone.realtime.case_updates import CaseUpdateKind
from clientzone.resolvers import cases as resolvers
from clientzone.resolvers import documents as document_resolvers
from clientzone.resolvers.cases import CaseErrorCode, UploadedFile
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.invoices import Invoice
from clientzone.schema.node import Node
from clientzone.schema.orders import Order
from clientzone.schema.pagination import Connection, page_request
from clientzone.schema.payloads import user_errors

strawberry.enum(
    models.CaseStatus,
    description="NEW -> IN_PROGRESS <-> WAITING_ON_CUSTOMER -> RESOLVED -> CLOSED (final); "
    "a customer's comment on a WAITING_ON_CUSTOMER or RESOLVED case moves it to IN_PROGRESS.",
)
strawberry.enum(models.CaseFieldKind, description="How an extra field is entered.")
strawberry.enum(models.AuthorKind, description="Who wrote a comment or added a file.")
strawberry.enum(CaseUpdateKind, description="What changed in a case.")
strawberry.enum(CaseErrorCode)


def _name(locale: Locale, es: str, en: str) -> str:
    return en if locale is Locale.EN else es


@strawberry.type(description="An extra field a subcategory asks for, in `fields`.")
class CaseFieldDefinition:
    key: str = strawberry.field(description="Send it as `fields: [{key, value}]`.")
    label: str
    kind: models.CaseFieldKind
    required: bool
    max_length: int
    minimum: int | None
    maximum: int | None


@strawberry.type(description="A kind of request or claim within a category.")
class CaseSubcategory:
    id: strawberry.ID
    code: str = strawberry.field(description="Stable code, e.g. INVOICE_CLAIM.")
    name: str
    requires_invoice: bool = strawberry.field(
        description="`invoiceId` must name one of the account's invoices."
    )
    requires_order: bool
    fields: list[CaseFieldDefinition]

    @classmethod
    def of(cls, row: models.CaseSubcategory, locale: Locale) -> CaseSubcategory:
        return cls(
            id=strawberry.ID(encode_global_id("CaseSubcategory", row.id)),
            code=row.code,
            name=_name(locale, row.name_es, row.name_en),
            requires_invoice=row.requires_invoice,
            requires_order=row.requires_order,
            fields=[
                CaseFieldDefinition(
                    key=spec.key,
                    label=_name(locale, spec.label_es, spec.label_en),
                    kind=spec.kind,
                    required=spec.required,
                    max_length=spec.max_length,
                    minimum=spec.minimum,
                    maximum=spec.maximum,
                )
                for spec in row.specs
            ],
        )


@strawberry.type(description="A group of subcategories: other requests, claims...")
class CaseCategory:
    id: strawberry.ID
    code: str = strawberry.field(description="Stable code, e.g. CLAIMS.")
    name: str
    subcategories: list[CaseSubcategory]


async def case_categories(info: Info) -> list[CaseCategory]:
    ctx = info.context
    found = await resolvers.categories(ctx)
    return [
        CaseCategory(
            id=strawberry.ID(encode_global_id("CaseCategory", category.id)),
            code=category.code,
            name=_name(ctx.locale, category.name_es, category.name_en),
            subcategories=[CaseSubcategory.of(s, ctx.locale) for s in subs],
        )
        for category, subs in found
    ]


@strawberry.type(description="The value of an extra field.")
class CaseFieldValue:
    key: str
    label: str
    value: str

    @classmethod
    async def of_case(cls, info: Info, row: models.Case) -> list[CaseFieldValue]:
        """A case's extra fields in the subcategory's order, labelled in the
        request's language (for customers and staff alike)."""
        _, subcategory = await resolvers.category_of(info.context, row)
        locale = info.context.locale
        return [
            cls(key=spec.key, label=_name(locale, spec.label_es, spec.label_en), value=value)
            for spec, value in resolvers.field_values(subcategory, row)
        ]


@strawberry.type(description="A comment on a case, by the customer or by support.")
class CaseComment(Node):
    body: str
    author_name: str
    author_kind: models.AuthorKind
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.CaseComment) -> CaseComment:
        return cls(
            id=strawberry.ID(encode_global_id("CaseComment", row.id)),
            body=row.body,
            author_name=row.author_name,
            author_kind=row.author_kind,
            created_at=row.created_at,
        )


@strawberry.type(description="A file attached to a case.")
class CaseAttachment(Node):
    filename: str
    content_type: str = strawberry.field(description="Recognised from the content.")
    size: int = strawberry.field(description="Bytes.")
    sha256: str
    author_kind: models.AuthorKind
    created_at: datetime

    @strawberry.field(description="A download link valid for 10 minutes, for you only.")
    def url(self, info: Info) -> str:
        row_id = decode_id_of("CaseAttachment", str(self.id))
        assert row_id is not None
        return document_resolvers.link(info.context, "case-attachment", row_id)

    @classmethod
    def from_row(cls, row: models.CaseAttachment) -> CaseAttachment:
        return cls(
            id=strawberry.ID(encode_global_id("CaseAttachment", row.id)),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            author_kind=row.author_kind,
            created_at=row.created_at,
        )


@strawberry.type(description="A support request or claim.")
class Case(Node):
    number: str = strawberry.field(description="e.g. CS-000123; never reused.")
    subject: str
    description: str
    status: models.CaseStatus
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    row: strawberry.Private[models.Case]

    @classmethod
    def from_row(cls, row: models.Case) -> Case:
        return cls(
            id=strawberry.ID(encode_global_id("Case", row.id)),
            number=row.display_number,
            subject=row.subject,
            description=row.description,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
            row=row,
        )

    @strawberry.field
    async def category(self, info: Info) -> CaseCategory:
        category, _ = await resolvers.category_of(info.context, self.row)
        return CaseCategory(
            id=strawberry.ID(encode_global_id("CaseCategory", category.id)),
            code=category.code,
            name=_name(info.context.locale, category.name_es, category.name_en),
            subcategories=[],
        )

    @strawberry.field
    async def subcategory(self, info: Info) -> CaseSubcategory:
        _, subcategory = await resolvers.category_of(info.context, self.row)
        return CaseSubcategory.of(subcategory, info.context.locale)

    @strawberry.field(description="The subcategory's extra fields, as entered.")
    async def fields(self, info: Info) -> list[CaseFieldValue]:
        return await CaseFieldValue.of_case(info, self.row)

    @strawberry.field(description="The invoice claimed; null without INVOICES_VIEW.")
    async def invoice(self, info: Info) -> Invoice | None:
        found = await resolvers.invoice_of(info.context, self.row)
        return Invoice.from_row(found) if found else None

    @strawberry.field(description="The order concerned; null without ORDERS_VIEW.")
    async def order(self, info: Info) -> Order | None:
        found = await resolvers.order_of(info.context, self.row)
        return Order.from_row(found) if found else None

    @strawberry.field(description="Who opened it (their name), when still a login.")
    async def created_by(self, info: Info) -> str | None:
        if self.row.created_by is None:
            return None
        user = await info.context.loaders.user_by_id.load(self.row.created_by)
        return resolvers.author_name(user) if user else None

    @strawberry.field(description="The conversation, oldest first.")
    async def comments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CaseComment]:
        ctx = info.context
        page = await resolvers.comments(ctx, self.row, page_request(first, after, last, before))
        return Connection.from_page(
            page,
            [CaseComment.from_row(row) for row in page.rows],
            lambda: resolvers.comments_count(ctx, self.row),
        )

    @strawberry.field(description="Files, oldest first.")
    async def attachments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CaseAttachment]:
        ctx = info.context
        page = await resolvers.attachments(ctx, self.row, page_request(first, after, last, before))
        return Connection.from_page(
            page,
            [CaseAttachment.from_row(row) for row in page.rows],
            lambda: resolvers.attachments_count(ctx, self.row),
        )


@strawberry.input(description="Narrow the cases; dates are inclusive (UTC).")
class CaseFilterInput:
    number: str | None = strawberry.field(default=None, description="CS-000123, or just 123.")
    category_id: strawberry.ID | None = None
    subcategory_id: strawberry.ID | None = None
    status: models.CaseStatus | None = None
    created_from: date | None = None
    created_to: date | None = None
    search: str | None = strawberry.field(
        default=None, description="Words in the subject or description."
    )

    def to_filter(self) -> models.CaseFilter:
        number_text = (self.number or "").strip()
        category_id = subcategory_id = None
        if self.category_id is not None:
            category_id = decode_id_of("CaseCategory", str(self.category_id)) or uuid.UUID(int=0)
        if self.subcategory_id is not None:
            subcategory_id = decode_id_of("CaseSubcategory", str(self.subcategory_id)) or (
                uuid.UUID(int=0)
            )
        return models.CaseFilter(
            number=models.parse_number(number_text) if number_text else None,
            number_given=bool(number_text),
            category_id=category_id,
            subcategory_id=subcategory_id,
            status=self.status,
            created_from=self.created_from,
            created_to=self.created_to,
            search=(self.search or "").strip()[:100] or None,
        )


@strawberry.type
class CaseError(UserError):
    code: CaseErrorCode


@strawberry.input(description="An extra field's value (see CaseSubcategory.fields).")
class CaseFieldInput:
    key: str
    value: str


@strawberry.input(description="Open a case. Files need a multipart request.")
class CreateCaseInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    category_id: strawberry.ID
    subcategory_id: strawberry.ID
    subject: str = strawberry.field(description="Up to 255 characters.")
    description: str = strawberry.field(description="Up to 32,000 characters.")
    fields: list[CaseFieldInput] = strawberry.field(default_factory=list)
    invoice_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required by subcategories with requiresInvoice."
    )
    order_id: strawberry.ID | None = None
    attachments: list[Upload] = strawberry.field(default_factory=list)


@strawberry.type
class CreateCasePayload:
    case: Case | None
    user_errors: list[CaseError]


async def read_upload(upload: Upload, limit: int) -> UploadedFile:
    """The upload's name and up to `limit + 1` bytes (enough to tell it is too large).
    Anything but a file part (a string sent in JSON) reads as an empty file."""
    if not isinstance(upload, UploadFile):
        return UploadedFile("file", b"")
    file: UploadFile = upload
    try:
        return UploadedFile(str(file.filename or "file"), await file.read(limit + 1))
    finally:
        await file.close()


async def create_case(info: Info, input: CreateCaseInput) -> CreateCasePayload:
    ctx = info.context
    limit = ctx.settings.case_attachment_max_bytes
    files = [await read_upload(upload, limit) for upload in input.attachments]
    outcome = await resolvers.create_case(
        ctx,
        scoped_account(info),
        resolvers.NewCase(
            category_id=str(input.category_id),
            subcategory_id=str(input.subcategory_id),
            subject=input.subject,
            description=input.description,
            fields=[(field.key, field.value) for field in input.fields],
            invoice_id=str(input.invoice_id) if input.invoice_id else None,
            order_id=str(input.order_id) if input.order_id else None,
            attachments=files,
        ),
    )
    return CreateCasePayload(
        case=Case.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(CaseError, outcome.errors, ctx.locale),
    )


async def _account_of_case(ctx: Context, case_id: uuid.UUID) -> uuid.UUID | None:
    return await resolvers.account_of_case(ctx, case_id)


case_in_input = input_object("case_id", "Case", _account_of_case)


def _case_id(global_id: strawberry.ID) -> uuid.UUID:
    case_id = decode_id_of("Case", str(global_id))
    assert case_id is not None  # the permission check decoded it already
    return case_id


@strawberry.input
class AddCaseCommentInput:
    case_id: strawberry.ID
    body: str = strawberry.field(description="Up to 32,000 characters.")


@strawberry.type
class AddCaseCommentPayload:
    comment: CaseComment | None
    case: Case | None = strawberry.field(description="Null without CASES_VIEW.")
    user_errors: list[CaseError]


async def add_case_comment(info: Info, input: AddCaseCommentInput) -> AddCaseCommentPayload:
    ctx = info.context
    account = scoped_account(info)
    outcome = await resolvers.add_comment(ctx, account, _case_id(input.case_id), input.body)
    case = await resolvers.case(ctx, account, _case_id(input.case_id)) if outcome.value else None
    return AddCaseCommentPayload(
        comment=CaseComment.from_row(outcome.value) if outcome.value else None,
        case=Case.from_row(case) if case else None,
        user_errors=user_errors(CaseError, outcome.errors, ctx.locale),
    )


@strawberry.input(description="Attach a file (multipart request).")
class AddCaseAttachmentInput:
    case_id: strawberry.ID
    file: Upload


@strawberry.type
class AddCaseAttachmentPayload:
    attachment: CaseAttachment | None
    case: Case | None = strawberry.field(description="Null without CASES_VIEW.")
    user_errors: list[CaseError]


async def add_case_attachment(
    info: Info, input: AddCaseAttachmentInput
) -> AddCaseAttachmentPayload:
    ctx = info.context
    account = scoped_account(info)
    upload = await read_upload(input.file, ctx.settings.case_attachment_max_bytes)
    outcome = await resolvers.add_attachment(ctx, account, _case_id(input.case_id), upload)
    case = await resolvers.case(ctx, account, _case_id(input.case_id)) if outcome.value else None
    return AddCaseAttachmentPayload(
        attachment=CaseAttachment.from_row(outcome.value) if outcome.value else None,
        case=Case.from_row(case) if case else None,
        user_errors=user_errors(CaseError, outcome.errors, ctx.locale),
    )


@strawberry.input
class CloseCaseInput:
    case_id: strawberry.ID


@strawberry.type
class CloseCasePayload:
    case: Case | None = strawberry.field(description="Null without CASES_VIEW.")
    user_errors: list[CaseError]


async def close_case(info: Info, input: CloseCaseInput) -> CloseCasePayload:
    ctx = info.context
    account = scoped_account(info)
    outcome = await resolvers.close_case(ctx, account, _case_id(input.case_id))
    case = await resolvers.case(ctx, account, _case_id(input.case_id)) if outcome.value else None
    return CloseCasePayload(
        case=Case.from_row(case) if case else None,
        user_errors=user_errors(CaseError, outcome.errors, ctx.locale),
    )


@strawberry.type(description="Something changed in a case you follow.")
class CaseUpdate:
    kind: CaseUpdateKind
    case: Case


async def case_updated(info: Info, case_id: strawberry.ID) -> AsyncGenerator[CaseUpdate, None]:
    async for kind, row in resolvers.follow_case(info.context, str(case_id)):
        yield CaseUpdate(kind=kind, case=Case.from_row(row))
