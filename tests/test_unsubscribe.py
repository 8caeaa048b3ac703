"""One-click unsubscribe (RFC 8058) and the headers every message carries."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from clientzone.config import Settings
from clientzone.core import signed_links
from clientzone.db import Database
from clientzone.mailers import unsubscribe
from clientzone.mailers.outbox import notify_user
from clientzone.mailers.scheduler import Scheduler
from clientzone.mailers.worker import MailWorker
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.users import Locale
from tests.helpers import http_client, make_account, make_invoice, make_user
from tests.smtp_server import SmtpServer

TODAY = date(2026, 12, 1)


def _clock() -> datetime:
    return datetime.combine(TODAY, clock_time(9), tzinfo=UTC)


async def _send_invoice(
    database: Database, settings: Settings, worker: MailWorker, account: Any, number: str
) -> None:
    await make_invoice(database, account, number, issued_on=TODAY)
    await Scheduler(database, settings, clock=_clock).run_once()
    await worker.drain()


async def _contact(database: Database, account_id: Any) -> Contact:
    async with database.session() as session:
        statement = select(Contact).where(col(Contact.account_id) == account_id)
        return (await session.execute(statement)).scalar_one()


async def test_a_contact_unsubscribes_in_one_click_and_gets_no_more_of_that_category(
    app: Any,
    database: Database,
    mail_settings: Settings,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
) -> None:
    # given an account whose contact receives invoices and news
    account = await make_account(database, email="cuenta@unsub.example.com", locale=Locale.EN)
    async with database.session() as session, session.begin():
        session.add(
            Contact(
                account_id=account.id,
                first_name="Facturas",
                email="facturas@unsub.example.com",
                categories=frozenset({EmailCategory.INVOICES, EmailCategory.GENERAL}),
            )
        )
    await _send_invoice(database, mail_settings, mail_worker, account, "U-1")
    copies = {r.recipients[0]: r.message for r in smtp_server.received}
    # then every copy is marked automatic; only the contact's can unsubscribe
    assert {m["Auto-Submitted"] for m in copies.values()} == {"auto-generated"}
    assert copies["cuenta@unsub.example.com"]["List-Unsubscribe"] is None
    mine = copies["facturas@unsub.example.com"]
    assert mine["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(mine["List-Unsubscribe"]).strip("<>")
    assert link.startswith(f"{mail_settings.public_base_url}/unsubscribe/")
    assert mine["Message-ID"].endswith("@clientzone.example.com>")
    assert mine["Date"]
    path = link.removeprefix(mail_settings.public_base_url)
    async with http_client(app) as client:
        # when the link is opened: a confirmation page, nothing changes
        shown = await client.get(path, headers={"Accept-Language": "en"})
        assert shown.status_code == 200
        assert "Stop sending invoices and payment reminders emails" in shown.text
        assert EmailCategory.INVOICES in (await _contact(database, account.id)).categories
        # when the mail provider posts the one-click request (twice)
        for _ in range(2):
            done = await client.post(
                path,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert done.status_code == 200
    # then that category is gone, the others stay
    assert (await _contact(database, account.id)).categories == {EmailCategory.GENERAL}
    smtp_server.received.clear()
    await _send_invoice(database, mail_settings, mail_worker, account, "U-2")
    assert [r.recipients for r in smtp_server.received] == [["cuenta@unsub.example.com"]]


async def test_forged_expired_or_foreign_tokens_are_refused(
    app: Any, database: Database, settings: Settings
) -> None:
    account = await make_account(database, email="cuenta@forged.example.com")
    async with database.session() as session, session.begin():
        session.add(
            Contact(
                account_id=account.id,
                first_name="Facturas",
                email="facturas@forged.example.com",
                categories=frozenset({EmailCategory.INVOICES}),
            )
        )
    good = unsubscribe.token(
        settings,
        account_id=account.id,
        email="facturas@forged.example.com",
        category=EmailCategory.INVOICES,
    )
    payload, _, mac = good.partition(".")
    expired = unsubscribe.token(
        settings,
        account_id=account.id,
        email="facturas@forged.example.com",
        category=EmailCategory.INVOICES,
        now=time.time() - (settings.unsubscribe_link_days * 86_400 + 60),
    )
    other_key = signed_links.sign(
        settings.key(signed_links.KEY_PURPOSE),
        kind="unsubscribe",
        object_id=account.id,
        user_id=account.id,
        extra={"e": "facturas@forged.example.com", "c": "INVOICES"},
    )
    tampered = f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{mac}"
    async with http_client(app) as client:
        for token in (tampered, f"{payload}.{mac[:-1]}", expired, other_key, "nonsense"):
            for method in ("GET", "POST"):
                answer = await client.request(method, f"/unsubscribe/{token}")
                assert answer.status_code == 404, (token, method)
                assert "expired" in answer.text or "caducado" in answer.text
    assert (await _contact(database, account.id)).categories == {EmailCategory.INVOICES}


async def test_login_messages_carry_no_unsubscribe(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    user = await make_user(database, "ana@login.example.com")
    async with database.session() as session, session.begin():
        await notify_user(
            session, mail_settings, user=user, template="password_changed", reset=False
        )
    await mail_worker.drain()
    [received] = smtp_server.received
    assert received.message["List-Unsubscribe"] is None
    assert received.message["List-Unsubscribe-Post"] is None
    assert received.message["Auto-Submitted"] == "auto-generated"
