"""Exact amounts and quantities as the API shows them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clientzone.core.money import from_minor, scaled, to_minor


@pytest.mark.parametrize(
    ("value", "exponent", "shown"),
    [
        (50_000, 3, "50"),
        (1_500, 3, "1.5"),
        (1_600, 2, "16"),
        (1_000, 3, "1"),
        (1, 3, "0.001"),
        (0, 3, "0"),
        (100_000, 2, "1000"),
        (-2_500, 3, "-2.5"),
    ],
)
def test_quantities_and_rates_never_use_exponent_notation(
    value: int, exponent: int, shown: str
) -> None:
    assert str(scaled(value, exponent)) == shown


def test_minor_units_round_trip() -> None:
    assert to_minor(Decimal("1234.56"), "MXN") == 123_456
    assert from_minor(123_456, "MXN") == Decimal("1234.56")
