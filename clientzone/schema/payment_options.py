"""The payment buttons a portal may show, with the reasons when it may not."""

from __future__ import annotations

import strawberry

from clientzone.config import BankAccount
from clientzone.core.i18n import translate
from clientzone.models.users import Locale
from clientzone.resolvers.payment_options import BankTransfer as Transfer
from clientzone.resolvers.payment_options import PaymentOptions as Decision
from clientzone.resolvers.payment_options import PaymentRule
from clientzone.schema.scalars import Money

strawberry.enum(PaymentRule, description="A rule that keeps a payment option from being offered.")


@strawberry.type(description="Whether an option is offered, and if not, every rule that says no.")
class PaymentOption:
    available: bool
    reasons: list[PaymentRule]
    explanations: list[str] = strawberry.field(
        description="The reasons, in the request's language."
    )

    @classmethod
    def of(cls, reasons: list[PaymentRule], locale: Locale) -> PaymentOption:
        return cls(
            available=not reasons,
            reasons=reasons,
            explanations=[
                translate(f"payment.{reason.value.lower()}", locale) for reason in reasons
            ],
        )


@strawberry.type(description="One of the company's bank accounts, for paying by transfer.")
class CompanyBankAccount:
    currency: str
    bank: str
    holder: str
    clabe: str | None = strawberry.field(description="Mexico: the 18-digit CLABE.")
    cbu: str | None = strawberry.field(description="Argentina: the 22-digit CBU.")
    alias: str | None = strawberry.field(description="Argentina: the CBU's alias.")
    iban: str | None = strawberry.field(description="The IBAN, without spaces.")
    bic: str | None

    @classmethod
    def of(cls, row: BankAccount) -> CompanyBankAccount:
        return cls(**row.model_dump())


@strawberry.type(description="Where to send a transfer, and what to quote with it.")
class BankTransfer:
    accounts: list[CompanyBankAccount] = strawberry.field(
        description="The company's accounts in the account's currency (none: not offered)."
    )
    reference: str = strawberry.field(
        description="Quote this in the transfer and in reportPayment: it names the account."
    )


@strawberry.type(description="What the portal offers: pay online now, or pay in advance.")
class PaymentOptions:
    balance: Money
    online_payment_limit: Money | None = strawberry.field(
        description="Online payment needs a balance below this (set by administration)."
    )
    latest_document_type: str | None = strawberry.field(
        description="Code of the most recent invoice's document type."
    )
    online_payment: PaymentOption
    pay_in_advance: PaymentOption
    bank_transfer: BankTransfer

    @classmethod
    def of(
        cls, decision: Decision, currency: str, locale: Locale, transfer: Transfer
    ) -> PaymentOptions:
        limit = decision.limit_minor
        return cls(
            bank_transfer=BankTransfer(
                accounts=[CompanyBankAccount.of(a) for a in transfer.accounts],
                reference=transfer.reference,
            ),
            balance=Money.from_minor(decision.balance_minor, currency),
            online_payment_limit=Money.from_minor(limit, currency) if limit is not None else None,
            latest_document_type=decision.latest_document_type,
            online_payment=PaymentOption.of(decision.online_reasons, locale),
            pay_in_advance=PaymentOption.of(decision.advance_reasons, locale),
        )
