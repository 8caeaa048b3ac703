"""Ordering from the catalogue (ORDERS_CREATE): the products and createOrder."""

from __future__ import annotations

import strawberry

from clientzone.auth.permissions import scoped_account
from clientzone.models import products as models
from clientzone.resolvers import ordering as resolvers
from clientzone.resolvers.ordering import OrderErrorCode
from clientzone.schema.errors import UserError
from clientzone.schema.info import Info
from clientzone.schema.orders import Order
from clientzone.schema.payloads import user_errors
from clientzone.schema.scalars import Money

strawberry.enum(OrderErrorCode)


@strawberry.type(description="A product of the catalogue, priced in the account's currency.")
class Product:
    code: str = strawberry.field(description="What createOrder takes in `productCode`.")
    name: str = strawberry.field(description="In the request's language.")
    description: str | None
    kind: models.ServiceKind
    price: Money = strawberry.field(description="The unit price, in the account's currency.")

    @classmethod
    def of(cls, row: models.Product, currency: str, info: Info) -> Product:
        locale = info.context.locale
        english = locale.value == "en"
        price = row.price_in(currency)
        assert price is not None  # the catalogue lists only what has one
        return cls(
            code=row.code,
            name=resolvers.product_name(row, locale),
            description=row.description_en if english else row.description_es,
            kind=row.kind,
            price=Money.from_minor(price, currency),
        )


async def catalogue(info: Info) -> list[Product]:
    account = scoped_account(info)
    rows = await resolvers.products(info.context, account)
    return [Product.of(row, account.currency, info) for row in rows]


@strawberry.type
class OrderError(UserError):
    code: OrderErrorCode


@strawberry.input(description="One product and how many.")
class OrderLineInput:
    product_code: str
    quantity: int = strawberry.field(description="1 to 999.")


@strawberry.input(description="Order products of the catalogue.")
class CreateOrderInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the active account."
    )
    lines: list[OrderLineInput] = strawberry.field(description="1 to 50 lines.")
    customer_reference: str | None = strawberry.field(
        default=None, description="Your own reference (a purchase order number); up to 80."
    )
    notes: str | None = strawberry.field(default=None, description="Up to 2,000 characters.")


@strawberry.type
class CreateOrderPayload:
    order: Order | None
    user_errors: list[OrderError]


async def create_order(info: Info, input: CreateOrderInput) -> CreateOrderPayload:
    ctx = info.context
    outcome = await resolvers.create_order(
        ctx,
        scoped_account(info),
        resolvers.NewOrder(
            lines=[resolvers.NewLine(line.product_code, line.quantity) for line in input.lines],
            customer_reference=input.customer_reference,
            notes=input.notes,
        ),
    )
    return CreateOrderPayload(
        order=Order.from_row(outcome.value) if outcome.value else None,
        user_errors=user_errors(OrderError, outcome.errors, ctx.locale),
    )
