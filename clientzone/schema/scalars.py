"""Money: integer minor units in storage, `{ amount: Decimal (string), currency }` here.

Dates and times use Strawberry's built-in `Date` and `DateTime` scalars (ISO
8601); every stored time comes back timezone-aware UTC, so a DateTime always
carries its offset (`+00:00`).
"""

from __future__ import annotations

from decimal import Decimal

import strawberry

from clientzone.money import from_minor


@strawberry.type(description="An exact amount of money in one currency.")
class Money:
    amount: Decimal = strawberry.field(description='Decimal string, e.g. "1234.50".')
    currency: str = strawberry.field(description="ISO 4217 code, e.g. MXN.")

    @classmethod
    def from_minor(cls, minor_units: int, currency: str) -> Money:
        return cls(amount=from_minor(minor_units, currency), currency=currency.upper())
