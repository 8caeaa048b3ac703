"""Account.emails(filter: {search}): part of the subject or of a recipient, or
words of the text (full-text with Spanish and English stemming on PostgreSQL)."""

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


async def test_search_finds_words_of_the_text(portal: Portal, database: Database) -> None:
    shipped = _email(portal.other, "Aviso", days=0)
    shipped.text_body = "Su pedido de cartuchos de tinta fue enviado hoy."
    other = _email(portal.foreign, "Aviso", days=1)
    other.text_body = "Sus cartuchos llegan mañana."
    async with database.session() as session, session.begin():
        session.add_all([shipped, other])

    async def found(search: str) -> int:
        data = await portal.owner.data(EMAILS, {"filter": {"search": search}})
        return int(data["account"]["emails"]["totalCount"])

    assert await found("cartuchos") == 1
    assert await found("Tinta") == 1
    assert await found("impresora") == 0
    if database.engine.dialect.name == "postgresql":
        # stemmed, in either language: the singular finds the plural
        assert await found("cartucho") == 1
        assert await found("shipped ink") == 0
