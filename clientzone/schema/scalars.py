"""Money, and the scalars every input goes through.

Money: integer minor units in storage, `{ amount: Decimal (string), currency }` here.

`Decimal`, `Date` and `DateTime` replace Strawberry's own (same names, same
output) to refuse, as a clean BAD_USER_INPUT, what the data layer cannot hold:
non-finite or huge decimals (anything that could not become int64 minor
units), dates outside 1900-2199 (arithmetic on them would overflow), and
text that is not a date. Every stored time comes back timezone-aware UTC, so a
DateTime always carries its offset (`+00:00`); a DateTime sent without one is
read as UTC.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry

from clientzone.core.money import from_minor

MAX_DECIMAL = Decimal(10) ** 15
MAX_DECIMAL_PLACES = 6
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2199, 12, 31)


def parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('Expected a decimal number as a string, e.g. "1234.50".')
    text = str(value).strip()
    if len(text) > 40:
        raise ValueError("Too many digits.")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text[:40]!r} is not a decimal number.") from None
    exponent = number.as_tuple().exponent
    if not number.is_finite() or not isinstance(exponent, int):
        raise ValueError("Expected a finite decimal number.")
    if abs(number) >= MAX_DECIMAL:
        raise ValueError(f"Must be less than {MAX_DECIMAL:,} in absolute value.")
    if -exponent > MAX_DECIMAL_PLACES:
        raise ValueError(f"At most {MAX_DECIMAL_PLACES} decimal places.")
    return number


def parse_date(value: object) -> dt.date:
    if not isinstance(value, str) or len(value) > 10:
        raise ValueError("Expected a date as YYYY-MM-DD.")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD).") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(f"Dates go from {FIRST_DATE} to {LAST_DATE}.")
    return day


def parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("Expected an ISO 8601 date and time, e.g. 2026-03-01T15:30:00+00:00.")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if not FIRST_DATE <= moment.date() <= LAST_DATE:
        raise ValueError(f"Dates go from {FIRST_DATE} to {LAST_DATE}.")
    return moment.astimezone(dt.UTC)


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number as a string ("1234.50"); input also accepts '
    "numbers. At most 6 decimal places and less than 10^15 in absolute value.",
    serialize=str,
    parse_value=parse_decimal,
)
DateScalar = strawberry.scalar(
    name="Date",
    description="A date, ISO 8601 (2026-03-01), from 1900-01-01 to 2199-12-31.",
    serialize=dt.date.isoformat,
    parse_value=parse_date,
)
DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description="A date and time, ISO 8601 with its offset (2026-03-01T15:30:00+00:00); "
    "input without an offset is UTC. From 1900 to 2199.",
    serialize=dt.datetime.isoformat,
    parse_value=parse_datetime,
)
SCALAR_OVERRIDES: dict[object, Any] = {
    Decimal: DecimalScalar,
    dt.date: DateScalar,
    dt.datetime: DateTimeScalar,
}


@strawberry.type(description="An exact amount of money in one currency.")
class Money:
    amount: Decimal = strawberry.field(description='Decimal string, e.g. "1234.50".')
    currency: str = strawberry.field(description="ISO 4217 code, e.g. MXN.")

    @classmethod
    def from_minor(cls, minor_units: int, currency: str) -> Money:
        return cls(amount=from_minor(minor_units, currency), currency=currency.upper())
