"""Every message exists in Spanish and English; Accept-Language is read by preference."""

from __future__ import annotations

import pytest

from clientzone.core.i18n import MESSAGES, negotiate_locale
from clientzone.models.users import Locale


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_is_translated(key: str) -> None:
    assert set(MESSAGES[key]) == set(Locale)
    assert all(text.strip() for text in MESSAGES[key].values())


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("en", Locale.EN),
        ("es-AR,es;q=0.9,en;q=0.8", Locale.ES),
        ("fr-CA, en;q=0.3, es;q=0.6", Locale.ES),
        ("en;q=0, es;q=0.1", Locale.ES),
        ("de, it", None),
        ("en;q=oops, es", Locale.ES),
    ],
)
def test_accept_language(header: str | None, expected: Locale | None) -> None:
    assert negotiate_locale(header) is expected
