"""Documents rendered from data: an invoice's PDF (when none was supplied) and
account statements as CSV and PDF, with the account's brand (its company
name and support contacts; clientzone/brands.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fpdf import FPDF

from clientzone.brands import Brand
from clientzone.core.money import from_minor
from clientzone.models.accounts import Account
from clientzone.models.invoices import Invoice, InvoiceLine
from clientzone.models.ledger import LedgerEntry
from clientzone.models.users import Locale

LABELS = {
    Locale.ES: {
        "invoice": "Factura",
        "issued": "Fecha",
        "due": "Vencimiento",
        "customer": "Cliente",
        "tax_id": "Id. fiscal",
        "description": "Descripción",
        "quantity": "Cant.",
        "unit_price": "Precio",
        "total": "Importe",
        "subtotal": "Subtotal",
        "taxes": "Impuestos",
        "grand_total": "Total",
        "statement": "Estado de cuenta",
        "period": "Periodo",
        "opening": "Saldo inicial",
        "closing": "Saldo final",
        "debits": "Cargos",
        "credits": "Abonos",
        "date": "Fecha",
        "kind": "Tipo",
        "reference": "Referencia",
        "amount": "Importe",
        "balance": "Saldo",
    },
    Locale.EN: {
        "invoice": "Invoice",
        "issued": "Issued",
        "due": "Due",
        "customer": "Customer",
        "tax_id": "Tax id",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Price",
        "total": "Amount",
        "subtotal": "Subtotal",
        "taxes": "Taxes",
        "grand_total": "Total",
        "statement": "Account statement",
        "period": "Period",
        "opening": "Opening balance",
        "closing": "Closing balance",
        "debits": "Debits",
        "credits": "Credits",
        "date": "Date",
        "kind": "Type",
        "reference": "Reference",
        "amount": "Amount",
        "balance": "Balance",
    },
}


@dataclass(frozen=True)
class StatementData:
    account: Account
    since: date
    until: date  # inclusive
    opening_minor: int
    movements: Sequence[LedgerEntry]

    @property
    def debits_minor(self) -> int:
        return sum(m.amount_minor for m in self.movements if m.amount_minor > 0)

    @property
    def credits_minor(self) -> int:
        return sum(m.amount_minor for m in self.movements if m.amount_minor < 0)

    @property
    def closing_minor(self) -> int:
        return self.opening_minor + self.debits_minor + self.credits_minor


def statement_period(since: date, until: date, max_days: int) -> tuple[datetime, datetime]:
    """[start, end) in UTC for a statement covering both dates; ValueError with an
    i18n key when the period is reversed or too long."""
    if until < since:
        raise ValueError("statement.order")
    if (until - since).days >= max_days:
        raise ValueError("statement.too_long")
    start = datetime.combine(since, time.min, tzinfo=UTC)
    return start, datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)


def _money(minor: int, currency: str) -> str:
    return (
        f"{from_minor(minor, currency):,.{2 if currency not in ('CLP', 'JPY') else 0}f} {currency}"
    )


_PLAIN = str.maketrans({"–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "..."})


def latin1(text: str) -> str:
    """The built-in PDF fonts cover Latin-1 (all of Spanish); other characters
    get their plain equivalent or '?' instead of failing the document."""
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


class _Page(FPDF):
    def __init__(self, brand: Brand) -> None:
        super().__init__(format="A4")
        self.brand = brand.company_name
        self.contact = " · ".join(filter(None, (brand.support_email, brand.support_phone)))
        self.set_auto_page_break(auto=True, margin=18)
        self.add_page()

    def normalize_text(self, text: str) -> str:
        return str(super().normalize_text(latin1(text)))

    def header(self) -> None:
        self.set_font("Helvetica", "B", 14)
        self.cell(0, 8, self.brand, new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 8)
        self.cell(0, 5, self.contact, new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def row(self, cells: Sequence[tuple[str, float, str]], bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 9)
        for text, width, align in cells:
            self.cell(width, 6, text, border="B" if bold else 0, align=align)
        self.ln(6)


def invoice_pdf(
    brand: Brand,
    *,
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    account: Account,
    document_type_name: str,
    locale: Locale,
) -> bytes:
    text = LABELS[locale]
    currency = invoice.currency
    pdf = _Page(brand)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, f"{document_type_name} {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for label, value in (
        (text["issued"], invoice.issued_on.isoformat()),
        (text["due"], invoice.due_on.isoformat()),
        (text["customer"], f"{account.number} - {account.company_name or account.name}"),
        (text["tax_id"], account.tax_id or "-"),
    ):
        pdf.cell(35, 5, label)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (90, 20, 35, 35)
    pdf.row(
        [
            (text[k], w, "L" if k == "description" else "R")
            for k, w in zip(("description", "quantity", "unit_price", "total"), widths, strict=True)
        ],
        bold=True,
    )
    for line in lines:
        pdf.row(
            [
                (line.description[:60], widths[0], "L"),
                (f"{line.quantity_milli / 1000:g}", widths[1], "R"),
                (_money(line.unit_price_minor, currency), widths[2], "R"),
                (_money(line.total_minor, currency), widths[3], "R"),
            ]
        )
    pdf.ln(2)
    for key, amount in (
        ("subtotal", invoice.subtotal_minor),
        ("taxes", invoice.tax_minor),
        ("grand_total", invoice.total_minor),
    ):
        pdf.row(
            [(text[key], 145, "R"), (_money(amount, currency), 35, "R")], bold=key == "grand_total"
        )
    return bytes(pdf.output())


def statement_csv(data: StatementData, locale: Locale) -> bytes:
    text = LABELS[locale]
    out = io.StringIO()
    writer = csv.writer(out)
    currency = data.account.currency
    writer.writerow(
        [
            text["date"],
            text["kind"],
            text["reference"],
            text["description"],
            text["amount"],
            text["balance"],
            "currency",
        ]
    )
    writer.writerow(
        [
            data.since.isoformat(),
            "",
            "",
            text["opening"],
            "",
            from_minor(data.opening_minor, currency),
            currency,
        ]
    )
    for m in data.movements:
        writer.writerow(
            [
                m.posted_at.date().isoformat(),
                m.kind.value,
                m.reference,
                m.description,
                from_minor(m.amount_minor, currency),
                from_minor(m.balance_minor, currency),
                currency,
            ]
        )
    writer.writerow(
        [
            data.until.isoformat(),
            "",
            "",
            text["closing"],
            "",
            from_minor(data.closing_minor, currency),
            currency,
        ]
    )
    return out.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheets read UTF-8


def statement_pdf(brand: Brand, data: StatementData, locale: Locale) -> bytes:
    text = LABELS[locale]
    currency = data.account.currency
    pdf = _Page(brand)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, f"{text['statement']} {data.account.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0,
        5,
        f"{text['period']}: {data.since.isoformat()} - {data.until.isoformat()}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    widths = (25, 30, 30, 55, 20, 20)
    pdf.row([(text["opening"], 140, "L"), (_money(data.opening_minor, currency), 40, "R")])
    pdf.row(
        [
            (text[k], w, "L")
            for k, w in zip(
                ("date", "kind", "reference", "description", "amount", "balance"),
                widths,
                strict=True,
            )
        ],
        bold=True,
    )
    for m in data.movements:
        pdf.row(
            [
                (m.posted_at.date().isoformat(), widths[0], "L"),
                (m.kind.value, widths[1], "L"),
                (m.reference[:18], widths[2], "L"),
                (m.description[:32], widths[3], "L"),
                (f"{from_minor(m.amount_minor, currency)}", widths[4], "R"),
                (f"{from_minor(m.balance_minor, currency)}", widths[5], "R"),
            ]
        )
    pdf.ln(2)
    for key, amount in (
        ("debits", data.debits_minor),
        ("credits", data.credits_minor),
        ("closing", data.closing_minor),
    ):
        pdf.row([(text[key], 140, "R"), (_money(amount, currency), 40, "R")], bold=key == "closing")
    return bytes(pdf.output())
