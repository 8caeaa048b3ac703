"""Ordering from the catalogue in the portal (ORDERS_CREATE).

`createOrder` checks every line against the catalogue in the account's
currency, then writes the order (PENDING, origin PORTAL) with its lines and
total, the activity entry and the confirmation email (PRODUCTS) in one
transaction. The billing system picks portal orders up from there.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from clientzone.auth.context import Context
from clientzone.mailers.invoice_mail import money
from clientzone.mailers.outbox import notify_account
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, record_activity
from clientzone.models.base import utcnow
from clientzone.models.contacts import EmailCategory
from clientzone.models.orders import Order, OrderLine, OrderOrigin, OrderStatus
from clientzone.models.products import Product, catalogue, products_by_code
from clientzone.models.users import Locale
from clientzone.resolvers.activity import actor
from clientzone.resolvers.validation import FieldErrors, Outcome

MAX_LINES = 50
MAX_QUANTITY = 999
REFERENCE_MAX = 80
NOTES_MAX = 2000


class OrderErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_MANY_LINES = "TOO_MANY_LINES"
    UNKNOWN_PRODUCT = "UNKNOWN_PRODUCT"
    NOT_SOLD_IN_CURRENCY = "NOT_SOLD_IN_CURRENCY"
    INVALID_QUANTITY = "INVALID_QUANTITY"


@dataclass(frozen=True)
class NewLine:
    product_code: str
    quantity: int


@dataclass(frozen=True)
class NewOrder:
    lines: list[NewLine]
    customer_reference: str | None
    notes: str | None


@dataclass(frozen=True)
class _Priced:
    product: Product
    quantity: int
    unit_minor: int


async def products(ctx: Context, account: Account) -> list[Product]:
    async with ctx.db.read() as session:
        return await catalogue(session, account.currency)


def product_name(product: Product, locale: Locale) -> str:
    return product.name_en if locale is Locale.EN else product.name_es


def _order_number() -> str:
    """W (placed on the web), the day and a random part: unique without a counter."""
    return f"W{utcnow():%y%m%d}-{secrets.token_hex(3).upper()}"


def _check_lines(
    errors: FieldErrors[OrderErrorCode],
    account: Account,
    lines: list[NewLine],
    known: dict[str, Product],
) -> list[_Priced]:
    code = OrderErrorCode
    priced: list[_Priced] = []
    for index, line in enumerate(lines):
        path = f"lines.{index}"
        product_code = line.product_code.strip()
        product = known.get(product_code)
        if not product_code:
            errors.add(f"{path}.productCode", code.REQUIRED, "field.required")
        elif product is None or not product.active:
            errors.add(
                f"{path}.productCode",
                code.UNKNOWN_PRODUCT,
                "order.unknown_product",
                product=product_code[:40],
            )
            product = None
        elif product.price_in(account.currency) is None:
            errors.add(
                f"{path}.productCode",
                code.NOT_SOLD_IN_CURRENCY,
                "order.not_sold_in_currency",
                product=product_code,
                currency=account.currency,
            )
            product = None
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.add(
                f"{path}.quantity",
                code.INVALID_QUANTITY,
                "order.invalid_quantity",
                maximum=MAX_QUANTITY,
            )
        elif product is not None:
            unit = product.price_in(account.currency)
            assert unit is not None
            priced.append(_Priced(product, line.quantity, unit))
    return priced


async def create_order(
    ctx: Context, account: Account, new: NewOrder
) -> Outcome[Order, OrderErrorCode]:
    code = OrderErrorCode
    errors: FieldErrors[OrderErrorCode] = FieldErrors()
    if not new.lines:
        errors.add("lines", code.REQUIRED, "order.no_lines")
    elif len(new.lines) > MAX_LINES:
        errors.add("lines", code.TOO_MANY_LINES, "order.too_many_lines", maximum=MAX_LINES)
    reference = errors.text(
        "customerReference",
        new.customer_reference,
        maximum=REFERENCE_MAX,
        required=code.REQUIRED,
        too_long=code.TOO_LONG,
    )
    notes = errors.text(
        "notes", new.notes, maximum=NOTES_MAX, required=code.REQUIRED, too_long=code.TOO_LONG
    )
    lines = new.lines[:MAX_LINES]
    async with ctx.db.read() as session:
        known = await products_by_code(session, [line.product_code.strip() for line in lines])
    priced = _check_lines(errors, account, lines, known)
    if errors:
        return Outcome(errors=errors.errors)
    viewer = ctx.viewer
    async with ctx.transaction() as session:
        order = Order(
            account_id=account.id,
            number=_order_number(),
            customer_reference=reference,
            notes=notes,
            ordered_on=utcnow().date(),
            status=OrderStatus.PENDING,
            currency=account.currency,
            total_minor=sum(p.unit_minor * p.quantity for p in priced),
            origin=OrderOrigin.PORTAL,
            created_by=viewer.user.id if viewer is not None else None,
        )
        session.add(order)
        await session.flush()
        for position, p in enumerate(priced, start=1):
            session.add(
                OrderLine(
                    order_id=order.id,
                    position=position,
                    sku=p.product.code,
                    description=product_name(p.product, account.locale),
                    quantity_milli=p.quantity * 1000,
                    unit_price_minor=p.unit_minor,
                    total_minor=p.unit_minor * p.quantity,
                )
            )
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.ORDER_PLACED,
            target=order.number,
        )
        await notify_account(
            session,
            ctx.settings,
            account=account,
            category=EmailCategory.PRODUCTS,
            template="order_confirmation",
            order_number=order.number,
            customer_reference=reference,
            notes=notes,
            lines=[
                {
                    "code": p.product.code,
                    "name": product_name(p.product, account.locale),
                    "quantity": p.quantity,
                    "unit_price": money(p.unit_minor, account.currency),
                    "total": money(p.unit_minor * p.quantity, account.currency),
                }
                for p in priced
            ],
            total=money(order.total_minor, account.currency),
        )
    return Outcome(value=order)
