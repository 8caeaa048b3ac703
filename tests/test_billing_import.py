"""Importing billing data: idempotent by external id, a bad line leaves nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from clientzone.billing_import import import_billing
from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.invoices import Invoice, InvoiceDocument, InvoiceStatus
from clientzone.models.ledger import LedgerEntry
from clientzone.models.orders import Order, Service
from tests.test_cli import run_cli

XML = b'<cfdi:Comprobante Folio="A-1"/>'


def _lines() -> list[dict[str, Any]]:
    invoice = {
        "type": "invoice",
        "externalId": "inv-1",
        "account": "MX-7000",
        "number": "A-1",
        "documentType": "CFDI_INGRESO",
        "issuedOn": "2026-01-05",
        "dueOn": "2026-02-04",
        "lines": [
            {"description": "Cemento", "quantity": "10", "unitPrice": "189.00", "taxRate": "16"}
        ],
        "documents": [
            {
                "kind": "XML",
                "filename": "A-1.xml",
                "contentType": "application/xml",
                "contentBase64": base64.b64encode(XML).decode(),
            }
        ],
    }
    return [
        {"type": "account", "number": "MX-7000", "name": "Obras del Norte", "currency": "MXN"},
        invoice,
        {
            **invoice,
            "externalId": "inv-2",
            "number": "A-2",
            "issuedOn": "2026-02-05",
            "dueOn": "2026-03-07",
            "documents": [],
        },
        {
            "type": "payment",
            "externalId": "pay-1",
            "account": "MX-7000",
            "amount": "2192.40",
            "paidOn": "2026-01-20",
            "reference": "SPEI-1",
            "invoices": ["A-1"],
        },
        {
            "type": "credit_note",
            "externalId": "nc-1",
            "account": "MX-7000",
            "number": "NC-1",
            "issuedOn": "2026-02-10",
            "amount": "100.00",
            "invoice": "A-2",
        },
        {
            "type": "order",
            "externalId": "ord-1",
            "account": "MX-7000",
            "number": "P-1",
            "customerReference": "OC-9",
            "orderedOn": "2026-01-02",
            "status": "DELIVERED",
            "lines": [{"description": "Cemento", "quantity": "10", "unitPrice": "189.00"}],
        },
        {
            "type": "service",
            "externalId": "srv-1",
            "account": "MX-7000",
            "name": "Hosting",
            "kind": "HOSTING",
            "billingCycle": "MONTHLY",
            "recurringAmount": "299.00",
        },
    ]


BAD = [
    "{not json",
    json.dumps({"type": "refund"}),
    json.dumps(
        {
            "type": "order",
            "externalId": "o-x",
            "account": "XX-1",
            "number": "P-9",
            "orderedOn": "2026-01-01",
            "lines": [{"description": "a", "quantity": "1", "unitPrice": "1"}],
        }
    ),
    json.dumps(
        {
            "type": "service",
            "externalId": "s-x",
            "account": "MX-7000",
            "name": "X",
            "kind": "HOSTING",
            "recurringAmount": "1.001",
        }
    ),
    # A good invoice whose document is broken: nothing of it may stay.
    json.dumps(
        {
            "type": "invoice",
            "externalId": "inv-bad",
            "account": "MX-7000",
            "number": "A-9",
            "documentType": "CFDI_INGRESO",
            "issuedOn": "2026-03-01",
            "dueOn": "2026-03-31",
            "lines": [{"description": "x", "quantity": "1", "unitPrice": "10.00"}],
            "documents": [
                {"kind": "XML", "filename": "a.xml", "contentType": "x", "contentBase64": "%%%"}
            ],
        }
    ),
    # Same number as A-1 under another external id.
    json.dumps(
        {
            "type": "invoice",
            "externalId": "inv-dup",
            "account": "MX-7000",
            "number": "A-1",
            "documentType": "CFDI_INGRESO",
            "issuedOn": "2026-03-01",
            "dueOn": "2026-03-31",
            "lines": [{"description": "x", "quantity": "1", "unitPrice": "10.00"}],
        }
    ),
    # Documents must be a list of objects.
    json.dumps(
        {
            "type": "invoice",
            "externalId": "inv-shape",
            "account": "MX-7000",
            "number": "A-8",
            "documentType": "CFDI_INGRESO",
            "issuedOn": "2026-03-01",
            "dueOn": "2026-03-31",
            "lines": [{"description": "x", "quantity": "1", "unitPrice": "10.00"}],
            "documents": "factura.pdf",
        }
    ),
]


async def _count(database: Database, model: Any) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_file_imports_once_and_bad_lines_leave_nothing(database: Database) -> None:
    lines = [json.dumps(line) for line in _lines()] + BAD
    report = await import_billing(database, lines)
    assert report.imported == {
        "account": 1,
        "invoice": 2,
        "payment": 1,
        "credit_note": 1,
        "order": 1,
        "service": 1,
    }
    assert report.errors == [
        (8, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (9, "type must be account, invoice, payment, credit_note, order or service"),
        (10, "unknown account XX-1"),
        (11, "recurringAmount has more decimals than MXN allows"),
        (12, "a document needs kind (PDF/XML), filename, contentType and contentBase64"),
        (13, "conflicts with existing data (duplicate number)"),
        (14, "a field has the wrong JSON type"),
    ]
    async with database.session() as session:
        invoices = {i.number: i for i in (await session.execute(select(Invoice))).scalars()}
        ledger = list(
            (await session.execute(select(LedgerEntry).order_by(LedgerEntry.seq))).scalars()
        )
    assert set(invoices) == {"A-1", "A-2"}  # A-9 left nothing behind
    assert invoices["A-1"].status is InvoiceStatus.PAID
    assert invoices["A-2"].paid_minor == 10_000
    assert [(e.kind.value, e.amount_minor, e.balance_minor) for e in ledger] == [
        ("INVOICE", 219_240, 219_240),
        ("INVOICE", 219_240, 438_480),
        ("PAYMENT", -219_240, 219_240),
        ("CREDIT_NOTE", -10_000, 209_240),
    ]
    assert await _count(database, InvoiceDocument) == 1
    again = await import_billing(database, [json.dumps(line) for line in _lines()])
    assert (again.imported, again.skipped, again.errors) == ({"account": 1}, 6, [])
    assert await _count(database, LedgerEntry) == 4
    assert await _count(database, Order) == 1
    assert await _count(database, Service) == 1


async def test_the_cli_shows_progress_errors_and_a_summary(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "billing.jsonl"
    source.write_text("\n".join([json.dumps(line) for line in _lines()] + BAD[:2]) + "\n")
    done = run_cli("import", str(source), database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "] 9/9 lines" in done.stderr
    assert "line 8: not valid JSON" in done.stderr
    assert done.stdout.strip() == (
        "imported: 1 account, 1 credit_note, 2 invoice, 1 order, 1 payment, 1 service; "
        "0 already imported; 2 bad lines skipped"
    )
    missing = run_cli("import", str(tmp_path / "none.jsonl"), database_url=database_url)
    assert missing.returncode == 2


async def test_a_void_invoice_is_not_owed_nor_payable(database: Database) -> None:
    account = {"type": "account", "number": "MX-7100", "name": "Obra", "currency": "MXN"}
    void = {
        "type": "invoice",
        "externalId": "inv-void",
        "account": "MX-7100",
        "number": "V-1",
        "documentType": "CFDI_INGRESO",
        "issuedOn": "2026-02-01",
        "dueOn": "2026-03-01",
        "status": "VOID",
        "lines": [{"description": "x", "quantity": "1", "unitPrice": "10.00"}],
    }
    payment = {
        "type": "payment",
        "externalId": "pay-void",
        "account": "MX-7100",
        "amount": "10.00",
        "paidOn": "2026-02-10",
        "reference": "SPEI-9",
        "invoices": ["V-1"],
    }
    report = await import_billing(database, [json.dumps(x) for x in (account, void, payment)])
    assert report.errors == [(3, "a draft or void invoice cannot be paid")]
    async with database.session() as session:
        movements = (await session.execute(select(func.count()).select_from(LedgerEntry))).scalar()
        invoice = (await session.execute(select(Invoice))).scalar_one()
    assert movements == 0
    assert invoice.status is InvoiceStatus.VOID


async def test_an_account_line_changes_only_what_it_carries(database: Database) -> None:
    parent = {"type": "account", "number": "MX-7200", "name": "Matriz", "currency": "MXN"}
    full = {
        "type": "account",
        "number": "MX-7201",
        "name": "Sucursal",
        "currency": "MXN",
        "email": "Compras@Sucursal.example.com",
        "taxId": "SUC150310AB1",
        "country": "mx",
        "parent": "MX-7200",
    }
    renamed = {"type": "account", "number": "MX-7201", "name": "Sucursal Norte", "currency": "MXN"}
    bad = [
        {**renamed, "email": "no es un email"},
        {**renamed, "country": "XX"},
    ]
    lines = [json.dumps(x) for x in (parent, full, renamed, *bad)]
    report = await import_billing(database, lines)
    assert report.errors == [
        (4, "email 'no es un email' is not an email address"),
        (5, "country 'XX' is not an ISO 3166-1 alpha-2 code"),
    ]
    async with database.session() as session:
        accounts = {a.number: a for a in (await session.execute(select(Account))).scalars()}
    branch = accounts["MX-7201"]
    assert branch.name == "Sucursal Norte"
    assert (branch.email, branch.tax_id, branch.country) == (
        "compras@sucursal.example.com",
        "SUC150310AB1",
        "MX",
    )
    assert branch.parent_id == accounts["MX-7200"].id


async def test_an_invoice_due_before_it_is_issued_is_a_bad_line(database: Database) -> None:
    account = {"type": "account", "number": "MX-7300", "name": "Obra", "currency": "MXN"}
    backwards = {
        "type": "invoice",
        "externalId": "inv-back",
        "account": "MX-7300",
        "number": "B-1",
        "documentType": "CFDI_INGRESO",
        "issuedOn": "2026-03-01",
        "dueOn": "2026-02-28",
        "lines": [{"description": "x", "quantity": "1", "unitPrice": "10.00"}],
    }
    report = await import_billing(database, [json.dumps(account), json.dumps(backwards)])
    assert report.errors == [(2, "dueOn is before issuedOn")]
