"""Changing an account's profile and security PIN; choosing the active account."""

from __future__ import annotations

import strawberry

from clientzone.auth.permissions import scoped_account
from clientzone.resolvers import accounts as account_resolvers
from clientzone.resolvers import profile as resolvers
from clientzone.resolvers.profile import SetSecurityPinErrorCode, UpdateAccountProfileErrorCode
from clientzone.schema.accounts import Account
from clientzone.schema.enums import Locale
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.payloads import user_errors

strawberry.enum(UpdateAccountProfileErrorCode)
strawberry.enum(SetSecurityPinErrorCode)


@strawberry.input(description='Omitted fields stay as they are; "" clears a field.')
class AddressInput:
    street: str | None = None
    neighborhood: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2.")


@strawberry.input(description='Omitted fields stay as they are; "" clears a field.')
class UpdateAccountProfileInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    company_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = strawberry.field(
        default=None, description="Stored as E.164; without +, read in the account's country."
    )
    mobile_phone: str | None = None
    address: AddressInput | None = None
    tax_id: str | None = strawberry.field(
        default=None, description="Checked for MX (RFC), AR (CUIT) and ES (NIF/NIE/CIF)."
    )
    locale: Locale | None = None
    monthly_statement: bool | None = strawberry.field(
        default=None,
        description="Email a statement of each month (opening and closing balance, its "
        "movements) to the account's INVOICES recipients in the first days of the next.",
    )

    def values(self) -> dict[str, str | None]:
        address = self.address or AddressInput()
        return {
            "companyName": self.company_name,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "mobilePhone": self.mobile_phone,
            "address.street": address.street,
            "address.neighborhood": address.neighborhood,
            "address.city": address.city,
            "address.state": address.state,
            "address.postalCode": address.postal_code,
            "address.country": address.country,
            "taxId": self.tax_id,
        }


@strawberry.type
class UpdateAccountProfileError(UserError):
    code: UpdateAccountProfileErrorCode


@strawberry.type
class UpdateAccountProfilePayload:
    account: Account | None
    user_errors: list[UpdateAccountProfileError]


async def update_account_profile(
    info: Info, input: UpdateAccountProfileInput
) -> UpdateAccountProfilePayload:
    outcome = await resolvers.update_account_profile(
        info.context, scoped_account(info), input.values(), input.locale, input.monthly_statement
    )
    return UpdateAccountProfilePayload(
        account=Account.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(UpdateAccountProfileError, outcome.errors, info.context.locale),
    )


@strawberry.input
class SetSecurityPinInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    pin: str = strawberry.field(description="4-8 digits, not repeated nor in sequence.")
    current_password: str


@strawberry.type
class SetSecurityPinError(UserError):
    code: SetSecurityPinErrorCode


@strawberry.type
class SetSecurityPinPayload:
    account: Account | None
    user_errors: list[SetSecurityPinError]


async def set_security_pin(info: Info, input: SetSecurityPinInput) -> SetSecurityPinPayload:
    outcome = await resolvers.set_security_pin(
        info.context, scoped_account(info), input.pin, input.current_password
    )
    return SetSecurityPinPayload(
        account=Account.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(SetSecurityPinError, outcome.errors, info.context.locale),
    )


@strawberry.input
class SwitchAccountInput:
    account_id: strawberry.ID


@strawberry.type
class SwitchAccountPayload:
    account: Account


async def switch_account(info: Info, input: SwitchAccountInput) -> SwitchAccountPayload:
    account = await account_resolvers.switch_account(info.context, scoped_account(info))
    return SwitchAccountPayload(account=Account.from_row(account))
