"""The brand an account is mailed, rendered and themed with.

`Brand` is what emails, PDFs and `Account.brand` show. An account without a
brand (`accounts.brand_id` NULL) has the default brand, made from settings
(COMPANY_NAME, LOGO_URL, SUPPORT_EMAIL, SUPPORT_PHONE, PORTAL_URL,
MAIL_FROM_NAME, MAIL_FROM_ADDRESS, MAIL_REPLY_TO, BRAND_CODE, BRAND_*_COLOR),
so a single-company portal works as before.

Stored brands are few and read often (every email of every account), so each
process keeps the whole table for BRAND_CACHE_SECONDS (`BrandCache`): the
scheduler's batches and the mail of a mutation read it at most once per
period, and an account without a brand never reads it. An import that changes
brands empties this process's copy (`forget`); other processes see a change
within the period.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.config import Settings
from clientzone.models.accounts import Account
from clientzone.models.brands import BrandRecord, all_brands


@dataclass(frozen=True)
class Brand:
    code: str
    company_name: str
    logo_url: str | None
    support_email: str
    support_phone: str | None
    portal_url: str
    from_name: str
    from_address: str
    reply_to: str | None
    primary_color: str | None
    accent_color: str | None
    # The settings' brand: its messages keep the sender of the settings at
    # sending time (None in the outbox row), as before brands existed.
    is_default: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Brand:
        return cls(
            code=settings.brand_code,
            company_name=settings.company_name,
            logo_url=settings.logo_url,
            support_email=settings.support_email,
            support_phone=settings.support_phone,
            portal_url=settings.portal_base_url,
            from_name=settings.mail_from_name,
            from_address=settings.mail_from_address,
            reply_to=settings.mail_reply_to,
            primary_color=settings.brand_primary_color,
            accent_color=settings.brand_accent_color,
            is_default=True,
        )

    @classmethod
    def from_record(cls, record: BrandRecord) -> Brand:
        return cls(
            code=record.code,
            company_name=record.company_name,
            logo_url=record.logo_url,
            support_email=record.support_email,
            support_phone=record.support_phone,
            portal_url=record.portal_url.rstrip("/"),
            from_name=record.from_name,
            from_address=record.from_address,
            # Replies to a brand's mail go to its support desk.
            reply_to=record.support_email,
            primary_color=record.primary_color,
            accent_color=record.accent_color,
        )

    @property
    def host(self) -> str:
        return (urlsplit(self.portal_url).hostname or "").lower()


class BrandCache:
    """Every stored brand, by id and by code, read at most once per TTL."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._loaded_at: float | None = None
        self._by_id: dict[uuid.UUID, Brand] = {}

    def forget(self) -> None:
        self._loaded_at = None

    async def _brands(self, session: AsyncSession, missing: uuid.UUID | None = None) -> None:
        now = time.monotonic()
        fresh = self._loaded_at is not None and now - self._loaded_at < self.ttl
        if fresh and (missing is None or missing in self._by_id):
            return
        self._by_id = {r.id: Brand.from_record(r) for r in await all_brands(session)}
        self._loaded_at = now

    async def by_id(self, session: AsyncSession, brand_id: uuid.UUID) -> Brand | None:
        # A brand added since the last read (by another process) is read again.
        await self._brands(session, brand_id)
        return self._by_id.get(brand_id)

    async def all(self, session: AsyncSession) -> list[Brand]:
        await self._brands(session)
        return sorted(self._by_id.values(), key=lambda b: b.code)


_caches: dict[float, BrandCache] = {}


def cache(settings: Settings) -> BrandCache:
    """The process's brand cache (one per TTL setting: tests vary it)."""
    ttl = settings.brand_cache_seconds
    if ttl not in _caches:
        _caches[ttl] = BrandCache(ttl)
    return _caches[ttl]


def forget() -> None:
    """After brands changed in this process (an import): read them again."""
    for each in _caches.values():
        each.forget()


async def brand_of(session: AsyncSession, settings: Settings, account: Account | None) -> Brand:
    """The account's brand; the default brand for no account or no brand."""
    if account is None or account.brand_id is None:
        return Brand.from_settings(settings)
    found = await cache(settings).by_id(session, account.brand_id)
    return found or Brand.from_settings(settings)


async def find_brand(
    session: AsyncSession, settings: Settings, *, code: str | None, host: str | None
) -> Brand | None:
    """A brand by its code, or by the host of its portal URL (the default brand
    answers to BRAND_CODE and to the host of PORTAL_URL)."""
    default = Brand.from_settings(settings)
    brands = [default, *await cache(settings).all(session)]
    if code is not None:
        return next((b for b in brands if b.code == code.strip()), None)
    if host is not None:
        try:
            wanted = (urlsplit("//" + host.strip()).hostname or "").rstrip(".")
        except ValueError:  # a port that is not a number, a stray bracket
            return None
        # A stored brand first: it may share the default's host only by mistake.
        return next((b for b in [*brands[1:], default] if b.host and b.host == wanted), None)
    return default
