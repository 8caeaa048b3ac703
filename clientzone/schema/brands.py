"""Brands: the company an account is a customer of, for theming the portal."""

from __future__ import annotations

from typing import Annotated

import strawberry

from clientzone import brands as models
from clientzone.resolvers import brands as resolvers
from clientzone.schema.info import Info


@strawberry.type(description="A brand's colours, `#RRGGBB`; null when the brand sets none.")
class BrandColors:
    primary: str | None
    accent: str | None


@strawberry.type(
    description="The company an account is a customer of (one portal may serve several): "
    "what its emails, PDFs and portal show. Public information."
)
class Brand:
    code: str = strawberry.field(description="Stable code, e.g. for a per-brand stylesheet.")
    name: str = strawberry.field(description="Company name.")
    logo_url: str | None
    support_email: str
    support_phone: str | None
    portal_url: str = strawberry.field(description="The brand's customer area; links use it.")
    colors: BrandColors

    @classmethod
    def from_brand(cls, brand: models.Brand) -> Brand:
        return cls(
            code=brand.code,
            name=brand.company_name,
            logo_url=brand.logo_url,
            support_email=brand.support_email,
            support_phone=brand.support_phone,
            portal_url=brand.portal_url,
            colors=BrandColors(primary=brand.primary_color, accent=brand.accent_color),
        )


async def brand(
    info: Info,
    code: Annotated[str | None, strawberry.argument(description="A brand's code.")] = None,
    host: Annotated[
        str | None,
        strawberry.argument(description="The host name the portal is served at (when no `code`)."),
    ] = None,
) -> Brand | None:
    found = await resolvers.brand(info.context, code, host)
    return None if found is None else Brand.from_brand(found)
