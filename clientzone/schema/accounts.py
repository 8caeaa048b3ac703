"""Customer accounts as the portal shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from clientzone.auth.permissions import account_field, scoped_account
from clientzone.core.ids import encode_global_id
from clientzone.models import accounts as models
from clientzone.models.invoices import InvoiceOrder
from clientzone.models.memberships import Permission
from clientzone.resolvers import accounts as resolvers
from clientzone.resolvers import activity as activity_resolvers
from clientzone.resolvers import api_clients as api_client_resolvers
from clientzone.resolvers import brands as brand_resolvers
from clientzone.resolvers import cases as case_resolvers
from clientzone.resolvers import contacts as contact_resolvers
from clientzone.resolvers import documents as document_resolvers
from clientzone.resolvers import invitations as invitation_resolvers
from clientzone.resolvers import invoices as invoice_resolvers
from clientzone.resolvers import ledger as ledger_resolvers
from clientzone.resolvers import mail as mail_resolvers
from clientzone.resolvers import members as member_resolvers
from clientzone.resolvers import orders as order_resolvers
from clientzone.resolvers import payment_options as payment_resolvers
from clientzone.resolvers import payments as payment_list_resolvers
from clientzone.resolvers import webhooks as webhook_resolvers
from clientzone.schema.activity import Activity, ActivityFilterInput
from clientzone.schema.announcements import Announcement
from clientzone.schema.announcements import announcements as account_announcements
from clientzone.schema.api_clients import ApiClient
from clientzone.schema.brands import Brand
from clientzone.schema.cases import Case, CaseFilterInput
from clientzone.schema.contacts import Contact, ContactFilterInput
from clientzone.schema.cost import Cost
from clientzone.schema.enums import AccountStatus, Locale
from clientzone.schema.info import Info
from clientzone.schema.invoices import Invoice, InvoiceFilterInput
from clientzone.schema.ledger import LedgerEntry, Statement
from clientzone.schema.mail import EmailFilterInput, EmailMessageType
from clientzone.schema.members import Invitation, Member
from clientzone.schema.node import Node
from clientzone.schema.ordering import Product, catalogue
from clientzone.schema.orders import Order, OrderFilterInput, Service, ServiceFilterInput
from clientzone.schema.pagination import Connection, page_request
from clientzone.schema.payment_options import PaymentOptions
from clientzone.schema.payments import Payment
from clientzone.schema.scalars import Money
from clientzone.schema.webhooks import WebhookEndpoint


@strawberry.type(description="A postal address.")
class Address:
    street: str | None
    neighborhood: str | None = strawberry.field(description="Colonia, barrio.")
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 code.")


@strawberry.type(description="Who the customer is and how to reach them.")
class AccountProfile:
    company_name: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    mobile_phone: str | None
    address: Address
    tax_id: str | None = strawberry.field(description="RFC, CUIT, NIF... as registered.")
    has_security_pin: bool
    locale: Locale
    email_bouncing: bool = strawberry.field(
        description="The mail server refused `email` for good: the account's own "
        "copies are not sent until the email is changed."
    )
    monthly_statement: bool = strawberry.field(
        description="A statement of each month is emailed (INVOICES) in the first days of the next."
    )

    @classmethod
    def from_row(cls, row: models.Account) -> AccountProfile:
        return cls(
            company_name=row.company_name,
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            phone=row.phone,
            mobile_phone=row.mobile_phone,
            address=Address(
                street=row.street,
                neighborhood=row.neighborhood,
                city=row.city,
                state=row.state,
                postal_code=row.postal_code,
                country=row.country,
            ),
            tax_id=row.tax_id,
            has_security_pin=row.security_pin_hash is not None,
            locale=row.locale,
            email_bouncing=row.email_bouncing,
            monthly_statement=row.monthly_statement,
        )


@strawberry.type(description="A customer account.")
class Account(Node):
    number: str = strawberry.field(description="Customer number.")
    name: str
    status: AccountStatus
    currency: str = strawberry.field(description="ISO 4217 code of the account's currency.")
    created_at: datetime
    profile: AccountProfile
    row: strawberry.Private[models.Account]

    @classmethod
    def from_row(cls, row: models.Account) -> Account:
        return cls(
            id=strawberry.ID(encode_global_id("Account", row.id)),
            number=row.number,
            name=row.name,
            status=row.status,
            currency=row.currency,
            created_at=row.created_at,
            profile=AccountProfile.from_row(row),
            row=row,
        )

    @strawberry.field(
        description="The company the account is a customer of: name, logo, support "
        "contacts, portal URL and colours to theme the portal with."
    )
    async def brand(self, info: Info) -> Brand:
        return Brand.from_brand(await brand_resolvers.account_brand(info.context, self.row))

    @strawberry.field(description="The account this one is linked under, when you reach it.")
    async def parent(self, info: Info) -> Account | None:
        found = await resolvers.parent(info.context, self.row)
        return Account.from_row(found) if found else None

    @strawberry.field(description="Accounts linked under this one that you reach.")
    async def linked_accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Account]:
        ctx = info.context
        page = await resolvers.linked_accounts(
            ctx, self.row, page_request(first, after, last, before)
        )
        return Connection.from_page(
            page,
            [Account.from_row(row) for row in page.rows],
            lambda: resolvers.linked_accounts_count(ctx, self.row),
        )

    @strawberry.field(
        description="News visible now for this account, newest first (any member reads "
        "them); `readAt` is yours."
    )
    async def announcements(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        unread_only: bool = False,
    ) -> Connection[Announcement]:
        request = page_request(first, after, last, before)
        return await account_announcements(info, self.row.id, request, unread_only)

    @strawberry.field(
        description="Emails sent to this account, newest first. Needs EMAILS_VIEW.",
        extensions=account_field(Permission.EMAILS_VIEW),
    )
    async def emails(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: EmailFilterInput | None = None,
    ) -> Connection[EmailMessageType]:
        ctx = info.context
        email_filter = (filter or EmailFilterInput()).to_filter()
        page = await mail_resolvers.account_emails(
            ctx, scoped_account(info), page_request(first, after, last, before), email_filter
        )
        return Connection.from_page(
            page,
            [EmailMessageType.from_row(row) for row in page.rows],
            lambda: mail_resolvers.account_emails_count(ctx, self.row, email_filter),
        )

    @strawberry.field(
        description="People who receive the account's emails, by last name. Needs CONTACTS_MANAGE.",
        extensions=account_field(Permission.CONTACTS_MANAGE),
    )
    async def contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ContactFilterInput | None = None,
    ) -> Connection[Contact]:
        ctx = info.context
        contact_filter = (filter or ContactFilterInput()).to_filter()
        page = await contact_resolvers.contacts(
            ctx, scoped_account(info), page_request(first, after, last, before), contact_filter
        )
        return Connection.from_page(
            page,
            [Contact.from_row(row) for row in page.rows],
            lambda: contact_resolvers.contacts_count(ctx, self.row, contact_filter),
        )

    @strawberry.field(
        description="People who share this account, by email. Needs USERS_MANAGE.",
        extensions=account_field(Permission.USERS_MANAGE),
    )
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Member]:
        ctx = info.context
        page = await member_resolvers.members(
            ctx, scoped_account(info), page_request(first, after, last, before)
        )
        return Connection.from_page(
            page,
            [Member.from_row(membership, user) for membership, user in page.rows],
            lambda: member_resolvers.members_count(ctx, self.row),
        )

    @strawberry.field(
        description="The account's API clients not revoked, newest first (never their keys). "
        "Needs INTEGRATIONS_MANAGE.",
        extensions=account_field(Permission.INTEGRATIONS_MANAGE),
    )
    async def api_clients(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApiClient]:
        ctx = info.context
        page = await api_client_resolvers.api_clients(
            ctx, scoped_account(info), page_request(first, after, last, before)
        )
        return Connection.from_page(
            page,
            [ApiClient.from_row(row) for row in page.rows],
            lambda: api_client_resolvers.api_clients_count(ctx, self.row),
        )

    @strawberry.field(
        description="The account's webhook endpoints, newest first (never their secrets). "
        "Needs INTEGRATIONS_MANAGE.",
        extensions=account_field(Permission.INTEGRATIONS_MANAGE),
    )
    async def webhook_endpoints(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookEndpoint]:
        ctx = info.context
        page = await webhook_resolvers.endpoints(
            ctx, scoped_account(info), page_request(first, after, last, before)
        )
        return Connection.from_page(
            page,
            [WebhookEndpoint.from_row(row) for row in page.rows],
            lambda: webhook_resolvers.endpoints_count(ctx, self.row),
        )

    @strawberry.field(
        description="Invitations not yet accepted nor revoked (expired ones can be resent), "
        "newest first. Needs USERS_MANAGE.",
        extensions=account_field(Permission.USERS_MANAGE),
    )
    async def invitations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Invitation]:
        ctx = info.context
        page = await invitation_resolvers.invitations(
            ctx, scoped_account(info), page_request(first, after, last, before)
        )
        return Connection.from_page(
            page,
            [Invitation.from_row(row) for row in page.rows],
            lambda: invitation_resolvers.invitations_count(ctx, self.row),
        )

    @strawberry.field(
        description="Every change to the account, newest first. Needs ACTIVITY_VIEW.",
        extensions=account_field(Permission.ACTIVITY_VIEW),
    )
    async def activity(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ActivityFilterInput | None = None,
    ) -> Connection[Activity]:
        ctx = info.context
        activity_filter = (filter or ActivityFilterInput()).to_filter()
        page = await activity_resolvers.activity(
            ctx, scoped_account(info), page_request(first, after, last, before), activity_filter
        )
        return Connection.from_page(
            page,
            [Activity.from_row(row) for row in page.rows],
            lambda: activity_resolvers.activity_count(ctx, self.row, activity_filter),
        )

    @strawberry.field(
        description="What the customer owes now (negative: in their favour). Needs INVOICES_VIEW.",
        extensions=account_field(Permission.INVOICES_VIEW),
    )
    async def balance(self, info: Info) -> Money:
        amount = await ledger_resolvers.balance(info.context, scoped_account(info))
        return Money.from_minor(amount, self.row.currency)

    @strawberry.field(
        description="This account's balance plus its linked accounts' (those you may see "
        "invoices of), one total per currency. Needs INVOICES_VIEW.",
        extensions=account_field(Permission.INVOICES_VIEW),
        directives=[Cost(weight=10)],
    )
    async def consolidated_balance(self, info: Info) -> list[Money]:
        totals = await ledger_resolvers.consolidated_balance(info.context, scoped_account(info))
        return [Money.from_minor(amount, currency) for amount, currency in totals]

    @strawberry.field(
        description="Current-account movements, oldest first, with the running balance. "
        "`last: 20` gives the newest 20 directly. Needs INVOICES_VIEW.",
        extensions=account_field(Permission.INVOICES_VIEW),
    )
    async def ledger(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LedgerEntry]:
        ctx = info.context
        page = await ledger_resolvers.movements(
            ctx, scoped_account(info), page_request(first, after, last, before)
        )
        return Connection.from_page(
            page,
            [LedgerEntry.from_row(row) for row in page.rows],
            lambda: ledger_resolvers.movements_count(ctx, self.row),
        )

    @strawberry.field(
        description="Invoices and credit notes, newest first by default. Needs INVOICES_VIEW.",
        extensions=account_field(Permission.INVOICES_VIEW),
    )
    async def invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: InvoiceFilterInput | None = None,
        order_by: InvoiceOrder = InvoiceOrder.ISSUED_ON_DESC,
    ) -> Connection[Invoice]:
        ctx = info.context
        invoice_filter = (filter or InvoiceFilterInput()).to_filter(self.row.currency)
        page = await invoice_resolvers.invoices(
            ctx,
            scoped_account(info),
            page_request(first, after, last, before),
            invoice_filter,
            order_by,
        )
        return Connection.from_page(
            page,
            [Invoice.from_row(row) for row in page.rows],
            lambda: invoice_resolvers.invoices_count(ctx, self.row, invoice_filter),
        )

    @strawberry.field(
        description="Which payment options to show, with the rules. Needs INVOICES_VIEW.",
        extensions=account_field(Permission.INVOICES_VIEW),
    )
    async def payment_options(self, info: Info) -> PaymentOptions:
        decision = await payment_resolvers.payment_options(info.context, scoped_account(info))
        transfer = payment_resolvers.bank_transfer(info.context.settings, self.row)
        return PaymentOptions.of(decision, self.row.currency, info.context.locale, transfer)

    @strawberry.field(
        description="The purchase history, newest first. Needs ORDERS_VIEW.",
        extensions=account_field(Permission.ORDERS_VIEW),
    )
    async def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: OrderFilterInput | None = None,
    ) -> Connection[Order]:
        ctx = info.context
        order_filter = (filter or OrderFilterInput()).to_filter()
        page = await order_resolvers.orders(
            ctx, scoped_account(info), page_request(first, after, last, before), order_filter
        )
        return Connection.from_page(
            page,
            [Order.from_row(row) for row in page.rows],
            lambda: order_resolvers.orders_count(ctx, self.row, order_filter),
        )

    catalogue: list[Product] = strawberry.field(
        resolver=catalogue,
        description="Products on sale in the account's currency, by code. Needs ORDERS_CREATE.",
        extensions=account_field(Permission.ORDERS_CREATE),
    )

    @strawberry.field(
        description="Products and services contracted, by name. Needs SERVICES_VIEW.",
        extensions=account_field(Permission.SERVICES_VIEW),
    )
    async def services(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ServiceFilterInput | None = None,
    ) -> Connection[Service]:
        ctx = info.context
        service_filter = (filter or ServiceFilterInput()).to_filter()
        page = await order_resolvers.services(
            ctx, scoped_account(info), page_request(first, after, last, before), service_filter
        )
        return Connection.from_page(
            page,
            [Service.from_row(row) for row in page.rows],
            lambda: order_resolvers.services_count(ctx, self.row, service_filter),
        )

    @strawberry.field(
        description="Estado de cuenta between two dates (both included, at most 366 days), "
        "with CSV and PDF downloads. Needs INVOICES_VIEW.",
        extensions=account_field(Permission.INVOICES_VIEW),
        directives=[Cost(weight=10)],
    )
    async def statement(
        self, info: Info, from_: Annotated[date, strawberry.argument(name="from")], to: date
    ) -> Statement:
        account = scoped_account(info)
        data = await document_resolvers.statement(info.context, account, from_, to)
        return Statement.of(
            data, document_resolvers.statement_links(info.context, account, from_, to)
        )

    @strawberry.field(
        description="Payments, newest first: online ones and reported transfers. "
        "Needs INVOICES_VIEW.",
        extensions=account_field(Permission.INVOICES_VIEW),
    )
    async def payments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Payment]:
        ctx = info.context
        page = await payment_list_resolvers.payments(
            ctx, scoped_account(info), page_request(first, after, last, before)
        )
        return Connection.from_page(
            page,
            [Payment.from_row(row) for row in page.rows],
            lambda: payment_list_resolvers.payments_count(ctx, self.row),
        )

    @strawberry.field(
        description="Support requests and claims, newest first. Needs CASES_VIEW.",
        extensions=account_field(Permission.CASES_VIEW),
    )
    async def cases(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: CaseFilterInput | None = None,
    ) -> Connection[Case]:
        ctx = info.context
        case_filter = (filter or CaseFilterInput()).to_filter()
        page = await case_resolvers.cases(
            ctx, scoped_account(info), page_request(first, after, last, before), case_filter
        )
        return Connection.from_page(
            page,
            [Case.from_row(row) for row in page.rows],
            lambda: case_resolvers.cases_count(ctx, self.row, case_filter),
        )
