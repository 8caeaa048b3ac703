"""One batch of a billing import: looked up in bulk, checked and applied in
memory line by line, written with one multi-row statement per table.

`Batch.look_up` reads what the batch's lines refer to in a few statements;
`Batch.apply` checks a line against that and the lines before it, and only
then changes the batch, so a BadLine leaves nothing; `Batch.write` inserts
parents before children and updates last. The run around it (transactions,
the line-by-line retry, the report) is in billing.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.core.credentials import seal
from clientzone.core.ids import encode_global_id
from clientzone.core.money import from_minor
from clientzone.importers import billing_lines as parse
from clientzone.importers.billing_lines import (
    AccountRecord,
    BadLine,
    CreditRecord,
    InvoiceRecord,
    OrderRecord,
    Record,
    ServiceRecord,
)
from clientzone.models.accounts import Account, AccountStatus
from clientzone.models.base import new_id, utcnow
from clientzone.models.brands import BrandRecord
from clientzone.models.invoices import Invoice, InvoiceDocument, InvoiceLine, InvoiceStatus
from clientzone.models.ledger import LedgerEntry, MovementKind
from clientzone.models.orders import Order, OrderLine, OrderStatus, Service, ServiceStatus
from clientzone.models.products import Product
from clientzone.models.users import Locale
from clientzone.models.webhooks import emit_many

MAX_BALANCE_MINOR = 10**17  # an account's balance stays well inside 64 bits
_IN_CHUNK = 5_000  # values per IN (...): PostgreSQL takes at most 32,767 parameters


def table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _strings(*values: Any) -> list[str]:
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _codes(lines: Sequence[Line], kind: str, name: str) -> set[str]:
    """The codes `name` of the lines of this kind (a product's, a brand's...)."""
    return {c for line in lines if line.kind == kind for c in _strings(line.data.get(name))}


@dataclass
class _Account:
    id: uuid.UUID
    currency: str
    row: dict[str, Any] | None = None  # created in this batch: its pending row


@dataclass
class _Invoice:
    """An invoice a payment or credit note may name."""

    id: uuid.UUID
    status: InvoiceStatus
    total_minor: int
    paid_minor: int
    due_on: date
    row: dict[str, Any] | None = None  # created in this batch: its pending row


@dataclass
class _Status:
    """An order's or service's status, which a later line may change."""

    id: uuid.UUID
    status: str
    row: dict[str, Any] | None = None  # created in this batch: its pending row


@dataclass
class Line:
    """One decoded line, before its checks against the database."""

    number: int
    kind: str
    data: dict[str, Any]
    external_id: str | None


# Which table says a line's externalId was imported.
_SEEN_IN = {
    "invoice": "invoice",
    "payment": "ledger",
    "credit_note": "ledger",
    "order": "order",
    "service": "service",
}
_EXTERNAL_IDS: dict[str, Any] = {
    "invoice": Invoice,
    "ledger": LedgerEntry,
    "order": Order,
    "service": Service,
}

# Kinds whose lines imported before may still change the status (and are
# mailed for it: mailers/lifecycle_mail.py).
_STATUS_OF: dict[str, type[OrderStatus] | type[ServiceStatus]] = {
    "order": OrderStatus,
    "service": ServiceStatus,
}
_STATUS_TABLES: dict[str, Any] = {"order": Order, "service": Service}


# What a product or brand line sets (compared with the stored row: unchanged is skipped).
_PRODUCT_COLUMNS = (
    "code",
    "name_es",
    "name_en",
    "description_es",
    "description_en",
    "kind",
    "active",
    "prices",
)
_BRAND_COLUMNS = (
    "code",
    "company_name",
    "logo_url",
    "support_email",
    "support_phone",
    "from_name",
    "from_address",
    "portal_url",
    "primary_color",
    "accent_color",
)


class _ByCode:
    """Rows matched by `code` (products, brands): a new code is added, a known
    one takes the line's values whole (unchanged: imported before)."""

    def __init__(self, model: Any, columns: tuple[str, ...]) -> None:
        self.model = model
        self.columns = columns
        # By code: the id of a stored row, or the pending row of one added in this batch.
        self.found: dict[str, uuid.UUID | dict[str, Any]] = {}
        self.stored: dict[uuid.UUID, dict[str, Any]] = {}  # values as stored
        self.updates: dict[uuid.UUID, dict[str, Any]] = {}
        self.rows: list[dict[str, Any]] = []

    async def look_up(self, session: AsyncSession, codes: set[str]) -> None:
        if codes:
            rows = table(self.model)
            query = select(rows.c.id, *(rows.c[name] for name in self.columns))
            for row in await _rows_in(session, query, rows.c.code, codes):
                self.found[row.code] = row.id
                self.stored[row.id] = {n: getattr(row, n) for n in self.columns}

    def id_of(self, code: str) -> uuid.UUID | None:
        known = self.found.get(code)
        if isinstance(known, dict):
            identifier: uuid.UUID = known["id"]
            return identifier
        return known

    def apply(self, code: str, values: dict[str, Any], now: datetime) -> bool:
        known = self.found.get(code)
        if isinstance(known, dict):
            known.update(values, updated_at=now)
        elif known is not None:
            if self.stored.get(known) == values:
                return False
            self.stored[known] = dict(values)
            self.updates[known] = {**values, "updated_at": now}
        else:
            row = {"id": new_id(), **values, "created_at": now, "updated_at": now}
            self.rows.append(row)
            self.found[code] = row
        return True

    async def write(self, session: AsyncSession) -> None:
        rows = table(self.model)
        if self.rows:
            await session.execute(insert(rows), self.rows)
        if self.updates:
            columns = [c for c in next(iter(self.updates.values())) if c != "code"]
            await session.execute(
                update(rows)
                .where(rows.c.id == bindparam("row_key"))
                .values({c: bindparam(f"new_{c}") for c in columns}),
                [
                    {"row_key": key, **{f"new_{c}": values[c] for c in columns}}
                    for key, values in self.updates.items()
                ],
            )


