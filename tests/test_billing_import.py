"""Importing billing data: idempotent by external id, a bad line leaves nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from clientzone.db import Database
from clientzone.importers import billing, billing_batch
from clientzone.importers.billing import import_billing
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
        (
            9,
            "type must be brand, account, invoice, payment, credit_note, order, service or product",
        ),
        (10, "unknown account XX-1"),
        (11, "recurringAmount has more decimals than MXN allows"),
        (12, "a document needs kind (PDF/XML), filename, contentType and contentBase64"),
        (13, "conflicts with existing data (duplicate number)"),
        (14, "documents must be a list of at most 10 objects"),
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
    assert done.returncode == 1, done.stderr  # some lines were bad
    assert "] 9/9 lines" in done.stderr
    assert "line 8: not valid JSON" in done.stderr
    assert done.stdout.strip() == (
        "imported: 1 account, 1 credit_note, 2 invoice, 1 order, 1 payment, 1 service; "
        "0 already imported; 2 bad lines skipped"
    )
    again = run_cli("import", str(source), database_url=database_url)
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(json.dumps(line) for line in _lines()) + "\n")
    rerun = run_cli("import", str(clean), database_url=database_url)
    assert (again.returncode, rerun.returncode) == (1, 0)
    assert rerun.stdout.strip() == "imported: 1 account; 6 already imported; 0 bad lines skipped"
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


# --- every field at its limits ------------------------------------------------

HEAD = {"type": "account", "number": "MX-8000", "name": "Límites", "currency": "MXN"}
ITEM = {"description": "Cemento", "quantity": "1", "unitPrice": "100.00", "taxRate": "16"}
INVOICE = {
    "type": "invoice",
    "account": "MX-8000",
    "documentType": "CFDI_INGRESO",
    "issuedOn": "2026-01-05",
    "dueOn": "2026-02-04",
    "lines": [ITEM],
}
PAYMENT = {
    "type": "payment",
    "account": "MX-8000",
    "amount": "10.00",
    "paidOn": "2026-01-20",
    "reference": "SPEI-1",
}
CREDIT = {"type": "credit_note", "account": "MX-8000", "issuedOn": "2026-01-21", "number": "NC"}
ORDER = {"type": "order", "account": "MX-8000", "orderedOn": "2026-01-02", "lines": [ITEM]}
SERVICE = {"type": "service", "account": "MX-8000", "name": "Hosting", "kind": "HOSTING"}
SERVICE = {**SERVICE, "recurringAmount": "299.00"}
_counter = iter(range(10_000))


def _raw(base: dict[str, Any], item: dict[str, Any] | None = None, **fields: Any) -> str:
    """A line of JSON; a value "@x" is written as the bare JSON text x (NaN,
    Infinity, 1e400, a 5,000-digit integer)."""
    n = next(_counter)
    line: dict[str, Any] = {"externalId": f"ext-{n}", "number": f"N-{n}", **base, **fields}
    if item is not None:
        line["lines"] = [{**ITEM, **item}]
    text = json.dumps(line, ensure_ascii=True)
    for value in list(line.values()) + list((item or {}).values()):
        if isinstance(value, str) and value.startswith("@"):
            text = text.replace(json.dumps(value), value[1:])
    return text


MAX_MXN = "10,000,000,000,000.00 MXN"
BAD_LINES: list[tuple[str | bytes, str]] = [
    # numbers: huge, beyond 64 bits, non-finite, negative, wrong type, too precise
    (_raw(INVOICE, {"quantity": "@1e20"}), "quantity is above the maximum of 1,000,000,000"),
    (_raw(INVOICE, {"quantity": "1e20"}), "quantity is above the maximum of 1,000,000,000"),
    (
        _raw(INVOICE, {"quantity": "@" + "9" * 5000}),
        "quantity is above the maximum of 1,000,000,000",
    ),
    (_raw(INVOICE, {"quantity": "@NaN"}), "quantity is not a finite number"),
    (_raw(INVOICE, {"quantity": "@-Infinity"}), "quantity is not a finite number"),
    (_raw(INVOICE, {"quantity": "Infinity"}), "quantity is not a finite number"),
    (_raw(INVOICE, {"quantity": "-1"}), "quantity cannot be negative"),
    (_raw(INVOICE, {"quantity": True}), "quantity is missing or not a number"),
    (_raw(INVOICE, {"quantity": [1]}), "quantity is missing or not a number"),
    (_raw(INVOICE, {"quantity": "diez"}), "quantity is missing or not a number"),
    (_raw(INVOICE, {"unitPrice": "@1e400"}), f"unitPrice is above the maximum of {MAX_MXN}"),
    (
        _raw(INVOICE, {"unitPrice": "92233720368547758.08"}),
        f"unitPrice is above the maximum of {MAX_MXN}",
    ),
    (_raw(INVOICE, {"unitPrice": "-0.01"}), "unitPrice cannot be negative"),
    (_raw(INVOICE, {"unitPrice": "1.001"}), "unitPrice has more decimals than MXN allows"),
    (_raw(INVOICE, {"taxRate": "-16"}), "taxRate cannot be negative"),
    (_raw(INVOICE, {"taxRate": 1600}), "taxRate is above the maximum of 300"),
    (_raw(INVOICE, {"taxRate": "16.125"}), "taxRate has more than two decimals"),
    (
        _raw(INVOICE, {"quantity": "1000000000", "unitPrice": "10000000000000"}),
        f"the total is above the maximum of {MAX_MXN}",
    ),
    (_raw(PAYMENT, amount="@1e30"), f"amount is above the maximum of {MAX_MXN}"),
    (_raw(PAYMENT, amount="-5"), "amount cannot be negative"),
    (_raw(PAYMENT, amount=0), "amount must be above zero"),
    (_raw(PAYMENT, amount="@NaN"), "amount is not a finite number"),
    (_raw(CREDIT, amount="@Infinity"), "amount is not a finite number"),
    (_raw(CREDIT, amount="-100.00"), "amount cannot be negative"),
    (_raw(SERVICE, recurringAmount="@1e400"), f"recurringAmount is above the maximum of {MAX_MXN}"),
    (_raw(SERVICE, recurringAmount="-1"), "recurringAmount cannot be negative"),
    (_raw(ORDER, {"quantity": "@1e20"}), "quantity is above the maximum of 1,000,000,000"),
    # texts: too long, wrong type, NUL, half a surrogate pair
    (_raw(INVOICE, externalId="x" * 101), "externalId is longer than 100 characters"),
    (_raw(INVOICE, number="x" * 41), "number is longer than 40 characters"),
    (_raw(INVOICE, {"description": "x" * 301}), "description is longer than 300 characters"),
    (_raw(PAYMENT, reference="x" * 65), "reference is longer than 64 characters"),
    (_raw(HEAD, number="MX-" + "9" * 30), "number is longer than 32 characters"),
    (_raw(HEAD, name=5), "name is missing or not a text"),
    (_raw(INVOICE, externalId=5), "externalId is missing or not a text"),
    (_raw(SERVICE, name="Hos\u0000ting"), "name contains a NUL or an unpaired surrogate character"),
    (
        _raw(INVOICE, {"description": "\ud800"}),
        "description contains a NUL or an unpaired surrogate character",
    ),
    (
        _raw(ORDER, customerReference="OC-\udfff"),
        "customerReference contains a NUL or an unpaired surrogate character",
    ),
    (
        _raw(SERVICE, **{"na\u0000me": "x"}),
        "a field name contains a NUL or an unpaired surrogate character",
    ),
    # dates, choices, lists and objects of the wrong shape
    (_raw(INVOICE, issuedOn="2026-02-30"), "issuedOn is not a date (YYYY-MM-DD)"),
    (_raw(INVOICE, issuedOn=20260105), "issuedOn is not a date (YYYY-MM-DD)"),
    (_raw(INVOICE, status=5), "status must be one of DRAFT, OPEN, PAID, VOID, OVERDUE"),
    (_raw(INVOICE, lines="x"), "lines must be a non-empty list"),
    (_raw(INVOICE, lines=[ITEM] * 1001), "lines has more than 1000 lines"),
    (_raw(INVOICE, lines=[5]), "line 1 is not an object"),
    (_raw(INVOICE, documents={}), "documents must be a list of at most 10 objects"),
    (_raw(PAYMENT, invoices="A-1"), "invoices must be a list of invoice numbers"),
    (_raw(PAYMENT, invoices=[1]), "invoices must be a list of invoice numbers"),
    (
        _raw(SERVICE, kind=None),
        "kind must be one of HOSTING, DOMAIN, SUBSCRIPTION, SUPPORT_PLAN, OTHER",
    ),
    ("[" * 100_000, "not valid JSON (RecursionError)"),
    (
        json.dumps({"a": "@"}).replace('"@"', "NaN"),
        "type must be brand, account, invoice, payment, credit_note, order, service or product",
    ),
    ('{"type": "invoice", "externalId": "e"', "not valid JSON (Expecting ',' delimiter)"),
    (b'{"type": "service", "name": "Caf\xe9"}', "not valid UTF-8 (byte 33)"),
]

GOOD_LINES = [
    json.dumps(HEAD),
    # at the limits, and a credit note (credits are positive amounts of their own type)
    _raw(INVOICE, {"quantity": "1000000000", "unitPrice": "0.01", "taxRate": "300"}, number="Q"),
    _raw(INVOICE, {"quantity": "1", "unitPrice": "10000000000000", "taxRate": "0"}, number="P"),
    _raw(PAYMENT, amount="10000000000000", invoices=["P"]),
    _raw(CREDIT, amount="10000000.00", invoice="Q"),
    _raw(ORDER, {"quantity": "0", "unitPrice": "0"}),
    _raw(SERVICE, recurringAmount="0"),
]


def _table_file() -> list[str | bytes]:
    """The good lines with every bad line among them."""
    lines: list[str | bytes] = [GOOD_LINES[0]]
    for i, (bad, _) in enumerate(BAD_LINES):
        lines.append(bad)
        if i + 1 < len(GOOD_LINES):
            lines.append(GOOD_LINES[i + 1])
    return lines


def _expected_errors() -> list[tuple[int, str]]:
    numbers = [i + 1 for i, line in enumerate(_table_file()) if line not in GOOD_LINES]
    return list(zip(numbers, [reason for _, reason in BAD_LINES], strict=True))


async def test_every_field_at_its_limits_is_a_bad_line_and_the_rest_goes_in(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "limits.jsonl"
    source.write_bytes(
        b"\n".join(
            x if isinstance(x, bytes) else x.encode("utf-8", "surrogatepass") for x in _table_file()
        )
    )
    # when the file is imported with the command
    done = run_cli("import", str(source), database_url=database_url)
    # then every bad line is reported with its number and reason, and the summary ends the run
    assert done.returncode == 1, done.stderr
    reported = [line for line in done.stderr.splitlines() if line.startswith("line ")]
    assert reported == [f"line {n}: {reason}" for n, reason in _expected_errors()]
    assert done.stdout.strip() == (
        "imported: 1 account, 1 credit_note, 2 invoice, 1 order, 1 payment, 1 service; "
        f"0 already imported; {len(BAD_LINES)} bad lines skipped"
    )
    # and the same rows on every database
    async with database.session() as session:
        invoices = (
            await session.execute(
                select(
                    Invoice.number, Invoice.total_minor, Invoice.paid_minor, Invoice.status
                ).order_by(Invoice.number)
            )
        ).all()
        ledger = (
            await session.execute(
                select(
                    LedgerEntry.kind, LedgerEntry.amount_minor, LedgerEntry.balance_minor
                ).order_by(LedgerEntry.seq)
            )
        ).all()
    assert [tuple(i) for i in invoices] == [
        ("P", 1_000_000_000_000_000, 1_000_000_000_000_000, InvoiceStatus.PAID),
        ("Q", 4_000_000_000, 1_000_000_000, InvoiceStatus.OPEN),
    ]
    assert [(k.value, a, b) for k, a, b in ledger] == [
        ("INVOICE", 4_000_000_000, 4_000_000_000),
        ("INVOICE", 1_000_000_000_000_000, 1_000_004_000_000_000),
        ("PAYMENT", -1_000_000_000_000_000, 4_000_000_000),
        ("CREDIT_NOTE", -1_000_000_000, 3_000_000_000),
    ]


# --- batches --------------------------------------------------------------------


def _numbered(count: int) -> list[str]:
    """An account and `count - 1` services, one per line."""
    services = [
        json.dumps({**SERVICE, "externalId": f"srv-{n}", "name": f"Servicio {n}"})
        for n in range(2, count + 1)
    ]
    return [json.dumps(HEAD), *services]


async def _service_names(database: Database) -> list[str]:
    async with database.session() as session:
        rows = await session.execute(select(Service.name).order_by(Service.external_id))
    return sorted(rows.scalars(), key=lambda name: int(name.split()[-1]))


async def test_a_batch_is_kept_whole_or_not_at_all_on_every_database(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given batches of four lines, and a database that fails on line 7
    monkeypatch.setattr(billing, "BATCH_SIZE", 4)
    apply = billing_batch.Batch.apply

    def failing(batch: billing_batch.Batch, line: Any) -> bool:
        if line.number == 7:
            raise OperationalError("INSERT ...", {}, ConnectionError("server closed"))
        return apply(batch, line)

    monkeypatch.setattr(billing_batch.Batch, "apply", failing)
    # when the file is imported
    report = await import_billing(database, _numbered(10))
    # then the first batch is in, the second left nothing (not even lines 5
    # and 6, applied before the failure), and the run says where it stopped
    assert report.stopped is not None
    assert report.stopped[0] == 5
    assert "server closed" in report.stopped[1]
    assert report.imported == {"account": 1, "service": 3}
    assert await _service_names(database) == ["Servicio 2", "Servicio 3", "Servicio 4"]
    # and running it again (the database back) picks up from there
    monkeypatch.setattr(billing_batch.Batch, "apply", apply)
    again = await import_billing(database, _numbered(10))
    assert (again.imported, again.skipped, again.stopped) == (
        {"account": 1, "service": 6},
        3,
        None,
    )


async def test_a_batch_the_database_refuses_is_run_again_line_by_line(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {**INVOICE, "externalId": "inv-1", "number": "A-1"}
    await import_billing(database, [json.dumps(HEAD), json.dumps(first)])
    # given an invoice number written by someone else after the batch looked it up
    look_up = billing_batch.Batch.look_up

    async def stale(batch: billing_batch.Batch, *args: Any, **kwargs: Any) -> None:
        await look_up(batch, *args, **kwargs)
        batch.invoices.clear()

    monkeypatch.setattr(billing_batch.Batch, "look_up", stale)
    lines = [
        {**INVOICE, "externalId": "inv-2", "number": "A-2"},
        {**INVOICE, "externalId": "inv-3", "number": "A-1"},
        {**ORDER, "externalId": "ord-1", "number": "P-1"},
    ]
    # when the batch is written
    report = await import_billing(database, [json.dumps(line) for line in lines])
    # then only the line at fault is refused, by the database's constraint
    assert report.errors == [(2, "conflicts with existing data (duplicate number)")]
    assert report.imported == {"invoice": 1, "order": 1}
    async with database.session() as session:
        numbers = (await session.execute(select(Invoice.number).order_by(Invoice.number))).all()
        balances = (
            await session.execute(select(LedgerEntry.balance_minor).order_by(LedgerEntry.seq))
        ).scalars()
        assert list(balances) == [11_600, 23_200]
    assert [n for (n,) in numbers] == ["A-1", "A-2"]
    assert await _count(database, Order) == 1


async def test_the_summary_ends_even_a_run_the_database_stops(tmp_path: Path) -> None:
    source = tmp_path / "billing.jsonl"
    source.write_text("\n".join(_numbered(3)) + "\n")
    # a database without the tables (never migrated)
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    done = run_cli("import", str(source), database_url=empty)
    assert done.returncode == 3, done.stderr
    assert "stopped at line 1: OperationalError" in done.stderr
    assert done.stdout.strip() == (
        "imported: nothing; 0 already imported; 0 bad lines skipped; "
        "stopped at line 1: it and the lines after it were not imported"
    )
