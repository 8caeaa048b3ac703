"""Brands: the companies one portal serves (an ISP's several trade names).

An account with a `brand_id` is mailed, rendered (PDFs) and themed with that
brand; an account without one has the default brand, made from settings
(COMPANY_NAME, SUPPORT_EMAIL, MAIL_FROM_ADDRESS, ...: clientzone/brands.py).
Brands are loaded by `clientzone import` (`brand` lines, docs/brands.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from clientzone.models.base import UTCDateTime, new_id, utcnow


class BrandRecord(SQLModel, table=True):
    __tablename__ = "brands"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code: str = Field(sa_type=String(40), unique=True)
    company_name: str = Field(sa_type=String(200))
    logo_url: str | None = Field(default=None, sa_type=String(500))
    support_email: str = Field(sa_type=String(254))
    support_phone: str | None = Field(default=None, sa_type=String(32))
    from_name: str = Field(sa_type=String(200))
    from_address: str = Field(sa_type=String(254))
    portal_url: str = Field(sa_type=String(500))
    primary_color: str | None = Field(default=None, sa_type=String(7))
    accent_color: str | None = Field(default=None, sa_type=String(7))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_BY_IDS = select(BrandRecord).where(col(BrandRecord.id).in_(bindparam("ids", expanding=True)))


async def brands_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[BrandRecord]:
    result = await session.execute(_BY_IDS, {"ids": list(ids)})
    return list(result.scalars())


async def all_brands(session: AsyncSession) -> list[BrandRecord]:
    """Every brand (a handful: one per company the portal serves)."""
    return list((await session.execute(select(BrandRecord).order_by(BrandRecord.code))).scalars())
