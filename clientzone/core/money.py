"""Money in storage: integer minor units of an ISO 4217 currency."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 currencies whose minor unit is not 1/100.
MINOR_UNIT_EXPONENT = {"CLP": 0, "JPY": 0, "KRW": 0, "PYG": 0, "BHD": 3, "KWD": 3, "TND": 3}


def minor_unit_exponent(currency: str) -> int:
    return MINOR_UNIT_EXPONENT.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in currency units, as minor units (rounded half up)."""
    scaled = amount.scaleb(minor_unit_exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor_units: int, currency: str) -> Decimal:
    return Decimal(minor_units).scaleb(-minor_unit_exponent(currency))


def scaled(value: int, exponent: int) -> Decimal:
    """`value` × 10^-exponent without trailing zeros and never in exponent
    notation: 50000, 3 -> 50; 1500, 3 -> 1.5; 1600, 2 -> 16."""
    number = Decimal(value).scaleb(-exponent).normalize()
    _, _, power = number.as_tuple()
    return number.quantize(Decimal(1)) if isinstance(power, int) and power > 0 else number