# The rows a batch writes, in the order they are inserted (parents first).
_TABLES: dict[str, Any] = {
    "accounts": Account,
    "invoices": Invoice,
    "lines": InvoiceLine,
    "documents": InvoiceDocument,
    "ledger": LedgerEntry,
    "orders": Order,
    "order_lines": OrderLine,
    "services": Service,
}


class Batch:
    """What one batch knows (looked up in bulk) and what it will write."""

    def __init__(
        self,
        document_types: frozenset[str],
        credentials_key: bytes | None = None,
        default_brand: str = "default",
    ) -> None:
        self.now = utcnow()
        self.document_types = document_types
        self.credentials_key = credentials_key
        self.default_brand = default_brand  # BRAND_CODE: no stored brand takes it
        self.accounts: dict[str, _Account] = {}
        self.seen: dict[str, set[str]] = {key: set() for key in _EXTERNAL_IDS}
        self.invoices: dict[tuple[uuid.UUID, str], _Invoice] = {}
        self.order_numbers: set[tuple[uuid.UUID, str]] = set()
        self.tails: dict[uuid.UUID, tuple[int, int]] = {}  # last seq and balance
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in _TABLES}
        self.account_updates: list[tuple[uuid.UUID, dict[str, Any]]] = []
        self.paid: dict[uuid.UUID, _Invoice] = {}  # existing invoices paid (more)
        # Webhook events of this batch, queued with its rows (models.webhooks).
        self.events: list[tuple[uuid.UUID, str, dict[str, Any]]] = []
        self.statuses: dict[tuple[str, str], _Status] = {}  # (kind, external id)
        self.status_changes: dict[str, dict[uuid.UUID, Any]] = {k: {} for k in _STATUS_OF}
        self.products = _ByCode(Product, _PRODUCT_COLUMNS)
        self.brands = _ByCode(BrandRecord, _BRAND_COLUMNS)

    # --- looking up ----------------------------------------------------------

    async def look_up(self, session: AsyncSession, lines: Sequence[Line], lock: bool) -> None:
        numbers: set[str] = set()
        invoice_numbers: set[str] = set()
        order_numbers: set[str] = set()
        external: dict[str, set[str]] = {key: set() for key in _EXTERNAL_IDS}
        await self.products.look_up(session, _codes(lines, "product", "code"))
        brand_codes = _codes(lines, "brand", "code") | _codes(lines, "account", "brand")
        await self.brands.look_up(session, brand_codes)
        for line in lines:
            data = line.data
            numbers.update(_strings(data.get("account"), data.get("parent")))
            if line.kind == "account":
                numbers.update(_strings(data.get("number")))
            elif line.kind == "invoice":
                invoice_numbers.update(_strings(data.get("number")))
            elif line.kind == "order":
                order_numbers.update(_strings(data.get("number")))
            elif line.kind in ("payment", "credit_note"):
                named = data.get("invoices")
                invoice_numbers.update(_strings(*(named if isinstance(named, list) else [])))
                invoice_numbers.update(_strings(data.get("invoice")))
            if line.external_id is not None:
                external[_SEEN_IN[line.kind]].add(line.external_id)
                if line.kind == "invoice":  # its movement carries it too
                    external["ledger"].add(line.external_id)
        account = table(Account)
        for row in await _rows_in(
            session,
            select(account.c.id, account.c.number, account.c.currency),
            account.c.number,
            numbers,
        ):
            self.accounts[row.number] = _Account(row.id, row.currency)
        for key, model in _EXTERNAL_IDS.items():
            columns = table(model).c
            query = select(columns.external_id)
            if key in _STATUS_OF:
                query = query.add_columns(columns.id, columns.status)
            found = await _rows_in(session, query, columns.external_id, external[key])
            self.seen[key].update(row.external_id for row in found)
            if key in _STATUS_OF:
                for row in found:
                    self.statuses[(key, row.external_id)] = _Status(row.id, row.status)
        account_ids = sorted(a.id for a in self.accounts.values())
        if not account_ids:
            return
        if lock:  # PostgreSQL: the same lock as post_movement's, in one order
            await _rows_in(
                session,
                select(account.c.id).order_by(account.c.id).with_for_update(),
                account.c.id,
                account_ids,
            )
        if invoice_numbers:
            invoice = table(Invoice)
            query = select(
                invoice.c.id,
                invoice.c.account_id,
                invoice.c.number,
                invoice.c.status,
                invoice.c.total_minor,
                invoice.c.paid_minor,
                invoice.c.due_on,
            ).where(invoice.c.account_id.in_(account_ids))
            for row in await _rows_in(session, query, invoice.c.number, invoice_numbers):
                self.invoices[(row.account_id, row.number)] = _Invoice(
                    id=row.id,
                    status=InvoiceStatus(row.status),
                    total_minor=row.total_minor,
                    paid_minor=row.paid_minor,
                    due_on=row.due_on,
                )
        if order_numbers:
            order = table(Order)
            query = select(order.c.account_id, order.c.number).where(
                order.c.account_id.in_(account_ids)
            )
            for row in await _rows_in(session, query, order.c.number, order_numbers):
                self.order_numbers.add((row.account_id, row.number))
        ledger = table(LedgerEntry)
        last = (
            select(ledger.c.account_id, func.max(ledger.c.seq).label("seq"))
            .where(ledger.c.account_id.in_(account_ids))
            .group_by(ledger.c.account_id)
            .subquery()
        )
        tails = select(ledger.c.account_id, ledger.c.seq, ledger.c.balance_minor).join(
            last, and_(ledger.c.account_id == last.c.account_id, ledger.c.seq == last.c.seq)
        )
        for row in (await session.execute(tails)).all():
            self.tails[row.account_id] = (row.seq, row.balance_minor)

    # --- checking and applying one line ----------------------------------------

    def apply(self, line: Line) -> bool:
        """Apply one line to the batch; False when it was imported before.
        Every check comes before the first change: a BadLine leaves nothing."""
        if line.kind == "account":
            self._account(parse.account_record(line.data))
            return True
        if line.kind == "product":
            record = parse.product_record(line.data)
            return self.products.apply(record.code, record.values, self.now)
        if line.kind == "brand":
            brand = parse.brand_record(line.data, self.default_brand)
            return self.brands.apply(brand.code, brand.values, self.now)
        assert line.external_id is not None
        if line.external_id in self.seen[_SEEN_IN[line.kind]]:
            return self._status_change(line)
        found: Record = parse.record(line.kind, line.data, line.external_id)
        if isinstance(found, InvoiceRecord):
            self._invoice(found)
        elif isinstance(found, CreditRecord):
            self._credit(found)
        elif isinstance(found, OrderRecord):
            self._order(found)
        else:
            assert isinstance(found, ServiceRecord)
            self._service(found)
        return True

    def _status_change(self, line: Line) -> bool:
        """An order or service imported before: only a new `status` is taken
        (False, as for any line imported before, when there is none)."""
        assert line.external_id is not None
        known = self.statuses.get((line.kind, line.external_id))
        if known is None or "status" not in line.data:
            return False
        status = parse.enum(line.data, "status", _STATUS_OF[line.kind])
        if status == known.status:
            return False
        # -- nothing below can fail
        known.status = status
        if known.row is not None:
            known.row["status"] = status
        else:
            self.status_changes[line.kind][known.id] = status
        return True

    def _account_of(self, number: str) -> _Account:
        account = self.accounts.get(number)
        if account is None:
            raise BadLine(f"unknown account {number}")
        return account

    def _account(self, record: AccountRecord) -> None:
        parent = None
        if record.parent is not None:
            parent = self.accounts.get(record.parent)
            if parent is None:
                raise BadLine(f"unknown parent {record.parent}")
        brand_id = None
        if record.brand is not None:
            brand_id = self.brands.id_of(record.brand)
            if brand_id is None:
                raise BadLine(f"unknown brand {record.brand}")
        values = {
            **record.values,
            "parent_id": parent.id if parent else None,
            "brand_id": brand_id,
        }
        existing = self.accounts.get(record.number)
        if existing is not None and existing.currency != record.currency:
            raise BadLine(
                f"account {record.number} is in {existing.currency}, not {record.currency}"
            )
        if existing is None:
            row = {
                "id": new_id(),
                "number": record.number,
                "currency": record.currency,
                "status": AccountStatus.ACTIVE,
                "locale": Locale.ES,
                "created_at": self.now,
                "updated_at": self.now,
                **values,
            }
            self.rows["accounts"].append(row)
            self.accounts[record.number] = _Account(row["id"], record.currency, row)
            self.tails[row["id"]] = (0, 0)
            return
        # Only what the line carries: a billing system sending fewer fields must
        # not wipe what the account already has (nor unlink it from its parent).
        changes = {column: values[column] for column in record.given}
        if existing.row is not None:
            existing.row.update(changes)
        elif changes:
            self.account_updates.append((existing.id, changes))

    def _post(
        self,
        account: _Account,
        *,
        kind: MovementKind,
        amount_minor: int,
        reference: str,
        description: str,
        day: date,
        external_id: str,
    ) -> None:
        """Append a movement after the account's last one (`_check_posting` first)."""
        seq, balance = self.tails.get(account.id, (0, 0))
        self.tails[account.id] = (seq + 1, balance + amount_minor)
        self.rows["ledger"].append(
            {
                "id": new_id(),
                "account_id": account.id,
                "seq": seq + 1,
                "posted_at": _at(day),
                "kind": kind,
                "reference": reference,
                "description": description,
                "currency": account.currency,
                "amount_minor": amount_minor,
                "balance_minor": balance + amount_minor,
                "external_id": external_id,
                "created_at": self.now,
            }
        )
        self.seen["ledger"].add(external_id)

    def _check_posting(self, account: _Account, amount_minor: int, external_id: str) -> None:
        if external_id in self.seen["ledger"]:
            raise BadLine("conflicts with existing data (duplicate external_id)")
        balance = self.tails.get(account.id, (0, 0))[1] + amount_minor
        if abs(balance) > MAX_BALANCE_MINOR:
            raise BadLine("the account's balance would be beyond the maximum")

    def _invoice(self, record: InvoiceRecord) -> None:
        account = self._account_of(record.account)
        if record.document_type not in self.document_types:
            raise BadLine(f"unknown documentType {record.document_type}")
        priced = parse.priced(record.items, account.currency)
        if (account.id, record.number) in self.invoices:
            raise BadLine("conflicts with existing data (duplicate number)")
        total = sum(p.total_minor for p in priced)
        # A draft was never issued and a void one is cancelled: neither is owed.
        posted = record.status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
        if posted:
            self._check_posting(account, total, record.external_id)
        # -- nothing below can fail
        paid = total if record.status is InvoiceStatus.PAID else 0
        invoice_id = new_id()
        row = {
            "id": invoice_id,
            "account_id": account.id,
            "external_id": record.external_id,
            "number": record.number,
            "document_type": record.document_type,
            "issued_on": record.issued_on,
            "due_on": record.due_on,
            "currency": account.currency,
            "subtotal_minor": sum(p.subtotal_minor for p in priced),
            "tax_minor": sum(p.tax_minor for p in priced),
            "total_minor": total,
            "paid_minor": paid,
            "status": record.status,
            "created_at": self.now,
        }
        self.rows["invoices"].append(row)
        self.invoices[(account.id, record.number)] = _Invoice(
            invoice_id, record.status, total, paid, record.due_on, row
        )
        self.seen["invoice"].add(record.external_id)
        if posted:
            self.events.append(
                (
                    account.id,
                    "invoice.issued",
                    {
                        "invoiceId": encode_global_id("Invoice", invoice_id),
                        "number": record.number,
                        "issuedOn": record.issued_on.isoformat(),
                        "dueOn": record.due_on.isoformat() if record.due_on else None,
                        "total": str(from_minor(total, account.currency)),
                        "currency": account.currency,
                        "status": record.status.value,
                    },
                )
            )
        self.rows["lines"].extend(
            {
                "id": new_id(),
                "invoice_id": invoice_id,
                "position": p.item.position,
                "description": p.item.description,
                "quantity_milli": p.quantity_milli,
                "unit_price_minor": p.unit_price_minor,
                "tax_rate_bp": p.tax_rate_bp,
                "subtotal_minor": p.subtotal_minor,
                "tax_minor": p.tax_minor,
                "total_minor": p.total_minor,
            }
            for p in priced
        )
        self.rows["documents"].extend(
            {
                "id": new_id(),
                "invoice_id": invoice_id,
                "kind": document.kind,
                "filename": document.filename,
                "content_type": document.content_type,
                "size": len(document.content),
                "sha256": document.sha256,
                "content": document.content,
                "created_at": self.now,
            }
            for document in record.documents
        )
        if posted:
            self._post(
                account,
                kind=MovementKind.INVOICE,
                amount_minor=total,
                reference=record.number,
                description=f"{record.document_type} {record.number}",
                day=record.issued_on,
                external_id=record.external_id,
            )

    def _credit(self, record: CreditRecord) -> None:
        account = self._account_of(record.account)
        amount = parse.minor("amount", record.amount, account.currency)
        named = [self.invoices.get((account.id, number)) for number in record.invoices]
        invoices = [i for i in named if i is not None]
        if len(invoices) != len(named):
            raise BadLine("an invoice named is not in that account")
        if any(i.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID) for i in invoices):
            raise BadLine("a draft or void invoice cannot be paid")
        self._check_posting(account, -amount, record.external_id)
        # -- nothing below can fail
        self._post(
            account,
            kind=record.kind,
            amount_minor=-amount,
            reference=record.reference,
            description=record.description,
            day=record.day,
            external_id=record.external_id,
        )
        numbers = {i.id: n for n, i in zip(record.invoices, invoices, strict=True)}
        # Earliest due first; what is left stays as credit in the balance.
        for invoice in sorted(invoices, key=lambda i: i.due_on):
            applied = min(amount, invoice.total_minor - invoice.paid_minor)
            invoice.paid_minor += applied
            amount -= applied
            if (
                invoice.paid_minor >= invoice.total_minor
                and invoice.status is not InvoiceStatus.PAID
            ):
                invoice.status = InvoiceStatus.PAID
                self.events.append(
                    (
                        account.id,
                        "invoice.paid",
                        {
                            "invoiceId": encode_global_id("Invoice", invoice.id),
                            "number": numbers[invoice.id],
                            "reference": record.reference,
                        },
                    )
                )
            if invoice.row is not None:
                invoice.row.update(paid_minor=invoice.paid_minor, status=invoice.status)
            else:
                self.paid[invoice.id] = invoice

    def _order(self, record: OrderRecord) -> None:
        account = self._account_of(record.account)
        priced = parse.priced(record.items, account.currency)
        if (account.id, record.number) in self.order_numbers:
            raise BadLine("conflicts with existing data (duplicate number)")
        # -- nothing below can fail
        order_id = new_id()
        row = {
            "id": order_id,
            "account_id": account.id,
            "external_id": record.external_id,
            "number": record.number,
            "customer_reference": record.customer_reference,
            "ordered_on": record.ordered_on,
            "status": record.status,
            "currency": account.currency,
            "total_minor": sum(p.total_minor for p in priced),
            "created_at": self.now,
        }
        self.rows["orders"].append(row)
        self.statuses[("order", record.external_id)] = _Status(order_id, record.status, row)
        self.order_numbers.add((account.id, record.number))
        self.seen["order"].add(record.external_id)
        self.rows["order_lines"].extend(
            {
                "id": new_id(),
                "order_id": row["id"],
                "position": p.item.position,
                "sku": p.item.sku,
                "description": p.item.description,
                "quantity_milli": p.quantity_milli,
                "unit_price_minor": p.unit_price_minor,
                "total_minor": p.total_minor,
            }
            for p in priced
        )

    def _service(self, record: ServiceRecord) -> None:
        account = self._account_of(record.account)
        recurring = parse.minor("recurringAmount", record.recurring_amount, account.currency)
        sealed = None
        if record.credentials is not None:
            if self.credentials_key is None:
                raise BadLine("credentials cannot be stored: the import was given no key")
            sealed = seal(self.credentials_key, record.credentials)
        service_id = new_id()
        row: dict[str, Any] = {
            "id": service_id,
            "account_id": account.id,
            "external_id": record.external_id,
            "name": record.name,
            "kind": record.kind,
            "status": record.status,
            "billing_cycle": record.billing_cycle,
            "next_due_on": record.next_due_on,
            "expires_on": record.expires_on,
            "currency": account.currency,
            "recurring_minor": recurring,
            "created_at": self.now,
            "started_on": record.started_on,
            "access_instructions": record.access_instructions,
            "credentials_sealed": sealed,
        }
        self.rows["services"].append(row)
        self.statuses[("service", record.external_id)] = _Status(service_id, record.status, row)
        self.seen["service"].add(record.external_id)

    # --- writing -----------------------------------------------------------------

    async def write(self, session: AsyncSession) -> None:
        """One multi-row INSERT per table, parents first, then the updates."""
        await self.brands.write(session)  # before the accounts naming them
        for name, model in _TABLES.items():
            if name == "invoices":
                await self._update_accounts(session)
            if self.rows[name]:
                await session.execute(insert(table(model)), self.rows[name])
        if self.paid:
            invoice = table(Invoice)
            await session.execute(
                update(invoice)
                .where(invoice.c.id == bindparam("paid_id"))
                .values(paid_minor=bindparam("paid"), status=bindparam("paid_status")),
                [
                    {"paid_id": i.id, "paid": i.paid_minor, "paid_status": i.status}
                    for i in self.paid.values()
                ],
            )
        await self.products.write(session)
        for kind, changes in self.status_changes.items():
            if changes:
                changed = table(_STATUS_TABLES[kind])
                await session.execute(
                    update(changed)
                    .where(changed.c.id == bindparam("changed_id"))
                    .values(status=bindparam("new_status"), status_changed_at=self.now),
                    [{"changed_id": i, "new_status": s} for i, s in changes.items()],
                )
        await emit_many(session, self.events)

    async def _update_accounts(self, session: AsyncSession) -> None:
        """Existing accounts' changes, one UPDATE for each set of columns."""
        account = table(Account)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for account_id, changes in self.account_updates:
            columns = tuple(sorted(changes))
            by_columns.setdefault(columns, []).append(
                {"account_key": account_id, **{f"new_{c}": changes[c] for c in columns}}
            )
        for columns, params in by_columns.items():
            statement = (
                update(account)
                .where(account.c.id == bindparam("account_key"))
                .values({c: bindparam(f"new_{c}") for c in columns})
            )
            await session.execute(statement, params)


async def _rows_in(
    session: AsyncSession, query: Any, column: Any, values: Iterable[Any]
) -> list[Any]:
    """`query` filtered by `column IN values`, in chunks (no parameter limit)."""
    pending = list(values)
    rows: list[Any] = []
    for start in range(0, len(pending), _IN_CHUNK):
        chunk = pending[start : start + _IN_CHUNK]
        rows.extend((await session.execute(query.where(column.in_(chunk)))).all())
    return rows
