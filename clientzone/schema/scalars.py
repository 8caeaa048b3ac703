"""Money: integer minor units in storage, `{ amount: Decimal (string), currency }` here.

Dates and times use Strawberry's built-in `Date` and `DateTime` scalars (ISO
8601); every stored time comes back timezone-aware UTC, so a DateTime always
carries its offset (`+00:00`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import strawberry

# ISO 4217 currencies whose minor unit is not 1/100.
MINOR_UNIT_EXPONENT = {"CLP": 0, "JPY": 0, "KRW": 0, "PYG": 0, "BHD": 3, "KWD": 3, "TND": 3}


def minor_unit_exponent(currency: str) -> int:
    return MINOR_UNIT_EXPONENT.get(currency.upper(), 2)


@strawberry.type(description="An exact amount of money in one currency.")
class Money:
    amount: Decimal = strawberry.field(description='Decimal string, e.g. "1234.50".')
    currency: str = strawberry.field(description="ISO 4217 code, e.g. MXN.")

    @classmethod
    def from_minor(cls, minor_units: int, currency: str) -> Money:
        exponent = minor_unit_exponent(currency)
        return cls(amount=Decimal(minor_units).scaleb(-exponent), currency=currency.upper())


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount typed in currency units, as minor units (rounded half up)."""
    scaled = amount.scaleb(minor_unit_exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))
