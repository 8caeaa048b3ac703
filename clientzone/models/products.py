"""The product catalogue: what can be ordered in the portal, and at what price.

Products come from the billing import (`product` lines, keyed by `code`: a
line for a known code replaces it). Prices are per currency, in minor units
({"EUR": 1200, "MXN": 25000}); an account sees and orders a product only in
its own currency, and only while it is active.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.orders import ServiceKind

__all__ = ["Product", "ServiceKind", "catalogue", "products_by_code"]


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (Index("ix_products_active_code", "active", "code"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code: str = Field(sa_type=String(40), unique=True)
    name_es: str = Field(sa_type=String(200))
    name_en: str = Field(sa_type=String(200))
    description_es: str | None = Field(default=None, sa_type=Text)
    description_en: str | None = Field(default=None, sa_type=Text)
    kind: ServiceKind = Field(sa_type=StrEnumType(ServiceKind))
    active: bool = Field(default=True, sa_type=Boolean)
    prices: dict[str, int] = Field(default_factory=dict, sa_type=JSON)  # currency -> minor
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def price_in(self, currency: str) -> int | None:
        value = self.prices.get(currency)
        return value if isinstance(value, int) else None


async def catalogue(session: AsyncSession, currency: str) -> list[Product]:
    """Active products with a price in `currency`, by code."""
    statement = select(Product).where(col(Product.active)).order_by(col(Product.code))
    rows = (await session.execute(statement)).scalars()
    return [p for p in rows if p.price_in(currency) is not None]


async def products_by_code(session: AsyncSession, codes: Sequence[str]) -> dict[str, Product]:
    if not codes:
        return {}
    statement = select(Product).where(col(Product.code).in_(sorted(set(codes))))
    return {p.code: p for p in (await session.execute(statement)).scalars()}
