"""Field-level validation for mutation inputs, collected before anything is written."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Generic, TypeVar

from clientzone.core import validators

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

    def email(self, field_path: str, value: str, *, required: C, invalid: C) -> str | None:
        """The normalized address; blank or malformed is an error (and None)."""
        address = validators.email(value)
        if not value.strip():
            self.add(field_path, required, "field.required")
        elif address is None:
            self.add(field_path, invalid, "auth.invalid_email")
        return address


class Kind(Enum):
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    COUNTRY = "country"
    POSTAL_CODE = "postal_code"
    TAX_ID = "tax_id"


@dataclass(frozen=True)
class Rule:
    kind: Kind = Kind.TEXT
    maximum: int = 200
    required: bool = False


_INVALID = {
    Kind.EMAIL: ("INVALID_EMAIL", "auth.invalid_email"),
    Kind.PHONE: ("INVALID_PHONE", "field.invalid_phone"),
    Kind.COUNTRY: ("INVALID_COUNTRY", "field.invalid_country"),
    Kind.POSTAL_CODE: ("INVALID_POSTAL_CODE", "field.invalid_postal_code"),
    Kind.TAX_ID: ("INVALID_TAX_ID", "field.invalid_tax_id"),
}


def check_fields(
    errors: FieldErrors[C],
    codes: type[C],
    values: dict[str, str | None],
    rules: dict[str, Rule],
    *,
    country: str | None,
) -> dict[str, str | None]:
    """Validate the given fields (absent = None = unchanged) by their rules.

    Returns the value to store for each given field: the normal form, or None
    for an optional field sent as "" (cleared). `country` (the new one if it is
    among the values, else the current one) decides how phones, postal codes
    and tax ids are read. `codes` must have REQUIRED, TOO_LONG and the
    INVALID_* members the rules use."""
    cleaned: dict[str, str | None] = {}
    country_paths = [p for p, r in rules.items() if r.kind is Kind.COUNTRY and values.get(p)]
    if country_paths:
        country = validators.country(values[country_paths[0]] or "") or country
    for path, rule in rules.items():
        value = values.get(path)
        if value is None:
            continue
        text = value.strip()
        if not text:
            if rule.required:
                errors.add(path, codes["REQUIRED"], "field.required")
            cleaned[path] = None
            continue
        if len(text) > rule.maximum:
            errors.add(path, codes["TOO_LONG"], "field.too_long", maximum=rule.maximum)
            continue
        normal = _normal(rule.kind, text, country)
        if normal is None:
            code, key = _INVALID[rule.kind]
            errors.add(path, codes[code], key, country=country or "")
            continue
        cleaned[path] = normal
    return cleaned


def _normal(kind: Kind, text: str, country: str | None) -> str | None:
    if kind is Kind.EMAIL:
        return validators.email(text)
    if kind is Kind.PHONE:
        return validators.phone(text, country)
    if kind is Kind.COUNTRY:
        return validators.country(text)
    if kind is Kind.POSTAL_CODE:
        return validators.postal_code(text, country)
    if kind is Kind.TAX_ID:
        return validators.tax_id(text, country)
    return text
