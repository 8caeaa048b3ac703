"""Orders (purchase history) and contracted services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.core.money import scaled
from clientzone.models import orders as models
from clientzone.resolvers import orders as resolvers
from clientzone.resolvers import service_changes as change_resolvers
from clientzone.schema.enums import ServiceKind
from clientzone.schema.info import Info
from clientzone.schema.node import Node
from clientzone.schema.scalars import Money

if TYPE_CHECKING:
    from clientzone.schema.service_changes import ServiceChangeRequest

strawberry.enum(models.OrderStatus, description="Where an order stands.")
strawberry.enum(models.ServiceStatus, description="Whether a service is in use.")
strawberry.enum(models.BillingCycle, description="How often a service is billed.")


@strawberry.type(description="One line of an order.")
class OrderLine:
    sku: str | None
    description: str
    quantity: Decimal
    unit_price: Money
    total: Money


@strawberry.type(description="An order in the purchase history.")
class Order(Node):
    number: str
    customer_reference: str | None = strawberry.field(
        description="The customer's own reference (their purchase order number)."
    )
    ordered_on: date
    status: models.OrderStatus
    total: Money
    row: strawberry.Private[models.Order]

    @classmethod
    def from_row(cls, row: models.Order) -> Order:
        return cls(
            id=strawberry.ID(encode_global_id("Order", row.id)),
            number=row.number,
            customer_reference=row.customer_reference,
            ordered_on=row.ordered_on,
            status=row.status,
            total=Money.from_minor(row.total_minor, row.currency),
            row=row,
        )

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        currency = self.row.currency
        return [
            OrderLine(
                sku=line.sku,
                description=line.description,
                quantity=scaled(line.quantity_milli, 3),
                unit_price=Money.from_minor(line.unit_price_minor, currency),
                total=Money.from_minor(line.total_minor, currency),
            )
            for line in await resolvers.lines(info.context, self.row)
        ]


@strawberry.input(description="Narrow the orders; dates are inclusive.")
class OrderFilterInput:
    search: str | None = strawberry.field(
        default=None, description="An order number or your own reference, exactly."
    )
    ordered_from: date | None = None
    ordered_to: date | None = None
    status: models.OrderStatus | None = None

    def to_filter(self) -> models.OrderFilter:
        search = (self.search or "").strip()[:80] or None
        return models.OrderFilter(
            search=search,
            ordered_from=self.ordered_from,
            ordered_to=self.ordered_to,
            status=self.status,
        )


@strawberry.type(description="A product or service the account has contracted.")
class Service(Node):
    name: str
    kind: ServiceKind
    status: models.ServiceStatus
    billing_cycle: models.BillingCycle
    next_due_on: date | None
    expires_on: date | None
    recurring_amount: Money
    row: strawberry.Private[models.Service]

    @strawberry.field(
        description="Whether revealServiceCredentials has a control-panel login to show."
    )
    def has_credentials(self) -> bool:
        return self.row.credentials_sealed is not None

    @strawberry.field(
        description="The change asked for with requestServiceChange and not yet settled; "
        "null when there is none."
    )
    async def open_change_request(
        self, info: Info
    ) -> (
        Annotated[ServiceChangeRequest, strawberry.lazy("clientzone.schema.service_changes")] | None
    ):
        from clientzone.schema.service_changes import ServiceChangeRequest

        case = await change_resolvers.open_request_of(info.context, self.row.id)
        return None if case is None else ServiceChangeRequest.of(case)

    @classmethod
    def from_row(cls, row: models.Service) -> Service:
        return cls(
            id=strawberry.ID(encode_global_id("Service", row.id)),
            name=row.name,
            kind=row.kind,
            status=row.status,
            billing_cycle=row.billing_cycle,
            next_due_on=row.next_due_on,
            expires_on=row.expires_on,
            recurring_amount=Money.from_minor(row.recurring_minor, row.currency),
            row=row,
        )


@strawberry.input(description="Narrow the services.")
class ServiceFilterInput:
    kind: ServiceKind | None = None
    status: models.ServiceStatus | None = None
    search: str | None = strawberry.field(default=None, description="Part of the name.")

    def to_filter(self) -> models.ServiceFilter:
        search = (self.search or "").strip()[:100] or None
        return models.ServiceFilter(kind=self.kind, status=self.status, search=search)
