"""Billing import benchmark: lines per second of `clientzone import`.

    python bench/import_throughput.py [--lines 10000] [--database-url postgresql://...]

Builds a file like the billing system's: per account one account line, 20
invoices (two lines each, every fifth with an XML document), 14 payments and
2 credit notes naming invoices, 5 orders and 2 services (44 lines), in date
order. Imports it into a freshly migrated database (a temporary SQLite file,
or the PostgreSQL database given, which should be empty), then imports it
again (every line already imported), and prints lines per second for both.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clientzone.db import Database
from clientzone.importers.billing import import_billing
from clientzone.migrate import upgrade

LINES_PER_ACCOUNT = 44
XML = base64.b64encode(b'<cfdi:Comprobante Folio="X"/>' * 20).decode()


def account_lines(n: int, tag: str) -> list[dict[str, Any]]:
    number = f"IMP-{tag}-{n:05d}"
    start = date(2024, 1, 1)
    lines: list[dict[str, Any]] = [
        {
            "type": "account",
            "number": number,
            "name": f"Cliente {n}",
            "currency": "MXN",
            "email": f"cliente{n}@example.com",
            "country": "MX",
        }
    ]
    for i in range(20):
        issued = start + timedelta(days=30 * i)
        invoice: dict[str, Any] = {
            "type": "invoice",
            "externalId": f"{number}-inv-{i}",
            "account": number,
            "number": f"F-{i:04d}",
            "documentType": "CFDI_INGRESO",
            "issuedOn": issued.isoformat(),
            "dueOn": (issued + timedelta(days=30)).isoformat(),
            "lines": [
                {
                    "description": "Cemento gris 50 kg",
                    "sku": "CEM-50",
                    "quantity": "10",
                    "unitPrice": "189.00",
                    "taxRate": "16",
                },
                {"description": "Flete", "quantity": "1", "unitPrice": f"{100 + i}.50"},
            ],
        }
        if i % 5 == 0:
            invoice["documents"] = [
                {
                    "kind": "XML",
                    "filename": f"F-{i}.xml",
                    "contentType": "application/xml",
                    "contentBase64": XML,
                }
            ]
        lines.append(invoice)
        if i < 14:
            lines.append(
                {
                    "type": "payment",
                    "externalId": f"{number}-pay-{i}",
                    "account": number,
                    "amount": "500.00",
                    "paidOn": (issued + timedelta(days=20)).isoformat(),
                    "reference": f"SPEI-{n}-{i}",
                    "invoices": [f"F-{i:04d}"],
                }
            )
        if i in (15, 18):
            lines.append(
                {
                    "type": "credit_note",
                    "externalId": f"{number}-nc-{i}",
                    "account": number,
                    "number": f"NC-{i}",
                    "issuedOn": (issued + timedelta(days=5)).isoformat(),
                    "amount": "50.00",
                    "invoice": f"F-{i:04d}",
                }
            )
    lines.extend(
        {
            "type": "order",
            "externalId": f"{number}-ord-{i}",
            "account": number,
            "number": f"P-{i}",
            "orderedOn": (start + timedelta(days=7 * i)).isoformat(),
            "status": "DELIVERED",
            "lines": [
                {"description": "Cal", "quantity": "3", "unitPrice": "80.00", "taxRate": "16"}
            ],
        }
        for i in range(5)
    )
    lines.extend(
        {
            "type": "service",
            "externalId": f"{number}-srv-{i}",
            "account": number,
            "name": f"Servicio {i}",
            "kind": "HOSTING",
            "recurringAmount": "299.00",
        }
        for i in range(2)
    )
    return lines


def billing_file(lines: int, tag: str) -> list[str]:
    accounts = max(1, lines // LINES_PER_ACCOUNT)
    return [json.dumps(line) for n in range(accounts) for line in account_lines(n, tag)]


async def main_async(url: str, lines: int) -> None:
    database = Database(url)
    await upgrade(database)
    source = billing_file(lines, str(time.time_ns())[-6:])
    try:
        for label in ("new", "again"):
            started = time.perf_counter()
            report = await import_billing(database, source)
            seconds = time.perf_counter() - started
            if report.errors:
                raise SystemExit(f"bad lines: {report.errors[:3]}")
            print(
                f"{label:>5}: {len(source):,} lines in {seconds:.1f} s = "
                f"{len(source) / seconds:,.0f} lines/s "
                f"({sum(report.imported.values())} imported, {report.skipped} skipped)"
            )
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(main_async(args.database_url, args.lines))
        return
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/bench.db"
        asyncio.run(main_async(url, args.lines))


if __name__ == "__main__":
    main()
