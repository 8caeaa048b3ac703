"""Turning collected field errors into a mutation's localized `userErrors`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from clientzone.core.i18n import translate
from clientzone.models.users import Locale
from clientzone.resolvers.validation import FieldError


class _ErrorType(Protocol):
    def __init__(self, *, field: str | None, message: str, code: Any) -> None: ...


E = TypeVar("E", bound=_ErrorType)


def user_errors(error_type: type[E], errors: Sequence[FieldError[Any]], locale: Locale) -> list[E]:
    return [
        error_type(
            field=error.field,
            code=error.code,
            message=translate(error.message_key, locale, **error.params),
        )
        for error in errors
    ]
