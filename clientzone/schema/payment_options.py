"""The payment buttons a portal may show, with the reasons when it may not."""

from __future__ import annotations

import strawberry

from clientzone.i18n import translate
from clientzone.models.users import Locale
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

    @classmethod
    def of(cls, decision: Decision, currency: str, locale: Locale) -> PaymentOptions:
        limit = decision.limit_minor
        return cls(
            balance=Money.from_minor(decision.balance_minor, currency),
            online_payment_limit=Money.from_minor(limit, currency) if limit is not None else None,
            latest_document_type=decision.latest_document_type,
            online_payment=PaymentOption.of(decision.online_reasons, locale),
            pay_in_advance=PaymentOption.of(decision.advance_reasons, locale),
        )
