"""The statement of the month: asked for through the profile, sent once in the
first days of the next month to the account's INVOICES recipients, with the
month's opening and closing balance and its movements."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.scheduler import Scheduler
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.ledger import MovementKind, post_movement
from clientzone.models.mail import EmailMessage
from clientzone.models.users import Locale
from tests.conftest import Portal
from tests.test_scheduled_mail import clock_at

OPT = """
mutation($input: UpdateAccountProfileInput!) {
  updateAccountProfile(input: $input) {
    account { profile { monthlyStatement } } userErrors { field code }
  }
}
"""
# Movements are posted now (December 2026): their statement goes out in January.
NEXT_MONTH = date(2027, 1, 2)


async def _statements(database: Database) -> list[EmailMessage]:
    async with database.session() as session:
        found = await session.execute(
            select(EmailMessage).where(EmailMessage.template == "monthly_statement")  # type: ignore[arg-type]
        )
        return list(found.scalars())


async def test_a_monthly_statement_is_sent_once_to_the_accounts_that_asked(
    portal: Portal, database: Database, mail_settings: Settings
) -> None:
    for account, amount in ((portal.parent, 150_000), (portal.other, 99_00)):
        async with database.transaction() as session:
            await post_movement(
                session,
                account_id=account.id,
                kind=MovementKind.INVOICE,
                amount_minor=amount,
                currency=account.currency,
                reference="F-100",
                description="Factura F-100",
            )
            await post_movement(
                session,
                account_id=account.id,
                kind=MovementKind.PAYMENT,
                amount_minor=-50_000 if amount > 50_000 else -amount,
                currency=account.currency,
                reference="PAY-1",
                description="Pago",
            )
    async with database.session() as session, session.begin():
        session.add(
            Contact(
                account_id=portal.parent.id,
                first_name="Cobros",
                email="cobros@esperanza.example.com",
                categories=frozenset({EmailCategory.INVOICES}),
            )
        )
    opted = await portal.owner.data(
        OPT, {"input": {"accountId": _gid(portal), "monthlyStatement": True}}
    )
    assert opted["updateAccountProfile"] == {
        "account": {"profile": {"monthlyStatement": True}},
        "userErrors": [],
    }

    too_late = Scheduler(database, mail_settings, clock=lambda: clock_at(date(2027, 1, 8)))
    await too_late.run_once()
    assert await _statements(database) == []
    for _ in range(2):  # a second run (or a second worker) sends nothing more
        await Scheduler(database, mail_settings, clock=lambda: clock_at(NEXT_MONTH)).run_once()
    [statement] = await _statements(database)
    assert statement.account_id == portal.parent.id
    assert statement.recipients == ["cobros@esperanza.example.com"]
    assert statement.locale is Locale.ES
    assert statement.subject == f"Estado de cuenta 2026-12 · {portal.parent.number}"
    assert "Saldo inicial: 0.00 MXN" in statement.text_body
    assert "Cargos: 1,500.00 MXN" in statement.text_body
    assert "Pagos y créditos: 500.00 MXN" in statement.text_body
    assert "Saldo final: 1,000.00 MXN" in statement.text_body
    assert "Factura F-100 F-100" in statement.text_body

    # opting out stops the next one
    await portal.owner.data(OPT, {"input": {"accountId": _gid(portal), "monthlyStatement": False}})
    await Scheduler(database, mail_settings, clock=lambda: clock_at(date(2027, 2, 1))).run_once()
    assert len(await _statements(database)) == 1


async def test_asking_for_the_statement_needs_profile_edit(portal: Portal) -> None:
    member = await portal.member.execute(
        OPT, {"input": {"accountId": _gid(portal), "monthlyStatement": True}}
    )
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def _gid(portal: Portal) -> str:
    from tests.helpers import gid

    return gid("Account", portal.parent.id)
