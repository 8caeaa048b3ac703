"""Field-level validation for mutation inputs, collected before anything is written."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

C = TypeVar("C", bound=StrEnum)
T = TypeVar("T")


@dataclass(frozen=True)
class FieldError(Generic[C]):
    field: str | None
    code: C
    message_key: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class Outcome(Generic[T, C]):
    """A mutation's result: the changed object, or the errors that stopped it."""

    value: T | None = None
    errors: list[FieldError[C]] = dataclasses.field(default_factory=list)


class FieldErrors(Generic[C]):
    def __init__(self) -> None:
        self.errors: list[FieldError[C]] = []

    def __bool__(self) -> bool:
        return bool(self.errors)

    def add(self, field_path: str | None, code: C, message_key: str, **params: Any) -> None:
        self.errors.append(FieldError(field_path, code, message_key, params))

    def text(
        self,
        field_path: str,
        value: str | None,
        *,
        maximum: int,
        required: C,
        too_long: C,
    ) -> str | None:
        """Trimmed text, or None when absent; blank or over-long text is an error."""
        if value is None:
            return None
        cleaned = value.strip()
        if not cleaned:
            self.add(field_path, required, "field.required")
        elif len(cleaned) > maximum:
            self.add(field_path, too_long, "field.too_long", maximum=maximum)
        return cleaned
