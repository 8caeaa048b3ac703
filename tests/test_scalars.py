"""Money from integer minor units; times always carry their UTC offset."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientzone.models.base import UTCDateTime
from clientzone.schema.scalars import Money


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [
        (123450, "MXN", "1234.50"),
        (-5, "EUR", "-0.05"),
        (0, "ARS", "0.00"),
        (1500, "CLP", "1500"),
        (1234, "KWD", "1.234"),
        (99, "mxn", "0.99"),
    ],
)
def test_money_is_exact_from_minor_units(minor: int, currency: str, amount: str) -> None:
    money = Money.from_minor(minor, currency)
    assert str(money.amount) == amount
    assert money.currency == currency.upper()


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_round_trips_without_loss(minor: int) -> None:
    assert Money.from_minor(minor, "MXN").amount * 100 == Decimal(minor)


def test_stored_times_come_back_as_utc_with_an_offset() -> None:
    column = UTCDateTime()
    mexico = timezone(timedelta(hours=-6))
    local = datetime(2026, 3, 1, 9, 30, tzinfo=mexico)

    class SQLite:
        name = "sqlite"

    stored = column.process_bind_param(local, SQLite())  # type: ignore[arg-type]
    assert stored == datetime(2026, 3, 1, 15, 30)
    loaded = column.process_result_value(stored, SQLite())  # type: ignore[arg-type]
    assert loaded is not None
    assert loaded.isoformat() == "2026-03-01T15:30:00+00:00"
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 3, 1), SQLite())  # type: ignore[arg-type]
