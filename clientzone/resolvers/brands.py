"""An account's brand, and a brand for a login page (public: no sign-in)."""

from __future__ import annotations

from clientzone.auth.context import Context
from clientzone.brands import Brand, find_brand
from clientzone.models.accounts import Account

# Longer than any code or host name: answered without a look-up.
_MAX_KEY = 255


async def account_brand(ctx: Context, account: Account) -> Brand:
    """The account's brand (the default one when it has none); what any
    member of the account may see, like its name."""
    if account.brand_id is None:
        return Brand.from_settings(ctx.settings)
    record = await ctx.loaders.brand_by_id.load(account.brand_id)
    return Brand.from_record(record) if record else Brand.from_settings(ctx.settings)


async def brand(ctx: Context, code: str | None, host: str | None) -> Brand | None:
    """By code, else by the host of its portal URL, else the default brand;
    None when nothing matches."""
    if (code is not None and len(code) > _MAX_KEY) or (host is not None and len(host) > _MAX_KEY):
        return None
    async with ctx.db.read() as session:
        return await find_brand(session, ctx.settings, code=code, host=host)
