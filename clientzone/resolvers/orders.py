"""Purchase history (ORDERS_VIEW) and contracted services (SERVICES_VIEW)."""

from __future__ import annotations

from clientzone.auth.context import Context
from clientzone.models import orders as models
from clientzone.models.accounts import Account
from clientzone.models.orders import Order, OrderFilter, OrderLine, Service, ServiceFilter
from clientzone.models.pagination import Page, PageRequest


async def orders(
    ctx: Context, account: Account, page: PageRequest, order_filter: OrderFilter
) -> Page[Order]:
    async with ctx.db.read() as session:
        return await models.orders_page(
            session, account_id=account.id, page=page, order_filter=order_filter
        )


async def orders_count(ctx: Context, account: Account, order_filter: OrderFilter) -> int:
    async with ctx.db.read() as session:
        return await models.count_orders(session, account_id=account.id, order_filter=order_filter)


async def lines(ctx: Context, order: Order) -> list[OrderLine]:
    return await ctx.loaders.lines_by_order.load(order.id) or []


async def services(
    ctx: Context, account: Account, page: PageRequest, service_filter: ServiceFilter
) -> Page[Service]:
    async with ctx.db.read() as session:
        return await models.services_page(
            session, account_id=account.id, page=page, service_filter=service_filter
        )


async def services_count(ctx: Context, account: Account, service_filter: ServiceFilter) -> int:
    async with ctx.db.read() as session:
        return await models.count_services(
            session, account_id=account.id, service_filter=service_filter
        )
