"""Reading one line of a billing file: JSON to a checked record, or BadLine.

Everything that does not need the database is checked here, so a line that
passes can only still fail on what the database knows (its account, invoice
numbers in use, invoices it pays). Numbers are read as decimals (never
floats) and checked against ranges before any arithmetic, so no value of any
size or kind (1e20, 1e400, NaN, Infinity, a 5,000-digit integer) gets past
as anything but a bad line with its reason. Strings with a NUL character or
half of a UTF-16 surrogate pair are refused: neither database stores them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from clientzone.core import validators
from clientzone.core.credentials import Credentials
from clientzone.core.money import from_minor, minor_unit_exponent, to_minor
from clientzone.models.invoices import DocumentKind, InvoiceStatus
from clientzone.models.ledger import MovementKind
from clientzone.models.orders import BillingCycle, OrderStatus, ServiceKind, ServiceStatus

# Ranges (the database keeps 64-bit integers; these leave room for sums).
MAX_AMOUNT_MINOR = 10**15  # any amount, line or total, in minor units
MAX_QUANTITY = Decimal(10**9)
MAX_TAX_RATE = Decimal(300)  # percent; a rate in basis points (1600) is refused
MAX_LINES = 1000  # lines of one invoice or order
MAX_DOCUMENTS = 10

TYPES = ("brand", "account", "invoice", "payment", "credit_note", "order", "service", "product")
# Lines keyed by something else than an externalId (a customer number, a code).
UNKEYED = ("brand", "account", "product")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadLine(ValueError):
    """A line that is reported (with this reason) and leaves nothing behind."""


def decode(text: str) -> dict[str, Any]:
    """The line's JSON object, with every number as a Decimal."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # e.g. nested a thousand levels deep
        raise BadLine(f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise BadLine("not a JSON object")
    _check_strings(data)
    return data


def _check_strings(data: dict[str, Any]) -> None:
    """Every string, keys included, at any depth (a loop: no recursion limit)."""
    pending: list[tuple[Any, str]] = [(data, "")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise BadLine(
                    f"{where or 'a field'} contains a NUL or an unpaired surrogate character"
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                pending.append((key, "a field name"))
                pending.append((item, key))
        elif isinstance(value, list):
            pending.extend((item, where) for item in value)


def kind_of(data: dict[str, Any]) -> str:
    kind = data.get("type")
    if kind not in TYPES:
        raise BadLine(
            "type must be brand, account, invoice, payment, credit_note, order, service or product"
        )
    return str(kind)


def text(data: dict[str, Any], name: str, maximum: int = 200, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadLine(f"{name} is missing or not a text")
    if len(value.strip()) > maximum:
        raise BadLine(f"{name} is longer than {maximum} characters")
    return value.strip()


def required_text(data: dict[str, Any], name: str, maximum: int = 200) -> str:
    value = text(data, name, maximum)
    assert value is not None
    return value


def day(data: dict[str, Any], name: str, required: bool = True) -> date | None:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        return date.fromisoformat(value if isinstance(value, str) else "")
    except ValueError:
        raise BadLine(f"{name} is not a date (YYYY-MM-DD)") from None


def required_day(data: dict[str, Any], name: str) -> date:
    value = day(data, name)
    assert value is not None
    return value


def number(data: dict[str, Any], name: str, *, maximum: Decimal | None = None) -> Decimal:
    """A finite, non-negative decimal (a JSON number or a string), at most
    `maximum`; an amount (no `maximum`) is bounded by `minor` once its
    currency is known. Only comparisons here: no size of number can fail."""
    value = data.get(name)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            value = None
    if not isinstance(value, Decimal):
        raise BadLine(f"{name} is missing or not a number")
    if not value.is_finite():
        raise BadLine(f"{name} is not a finite number")
    if value < 0:
        raise BadLine(f"{name} cannot be negative")
    if maximum is not None and value > maximum:
        raise BadLine(f"{name} is above the maximum of {maximum:,}")
    return value


def minor(name: str, value: Decimal, currency: str) -> int:
    """An amount read by `number`, in the currency's minor units, at most
    MAX_AMOUNT_MINOR (checked before any rounding: 1e400 is only compared)."""
    top = from_minor(MAX_AMOUNT_MINOR, currency)
    if value > top:
        raise BadLine(f"{name} is above the maximum of {top:,} {currency}")
    if value != round(value, minor_unit_exponent(currency)):
        raise BadLine(f"{name} has more decimals than {currency} allows")
    return to_minor(value, currency)


def enum(data: dict[str, Any], name: str, kind: type[StrEnum], default: str | None = None) -> Any:
    value = data.get(name, default)
    try:
        if not isinstance(value, str):
            raise ValueError
        return kind(value)
    except ValueError:
        raise BadLine(f"{name} must be one of {', '.join(k.value for k in kind)}") from None


# --- records ------------------------------------------------------------------

ACCOUNT_FIELDS = {
    "name": "name",
    "companyName": "company_name",
    "email": "email",
    "taxId": "tax_id",
    "country": "country",
    "parent": "parent_id",
    "brand": "brand_id",
}


@dataclass(frozen=True)
class AccountRecord:
    number: str
    currency: str
    values: dict[str, Any]  # every column but parent_id
    parent: str | None  # the parent's customer number
    given: frozenset[str]  # the columns the line carries (parent_id, brand_id included)
    brand: str | None = None  # the brand's code


@dataclass(frozen=True)
class Item:
    """An invoice or order line before its currency is known."""

    position: int
    description: str
    sku: str | None
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal


@dataclass(frozen=True)
class Document:
    kind: DocumentKind
    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class InvoiceRecord:
    external_id: str
    account: str
    number: str
    document_type: str
    issued_on: date
    due_on: date
    status: InvoiceStatus
    items: list[Item]
    documents: list[Document]


@dataclass(frozen=True)
class CreditRecord:
    """A payment or a credit note: a ledger credit applied to named invoices."""

    kind: MovementKind
    external_id: str
    account: str
    amount: Decimal
    day: date
    reference: str
    description: str
    invoices: tuple[str, ...]


@dataclass(frozen=True)
class OrderRecord:
    external_id: str
    account: str
    number: str
    customer_reference: str | None
    ordered_on: date
    status: OrderStatus
    items: list[Item]


@dataclass(frozen=True)
class ServiceRecord:
    external_id: str
    account: str
    name: str
    kind: ServiceKind
    status: ServiceStatus
    billing_cycle: BillingCycle
    next_due_on: date | None
    expires_on: date | None
    recurring_amount: Decimal
    started_on: date | None = None
    access_instructions: str | None = None
    credentials: Credentials | None = None  # sealed before it is written


@dataclass(frozen=True)
class ProductRecord:
    """A catalogue entry; prices per currency already in minor units."""

    code: str
    values: dict[str, Any]  # every column but id and the timestamps


Record = AccountRecord | InvoiceRecord | CreditRecord | OrderRecord | ServiceRecord


def account_record(data: dict[str, Any]) -> AccountRecord:
    number_ = required_text(data, "number", 32)
    currency = (text(data, "currency", 3) or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BadLine("currency must be an ISO 4217 code")
    parent = data.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise BadLine("parent is not a text")
    parent = parent.strip() if parent else None
    brand = data.get("brand")
    if brand is not None and not isinstance(brand, str):
        raise BadLine("brand is not a text")
    brand = brand.strip() if brand else None
    email = text(data, "email", 254, required=False)
    if email is not None and validators.email(email) is None:
        raise BadLine(f"email {email!r} is not an email address")
    country = text(data, "country", 2, required=False)
    if country is not None and validators.country(country) is None:
        raise BadLine(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    values: dict[str, Any] = {
        "name": required_text(data, "name"),
        "company_name": text(data, "companyName", required=False),
        "email": validators.email(email) if email else None,
        "tax_id": text(data, "taxId", 32, required=False),
        "country": validators.country(country) if country else None,
    }
    given = frozenset(column for key, column in ACCOUNT_FIELDS.items() if key in data)
    return AccountRecord(number_, currency, values, parent or None, given, brand or None)


_PRODUCT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class BrandLine:
    """A brand (docs/brands.md); its values are every column but id and the timestamps."""

    code: str
    values: dict[str, Any]


def _url(data: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = text(data, name, 500, required=required)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("https", "http") and bool(parts.hostname) and " " not in value
    except ValueError:  # e.g. an unclosed IPv6 bracket
        valid = False
    if not valid:
        raise BadLine(f"{name} must be an http(s) URL")
    return value.rstrip("/")


def _address(data: dict[str, Any], name: str) -> str:
    value = required_text(data, name, 254)
    normalized = validators.email(value)
    if normalized is None:
        raise BadLine(f"{name} {value!r} is not an email address")
    return normalized


def _color(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not _COLOR.fullmatch(value.strip()):
        raise BadLine(f"{name} must be a colour as #RRGGBB")
    return value.strip().upper()


def brand_record(data: dict[str, Any], default_code: str) -> BrandLine:
    code = required_text(data, "code", 40)
    if not _PRODUCT_CODE.fullmatch(code):
        raise BadLine("code may hold only letters, digits, '.', '_' and '-'")
    if code == default_code:
        raise BadLine(f"code {code} is the default brand's (BRAND_CODE)")
    company_name = required_text(data, "companyName")
    return BrandLine(
        code=code,
        values={
            "code": code,
            "company_name": company_name,
            "logo_url": _url(data, "logoUrl", required=False),
            "support_email": _address(data, "supportEmail"),
            "support_phone": text(data, "supportPhone", 32, required=False),
            "from_name": text(data, "fromName", required=False) or company_name,
            "from_address": _address(data, "fromAddress"),
            "portal_url": _url(data, "portalUrl"),
            "primary_color": _color(data, "primaryColor"),
            "accent_color": _color(data, "accentColor"),
        },
    )


def product_record(data: dict[str, Any]) -> ProductRecord:
    code = required_text(data, "code", 40)
    if not _PRODUCT_CODE.fullmatch(code):
        raise BadLine("code may hold only letters, digits, '.', '_' and '-'")
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise BadLine("active must be true or false")
    return ProductRecord(
        code=code,
        values={
            "code": code,
            "name_es": required_text(data, "nameEs"),
            "name_en": required_text(data, "nameEn"),
            "description_es": text(data, "descriptionEs", 4000, required=False),
            "description_en": text(data, "descriptionEn", 4000, required=False),
            "kind": enum(data, "kind", ServiceKind, "OTHER"),
            "active": active,
            "prices": _prices(data),
        },
    )


def _prices(data: dict[str, Any]) -> dict[str, int]:
    """{"EUR": 1200}: whole minor units per ISO 4217 currency."""
    raw = data.get("prices")
    if not isinstance(raw, dict):
        raise BadLine("prices must be an object of currency codes and amounts in minor units")
    prices: dict[str, int] = {}
    for currency, amount in raw.items():
        code = currency.strip().upper()
        if len(code) != 3 or not code.isalpha() or not code.isascii():
            raise BadLine(f"prices: {currency!r} is not an ISO 4217 code")
        name = f"prices.{code}"
        value = number({name: amount}, name, maximum=Decimal(MAX_AMOUNT_MINOR))
        if value != value.to_integral_value():
            raise BadLine(f"{name} must be a whole number of minor units")
        prices[code] = int(value)
    return prices


def _items(data: dict[str, Any]) -> list[Item]:
    raw = data.get("lines")
    if not isinstance(raw, list) or not raw:
        raise BadLine("lines must be a non-empty list")
    if len(raw) > MAX_LINES:
        raise BadLine(f"lines has more than {MAX_LINES} lines")
    items = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise BadLine(f"line {position} is not an object")
        sku = item.get("sku")
        if sku is not None and not isinstance(sku, str | Decimal):
            raise BadLine("sku is not a text")
        items.append(
            Item(
                position=position,
                description=required_text(item, "description", 300),
                sku=str(sku or "").strip()[:60] or None,
                quantity=number(item, "quantity", maximum=MAX_QUANTITY),
                unit_price=number(item, "unitPrice"),
                tax_rate=(
                    number(item, "taxRate", maximum=MAX_TAX_RATE)
                    if "taxRate" in item
                    else Decimal(0)
                ),
            )
        )
        if items[-1].tax_rate != round(items[-1].tax_rate, 2):
            raise BadLine("taxRate has more than two decimals")
    return items


def _documents(data: dict[str, Any]) -> list[Document]:
    raw = data.get("documents")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_DOCUMENTS:
        raise BadLine(f"documents must be a list of at most {MAX_DOCUMENTS} objects")
    documents = []
    for item in raw:
        try:
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) for k in ("filename", "contentType", "contentBase64")
            ):
                raise ValueError
            documents.append(
                Document(
                    kind=DocumentKind(str(item.get("kind"))),
                    filename=item["filename"][:200],
                    content_type=item["contentType"][:100],
                    content=base64.b64decode(item["contentBase64"], validate=True),
                )
            )
        except (ValueError, binascii.Error):
            raise BadLine(
                "a document needs kind (PDF/XML), filename, contentType and contentBase64"
            ) from None
    return documents


def invoice_record(data: dict[str, Any], external_id: str) -> InvoiceRecord:
    account = required_text(data, "account", 32)
    document_type = required_text(data, "documentType", 32)
    issued = required_day(data, "issuedOn")
    due = required_day(data, "dueOn")
    if due < issued:
        raise BadLine("dueOn is before issuedOn")
    status = enum(data, "status", InvoiceStatus, "OPEN")
    if status is InvoiceStatus.OVERDUE:
        raise BadLine("status OVERDUE is derived; import it as OPEN")
    return InvoiceRecord(
        external_id=external_id,
        account=account,
        number=required_text(data, "number", 40),
        document_type=document_type,
        issued_on=issued,
        due_on=due,
        status=status,
        items=_items(data),
        documents=_documents(data),
    )


def credit_record(data: dict[str, Any], external_id: str, kind: MovementKind) -> CreditRecord:
    account = required_text(data, "account", 32)
    amount = number(data, "amount")
    if amount == 0:
        raise BadLine("amount must be above zero")
    payment = kind is MovementKind.PAYMENT
    named = data.get("invoices")
    if named is None:
        single = data.get("invoice")
        named = [single] if single else []
    if not isinstance(named, list) or not all(isinstance(n, str) for n in named):
        raise BadLine("invoices must be a list of invoice numbers")
    return CreditRecord(
        kind=kind,
        external_id=external_id,
        account=account,
        amount=amount,
        day=required_day(data, "paidOn" if payment else "issuedOn"),
        reference=required_text(data, "reference" if payment else "number", 64),
        description=text(data, "description", 300, required=False) or "",
        invoices=tuple(dict.fromkeys(n.strip() for n in named)),
    )


def order_record(data: dict[str, Any], external_id: str) -> OrderRecord:
    return OrderRecord(
        external_id=external_id,
        account=required_text(data, "account", 32),
        number=required_text(data, "number", 40),
        customer_reference=text(data, "customerReference", 80, required=False),
        ordered_on=required_day(data, "orderedOn"),
        status=enum(data, "status", OrderStatus, "PENDING"),
        items=_items(data),
    )


def service_record(data: dict[str, Any], external_id: str) -> ServiceRecord:
    return ServiceRecord(
        external_id=external_id,
        account=required_text(data, "account", 32),
        name=required_text(data, "name"),
        kind=enum(data, "kind", ServiceKind),
        status=enum(data, "status", ServiceStatus, "ACTIVE"),
        billing_cycle=enum(data, "billingCycle", BillingCycle, "MONTHLY"),
        next_due_on=day(data, "nextDueOn", required=False),
        expires_on=day(data, "expiresOn", required=False),
        recurring_amount=number(data, "recurringAmount"),
        started_on=day(data, "startedOn", required=False),
        access_instructions=text(data, "accessInstructions", 4000, required=False),
        credentials=_credentials(data),
    )


def _credentials(data: dict[str, Any]) -> Credentials | None:
    """{"username": ..., "password": ...}: the control panel's login."""
    raw = data.get("credentials")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadLine("credentials must be an object with username and password")
    password = raw.get("password")
    if not isinstance(password, str) or not password or len(password) > 200:
        raise BadLine("credentials.password is missing, not a text or longer than 200 characters")
    return Credentials(username=required_text(raw, "username", 200), password=password)


def record(kind: str, data: dict[str, Any], external_id: str) -> Record:
    if kind == "invoice":
        return invoice_record(data, external_id)
    if kind == "payment":
        return credit_record(data, external_id, MovementKind.PAYMENT)
    if kind == "credit_note":
        return credit_record(data, external_id, MovementKind.CREDIT_NOTE)
    if kind == "order":
        return order_record(data, external_id)
    return service_record(data, external_id)


@dataclass(frozen=True)
class Priced:
    """An item priced in its currency (minor units; rate in basis points)."""

    item: Item
    quantity_milli: int
    unit_price_minor: int
    tax_rate_bp: int
    subtotal_minor: int
    tax_minor: int

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.tax_minor


def priced(items: list[Item], currency: str) -> list[Priced]:
    """Each line's subtotal (quantity x price, rounded) and tax (subtotal x
    rate / 100, rounded), every one of them and their sum within range."""
    result = []
    for item in items:
        price = minor("unitPrice", item.unit_price, currency)
        subtotal = int((item.quantity * price).to_integral_value())
        tax = int((subtotal * item.tax_rate / 100).to_integral_value())
        result.append(
            Priced(
                item=item,
                quantity_milli=int(item.quantity * 1000),
                unit_price_minor=price,
                tax_rate_bp=int(item.tax_rate * 100),
                subtotal_minor=subtotal,
                tax_minor=tax,
            )
        )
    if sum(p.total_minor for p in result) > MAX_AMOUNT_MINOR:
        top = from_minor(MAX_AMOUNT_MINOR, currency)
        raise BadLine(f"the total is above the maximum of {top:,} {currency}")
    return result
