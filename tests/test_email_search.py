"""Account.emails(filter: {search}): part of the subject or of a recipient."""

from __future__ import annotations

from clientzone.db import Database
from clientzone.models.contacts import EmailCategory
from tests.conftest import Portal
from tests.test_account_emails import EMAILS, _email


async def test_search_matches_subject_or_recipient_in_any_case_within_the_account(
    portal: Portal, database: Database
) -> None:
    rows = [
        _email(portal.other, "Factura enero", days=0),
        _email(portal.other, "Novedades", category=EmailCategory.PRODUCTS, days=1),
        _email(portal.other, "Recordatorio 100%_pago", days=2),
        _email(portal.foreign, "Factura de otra cuenta", days=3),
    ]
    rows[1].recipients = ["Obras@Norte.example.com"]
    async with database.session() as session, session.begin():
        session.add_all(rows)

    async def subjects(search: str) -> tuple[int, list[str]]:
        data = await portal.owner.data(EMAILS, {"filter": {"search": search}})
        emails = data["account"]["emails"]
        return emails["totalCount"], [e["subject"] for e in emails["nodes"]]

    assert await subjects("FACTURA") == (1, ["Factura enero"])
    assert await subjects("obras@norte") == (1, ["Novedades"])
    assert await subjects("esperanza.example") == (2, ["Recordatorio 100%_pago", "Factura enero"])
    assert await subjects("100%_") == (1, ["Recordatorio 100%_pago"])
    assert await subjects("%") == (1, ["Recordatorio 100%_pago"])  # no wildcard
    assert (await subjects("   "))[0] == 3  # blank: no filter
    assert (await subjects("x" * 500))[0] == 0
