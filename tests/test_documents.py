"""Invoice documents and statements through short-lived signed links."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import delete, update

from clientzone.db import Database
from clientzone.models.invoices import DocumentKind, InvoiceDocument
from clientzone.models.ledger import MovementKind, post_movement
from clientzone.models.memberships import Membership, Permission
from tests.conftest import Portal
from tests.helpers import BASE_URL, gid, make_invoice

CFDI = b'<?xml version="1.0" encoding="UTF-8"?><cfdi:Comprobante Folio="F-1"/>'
DOCUMENTS = """
query($id: ID) {
  account(id: $id) {
    invoices { nodes { number documents { kind filename contentType size url } } }
  }
}
"""


async def _links(portal: Portal, client: Any = None) -> list[dict[str, Any]]:
    data = await (client or portal.owner).data(DOCUMENTS, {"id": gid("Account", portal.parent.id)})
    documents: list[dict[str, Any]] = data["account"]["invoices"]["nodes"][0]["documents"]
    return documents


async def _get(portal: Portal, url: str, **headers: str) -> Any:
    assert url.startswith("http://127.0.0.1:8000/documents/")
    return await portal.anonymous.http.get(
        url.replace("http://127.0.0.1:8000", BASE_URL), headers=headers
    )


async def _with_xml(portal: Portal, database: Database) -> None:
    invoice = await make_invoice(database, portal.parent, "F-1", issued_on=date(2026, 10, 1))
    async with database.session() as session, session.begin():
        session.add(
            InvoiceDocument(
                invoice_id=invoice.id,
                kind=DocumentKind.XML,
                filename="F-1.xml",
                content_type="application/xml",
                size=len(CFDI),
                sha256=hashlib.sha256(CFDI).hexdigest(),
                content=CFDI,
            )
        )


async def test_documents_download_with_the_right_headers(
    portal: Portal, database: Database
) -> None:
    await _with_xml(portal, database)
    pdf, xml = await _links(portal)
    assert (pdf["kind"], pdf["filename"], pdf["contentType"], pdf["size"]) == (
        "PDF",
        "F-1.pdf",
        "application/pdf",
        None,
    )
    assert (xml["kind"], xml["size"]) == ("XML", len(CFDI))
    rendered = await _get(portal, pdf["url"])
    assert rendered.status_code == 200
    assert rendered.headers["content-type"] == "application/pdf"
    assert rendered.content.startswith(b"%PDF")
    assert rendered.headers["content-disposition"] == 'attachment; filename="F-1.pdf"'
    assert rendered.headers["cache-control"] == "private, no-store"
    supplied = await _get(portal, xml["url"])
    assert supplied.content == CFDI
    assert supplied.headers["content-type"].startswith("application/xml")


async def test_links_expire_and_cannot_be_forged(portal: Portal, database: Database) -> None:
    await _with_xml(portal, database)
    _, xml = await _links(portal)
    mac = xml["url"].rpartition(".")[2]
    forged = xml["url"].replace(mac, mac[:-2] + ("AA" if not mac.endswith("AA") else "BB"))
    assert (await _get(portal, forged)).status_code == 404
    assert (await _get(portal, xml["url"] + "x")).status_code == 404
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11), tick=False):
        assert (await _get(portal, xml["url"])).status_code == 404
    assert (await _get(portal, xml["url"])).status_code == 200


async def test_the_permission_is_checked_again_on_download(
    portal: Portal, database: Database
) -> None:
    await _with_xml(portal, database)
    _, xml = await _links(portal, portal.member)  # Luis: INVOICES_VIEW, INVOICES_PAY
    assert (await _get(portal, xml["url"])).status_code == 200
    async with database.session() as session, session.begin():
        await session.execute(
            update(Membership)
            .where(Membership.user_id == portal.member_user.id)
            .values(permissions=frozenset({Permission.CASES_VIEW}))
        )
    assert (await _get(portal, xml["url"])).status_code == 403
    async with database.session() as session, session.begin():
        await session.execute(delete(Membership).where(Membership.user_id == portal.member_user.id))
    # No longer in the account: as if the file did not exist.
    assert (await _get(portal, xml["url"])).status_code == 404


STATEMENT = """
query($id: ID, $from: Date!, $to: Date!) {
  account(id: $id) {
    balance { amount }
    statement(from: $from, to: $to) {
      from to openingBalance { amount } totalDebits { amount } totalCredits { amount }
      closingBalance { amount } movements { reference amount { amount } balance { amount } }
      csvUrl pdfUrl
    }
  }
}
"""


async def test_statement_totals_equal_the_ledger_and_download(
    portal: Portal, database: Database
) -> None:
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    async with database.transaction() as session:
        for i, amount in enumerate([10_000, -4_000, 2_500, -8_000, 3_000]):
            await post_movement(
                session,
                account_id=portal.parent.id,
                kind=MovementKind.INVOICE if amount > 0 else MovementKind.PAYMENT,
                amount_minor=amount,
                currency="MXN",
                reference=f"M-{i}",
                posted_at=start + timedelta(days=30 * i),
            )
    variables = {"id": gid("Account", portal.parent.id), "from": "2026-01-20", "to": "2026-04-01"}
    data = (await portal.owner.data(STATEMENT, variables))["account"]
    statement = data["statement"]
    assert statement["openingBalance"] == {"amount": "100.00"}
    assert [m["reference"] for m in statement["movements"]] == ["M-1", "M-2", "M-3"]
    assert statement["totalDebits"] == {"amount": "25.00"}
    assert statement["totalCredits"] == {"amount": "-120.00"}
    assert statement["closingBalance"] == {"amount": "5.00"}
    assert statement["closingBalance"]["amount"] == statement["movements"][-1]["balance"]["amount"]
    csv_response = await _get(portal, statement["csvUrl"], **{"Accept-Language": "en"})
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Date", "Type", "Reference"]
    assert rows[1][3:6] == ["Opening balance", "", "100.00"]
    assert [r[2] for r in rows[2:-1]] == ["M-1", "M-2", "M-3"]
    assert rows[-1][3:6] == ["Closing balance", "", "5.00"]
    pdf = await _get(portal, statement["pdfUrl"])
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == (
        'attachment; filename="MX-1000_2026-01-20_2026-04-01.pdf"'
    )


async def test_statement_periods_are_checked(portal: Portal) -> None:
    account = gid("Account", portal.parent.id)
    reversed_ = await portal.owner.execute(
        STATEMENT, {"id": account, "from": "2026-05-01", "to": "2026-04-01"}
    )
    assert reversed_["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert reversed_["errors"][0]["message"] == "La fecha final no puede ser anterior a la inicial."
    too_long = await portal.owner.execute(
        STATEMENT, {"id": account, "from": "2025-01-01", "to": "2026-01-02"}
    )
    assert too_long["errors"][0]["message"] == "Un estado de cuenta abarca como máximo 366 días."
