"""Checks and normal forms for what people type: emails, phones, countries,
postal codes and tax ids. Each returns the value to store, or None when the
value is not valid. No GraphQL and no database here."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import iban as stdnum_iban
from stdnum.ar import cbu as stdnum_cbu
from stdnum.ar import cuit
from stdnum.es import nif
from stdnum.exceptions import ValidationError
from stdnum.mx import rfc

from clientzone.models.users import normalize_email

EMAIL_MAX_LENGTH = 254
# ISO 3166-1 alpha-2 codes of the countries and territories with a numbering plan.
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)
_POSTAL_CODES = {
    "MX": re.compile(r"\d{5}"),
    "ES": re.compile(r"(0[1-9]|[1-4]\d|5[0-2])\d{3}"),
    "AR": re.compile(r"\d{4}|[A-Z]\d{4}[A-Z]{3}"),  # old 4 digits or the CPA
}


def email(value: str) -> str | None:
    """The normalized address (lower-case), or None."""
    if len(value.strip()) > EMAIL_MAX_LENGTH:
        return None
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return normalize_email(checked.normalized)


def country(value: str) -> str | None:
    code = value.strip().upper()
    return code if code in COUNTRIES else None


def phone(value: str, region: str | None) -> str | None:
    """E.164 (`+525512345678`); a number without `+` is read in `region`."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def postal_code(value: str, country_code: str | None) -> str | None:
    code = " ".join(value.strip().upper().split())
    pattern = _POSTAL_CODES.get(country_code or "")
    if pattern is not None:
        return code if pattern.fullmatch(code) else None
    return code if 0 < len(code) <= 20 else None


def tax_id(value: str, country_code: str | None) -> str | None:
    """MX RFC (with its check digit), AR CUIT, ES NIF/NIE/CIF in their usual
    written form; elsewhere any 1-32 characters."""
    try:
        if country_code == "MX":
            return str(rfc.validate(value, validate_check_digits=True))
        if country_code == "AR":
            return str(cuit.format(cuit.validate(value)))
        if country_code == "ES":
            return str(nif.validate(value))
    except ValidationError:
        return None
    cleaned = value.strip()
    return cleaned if 0 < len(cleaned) <= 32 else None


def clabe(value: str) -> str | None:
    """A Mexican CLABE (18 digits; the last is the check digit of the first 17
    weighted 3, 7, 1 as the Banco de México specifies), or None."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{18}", digits):
        return None
    total = sum(int(d) * (3, 7, 1)[i % 3] % 10 for i, d in enumerate(digits[:17]))
    return digits if (10 - total % 10) % 10 == int(digits[17]) else None


def cbu(value: str) -> str | None:
    """An Argentine CBU (22 digits, two check digits), or None."""
    try:
        return str(stdnum_cbu.validate(value))
    except ValidationError:
        return None


def iban(value: str) -> str | None:
    """An IBAN in its compact form, or None."""
    try:
        return str(stdnum_iban.validate(value))
    except ValidationError:
        return None
