"""Importing the billing system's data from JSON lines (`clientzone import FILE`).

Each line is one object with a `type`: account, invoice, payment, credit_note,
order or service (docs/billing.md shows each). Lines are applied in file
order, each in its own savepoint: a bad line is reported with its number and
leaves nothing behind, the others go in. Everything but accounts carries an
`externalId`; a line whose externalId was already imported is skipped, so the
same file can be imported again. Accounts are matched by customer number.
Invoices, payments and credit notes are posted to the ledger in file order:
give them in date order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone import validators
from clientzone.db import Database
from clientzone.models.accounts import Account, account_by_number
from clientzone.models.invoices import (
    DocumentKind,
    DocumentType,
    Invoice,
    InvoiceDocument,
    InvoiceLine,
    InvoiceStatus,
)
from clientzone.models.ledger import LedgerEntry, MovementKind, post_movement
from clientzone.models.orders import (
    BillingCycle,
    Order,
    OrderLine,
    OrderStatus,
    Service,
    ServiceKind,
    ServiceStatus,
)
from clientzone.money import minor_unit_exponent, to_minor

BATCH_SIZE = 200


class BadLine(ValueError):
    pass


@dataclass
class ImportReport:
    imported: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # already imported
    errors: list[tuple[int, str]] = field(default_factory=list)


def _text(data: dict[str, Any], name: str, maximum: int = 200, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadLine(f"{name} is missing or not a text")
    if len(value.strip()) > maximum:
        raise BadLine(f"{name} is longer than {maximum} characters")
    return value.strip()


def _date(data: dict[str, Any], name: str, required: bool = True) -> date | None:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadLine(f"{name} is not a date (YYYY-MM-DD)") from None


def _decimal(data: dict[str, Any], name: str, currency: str | None = None) -> Decimal:
    try:
        value = Decimal(str(data[name]))
    except (KeyError, InvalidOperation):
        raise BadLine(f"{name} is missing or not a number") from None
    if not value.is_finite():
        raise BadLine(f"{name} is not a number")
    if currency and value != round(value, minor_unit_exponent(currency)):
        raise BadLine(f"{name} has more decimals than {currency} allows")
    return value


def _enum(data: dict[str, Any], name: str, kind: Any, default: Any = None) -> Any:
    value = data.get(name, default)
    try:
        return kind(value)
    except ValueError:
        raise BadLine(f"{name} must be one of {', '.join(k.value for k in kind)}") from None


async def _account(session: AsyncSession, data: dict[str, Any]) -> Account:
    number = _text(data, "account", 32)
    assert number is not None
    account = await account_by_number(session, number)
    if account is None:
        raise BadLine(f"unknown account {number}")
    return account


async def _seen(session: AsyncSession, model: Any, external_id: str) -> bool:
    statement = select(model.id).where(model.external_id == external_id)
    return (await session.execute(statement)).first() is not None


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


async def _import_account(session: AsyncSession, data: dict[str, Any]) -> bool:
    number = _text(data, "number", 32)
    assert number is not None
    currency = (_text(data, "currency", 3) or "").upper()
    if len(currency) != 3:
        raise BadLine("currency must be an ISO 4217 code")
    parent = None
    if data.get("parent"):
        parent = await account_by_number(session, str(data["parent"]))
        if parent is None:
            raise BadLine(f"unknown parent {data['parent']}")
    existing = await account_by_number(session, number)
    email = _text(data, "email", 254, required=False)
    if email is not None and validators.email(email) is None:
        raise BadLine(f"email {email!r} is not an email address")
    country = _text(data, "country", 2, required=False)
    if country is not None and validators.country(country) is None:
        raise BadLine(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    values: dict[str, Any] = {
        "name": _text(data, "name"),
        "company_name": _text(data, "companyName", required=False),
        "email": validators.email(email) if email else None,
        "tax_id": _text(data, "taxId", 32, required=False),
        "country": validators.country(country) if country else None,
        "parent_id": parent.id if parent else None,
    }
    if existing is None:
        session.add(Account(number=number, currency=currency, **values))
        return True
    if existing.currency != currency:
        raise BadLine(f"account {number} is in {existing.currency}, not {currency}")
    # Only what the line carries: a billing system sending fewer fields must
    # not wipe what the account already has (nor unlink it from its parent).
    given = {
        "name": "name",
        "companyName": "company_name",
        "email": "email",
        "taxId": "tax_id",
        "country": "country",
        "parent": "parent_id",
    }
    for key, name in given.items():
        if key in data:
            setattr(existing, name, values[name])
    session.add(existing)
    return False


@dataclass(frozen=True)
class _Line:
    position: int
    description: str
    sku: str | None
    quantity_milli: int
    unit_price_minor: int
    tax_rate_bp: int
    subtotal_minor: int
    tax_minor: int

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.tax_minor


def _lines(data: dict[str, Any], currency: str) -> list[_Line]:
    raw = data.get("lines")
    if not isinstance(raw, list) or not raw:
        raise BadLine("lines must be a non-empty list")
    lines: list[_Line] = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise BadLine(f"line {position} is not an object")
        quantity = _decimal(item, "quantity")
        price = to_minor(_decimal(item, "unitPrice", currency), currency)
        rate = _decimal(item, "taxRate") if "taxRate" in item else Decimal(0)
        subtotal = int((quantity * price).to_integral_value())
        tax = int((subtotal * rate / 100).to_integral_value())
        lines.append(
            _Line(
                position=position,
                description=_text(item, "description", 300) or "",
                sku=str(item.get("sku") or "")[:60] or None,
                quantity_milli=int(quantity * 1000),
                unit_price_minor=price,
                tax_rate_bp=int(rate * 100),
                subtotal_minor=subtotal,
                tax_minor=tax,
            )
        )
    return lines


async def _import_invoice(session: AsyncSession, data: dict[str, Any], external_id: str) -> None:
    account = await _account(session, data)
    kind = _text(data, "documentType", 32) or ""
    if await session.get(DocumentType, kind) is None:
        raise BadLine(f"unknown documentType {kind}")
    issued = _date(data, "issuedOn")
    due = _date(data, "dueOn")
    assert issued is not None
    assert due is not None
    if due < issued:
        raise BadLine("dueOn is before issuedOn")
    status = _enum(data, "status", InvoiceStatus, "OPEN")
    if status is InvoiceStatus.OVERDUE:
        raise BadLine("status OVERDUE is derived; import it as OPEN")
    lines = _lines(data, account.currency)
    invoice = Invoice(
        account_id=account.id,
        external_id=external_id,
        number=_text(data, "number", 40) or "",
        document_type=kind,
        issued_on=issued,
        due_on=due,
        currency=account.currency,
        subtotal_minor=sum(line.subtotal_minor for line in lines),
        tax_minor=sum(line.tax_minor for line in lines),
        total_minor=sum(line.total_minor for line in lines),
        status=status,
    )
    if status is InvoiceStatus.PAID:
        invoice.paid_minor = invoice.total_minor
    session.add(invoice)
    await session.flush()
    session.add_all(
        InvoiceLine(
            invoice_id=invoice.id,
            position=line.position,
            description=line.description,
            quantity_milli=line.quantity_milli,
            unit_price_minor=line.unit_price_minor,
            tax_rate_bp=line.tax_rate_bp,
            subtotal_minor=line.subtotal_minor,
            tax_minor=line.tax_minor,
            total_minor=line.total_minor,
        )
        for line in lines
    )
    for document in data.get("documents") or []:
        try:
            content = base64.b64decode(str(document["contentBase64"]), validate=True)
            session.add(
                InvoiceDocument(
                    invoice_id=invoice.id,
                    kind=DocumentKind(document["kind"]),
                    filename=str(document["filename"])[:200],
                    content_type=str(document["contentType"])[:100],
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    content=content,
                )
            )
        except (KeyError, ValueError, binascii.Error):
            raise BadLine(
                "a document needs kind (PDF/XML), filename, contentType and contentBase64"
            ) from None
    # A draft was never issued and a void one is cancelled: neither is owed.
    if status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        await post_movement(
            session,
            account_id=account.id,
            kind=MovementKind.INVOICE,
            amount_minor=invoice.total_minor,
            currency=account.currency,
            reference=invoice.number,
            description=f"{kind} {invoice.number}",
            posted_at=_at(issued),
            external_id=external_id,
        )


async def _import_credit(
    session: AsyncSession, data: dict[str, Any], external_id: str, kind: MovementKind
) -> None:
    account = await _account(session, data)
    amount = to_minor(_decimal(data, "amount", account.currency), account.currency)
    if amount <= 0:
        raise BadLine("amount must be above zero")
    day = _date(data, "paidOn" if kind is MovementKind.PAYMENT else "issuedOn")
    assert day is not None
    reference = _text(data, "reference" if kind is MovementKind.PAYMENT else "number", 64) or ""
    await post_movement(
        session,
        account_id=account.id,
        kind=kind,
        amount_minor=-amount,
        currency=account.currency,
        reference=reference,
        description=_text(data, "description", 300, required=False) or "",
        posted_at=_at(day),
        external_id=external_id,
    )
    numbers = data.get("invoices") or ([data["invoice"]] if data.get("invoice") else [])
    if numbers:
        invoices = (
            (
                await session.execute(
                    select(Invoice)
                    .where(
                        col(Invoice.account_id) == account.id,
                        col(Invoice.number).in_([str(n) for n in numbers]),
                    )
                    .order_by(col(Invoice.due_on))
                )
            )
            .scalars()
            .all()
        )
        if len(invoices) != len(set(numbers)):
            raise BadLine("an invoice named is not in that account")
        if any(i.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID) for i in invoices):
            raise BadLine("a draft or void invoice cannot be paid")
        for invoice in invoices:
            applied = min(amount, invoice.total_minor - invoice.paid_minor)
            invoice.paid_minor += applied
            amount -= applied
            if invoice.paid_minor >= invoice.total_minor:
                invoice.status = InvoiceStatus.PAID
            session.add(invoice)


async def _import_order(session: AsyncSession, data: dict[str, Any], external_id: str) -> None:
    account = await _account(session, data)
    ordered = _date(data, "orderedOn")
    assert ordered is not None
    lines = _lines(data, account.currency)
    order = Order(
        account_id=account.id,
        external_id=external_id,
        number=_text(data, "number", 40) or "",
        customer_reference=_text(data, "customerReference", 80, required=False),
        ordered_on=ordered,
        status=_enum(data, "status", OrderStatus, "PENDING"),
        currency=account.currency,
        total_minor=sum(line.total_minor for line in lines),
    )
    session.add(order)
    await session.flush()
    session.add_all(
        OrderLine(
            order_id=order.id,
            position=line.position,
            sku=line.sku,
            description=line.description,
            quantity_milli=line.quantity_milli,
            unit_price_minor=line.unit_price_minor,
            total_minor=line.total_minor,
        )
        for line in lines
    )


async def _import_service(session: AsyncSession, data: dict[str, Any], external_id: str) -> None:
    account = await _account(session, data)
    session.add(
        Service(
            account_id=account.id,
            external_id=external_id,
            name=_text(data, "name") or "",
            kind=_enum(data, "kind", ServiceKind),
            status=_enum(data, "status", ServiceStatus, "ACTIVE"),
            billing_cycle=_enum(data, "billingCycle", BillingCycle, "MONTHLY"),
            next_due_on=_date(data, "nextDueOn", required=False),
            expires_on=_date(data, "expiresOn", required=False),
            currency=account.currency,
            recurring_minor=to_minor(
                _decimal(data, "recurringAmount", account.currency), account.currency
            ),
        )
    )


_BY_EXTERNAL_ID: dict[str, Any] = {
    "invoice": Invoice,
    "payment": LedgerEntry,
    "credit_note": LedgerEntry,
    "order": Order,
    "service": Service,
}


async def _apply(session: AsyncSession, data: dict[str, Any]) -> bool:
    """Apply one line; False when it was imported before."""
    kind = data.get("type")
    if kind == "account":
        await _import_account(session, data)
        return True
    if kind not in _BY_EXTERNAL_ID:
        raise BadLine("type must be account, invoice, payment, credit_note, order or service")
    external_id = _text(data, "externalId", 100)
    assert external_id is not None
    if await _seen(session, _BY_EXTERNAL_ID[kind], external_id):
        return False
    if kind == "invoice":
        await _import_invoice(session, data, external_id)
    elif kind == "payment":
        await _import_credit(session, data, external_id, MovementKind.PAYMENT)
    elif kind == "credit_note":
        await _import_credit(session, data, external_id, MovementKind.CREDIT_NOTE)
    elif kind == "order":
        await _import_order(session, data, external_id)
    else:
        await _import_service(session, data, external_id)
    return True


async def import_billing(
    database: Database,
    lines: Iterable[str],
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    pending = list(enumerate(lines, start=1))
    for start in range(0, len(pending), BATCH_SIZE):
        async with database.transaction() as session:
            for number, text in pending[start : start + BATCH_SIZE]:
                if not text.strip():
                    continue
                try:
                    data = json.loads(text)
                    if not isinstance(data, dict):
                        raise BadLine("not a JSON object")
                    async with session.begin_nested():
                        applied = await _apply(session, data)
                except json.JSONDecodeError as exc:
                    report.errors.append((number, f"not valid JSON ({exc.msg})"))
                except BadLine as exc:
                    report.errors.append((number, str(exc)))
                except IntegrityError as exc:
                    report.errors.append(
                        (number, f"conflicts with existing data ({_constraint(exc)})")
                    )
                except (TypeError, AttributeError):
                    # e.g. `"documents": "x"` or `"invoices": 5`: a list or object expected.
                    report.errors.append((number, "a field has the wrong JSON type"))
                else:
                    if applied:
                        report.imported[data["type"]] = report.imported.get(data["type"], 0) + 1
                    else:
                        report.skipped += 1
        if progress is not None:
            progress(min(start + BATCH_SIZE, len(pending)))
    return report


def _constraint(exc: IntegrityError) -> str:
    text = str(exc.orig)
    for name in ("number", "external_id", "seq"):
        if name in text:
            return f"duplicate {name}"
    return "constraint"
