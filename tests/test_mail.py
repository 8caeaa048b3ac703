"""The outbox and the sender, against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers import worker as worker_module
from clientzone.mailers.outbox import OutboxError, notify_account
from clientzone.mailers.smtp import Transport
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.mail import (
    Delivery,
    EmailMessage,
    EmailStatus,
    claim_messages,
    record_delivery,
)
from clientzone.models.users import Locale
from tests.conftest import Portal
from tests.helpers import make_account
from tests.smtp_server import SmtpServer

RENAME = """
mutation Rename($input: UpdatePersonalDetailsInput!) {
  updatePersonalDetails(input: $input) { userErrors { code } }
}
"""


async def _account_with_contacts(database: Database, **account: object) -> Account:
    row = await make_account(database, email="compras@esperanza.example.com", **account)  # type: ignore[arg-type]
    contacts = [
        ("Beatriz", "facturas@esperanza.example.com", {EmailCategory.INVOICES}, True),
        ("Carlos", "soporte@esperanza.example.com", {EmailCategory.SUPPORT}, True),
        ("Dora", "antigua@esperanza.example.com", {EmailCategory.INVOICES}, False),
        ("Eva", "COMPRAS@esperanza.example.com", {EmailCategory.INVOICES}, True),
    ]
    async with database.session() as session, session.begin():
        for name, email, categories, active in contacts:
            session.add(
                Contact(
                    account_id=row.id,
                    first_name=name,
                    email=email,
                    categories=frozenset(categories),
                    active=active,
                )
            )
    return row


async def _notify(
    database: Database,
    settings: Settings,
    account: Account,
    category: EmailCategory = EmailCategory.INVOICES,
    *,
    title: str = "Factura disponible",
    commit: bool = True,
) -> None:
    async with database.session() as session, session.begin():
        await notify_account(
            session,
            settings,
            account=account,
            category=category,
            template="account_notice",
            title=title,
            body="Tu factura F-1001 ya está disponible.",
        )
        if not commit:
            await session.rollback()


def _by_subject(server: SmtpServer) -> dict[str, list[str]]:
    """Who received each subject (every recipient gets a copy of their own)."""
    found: dict[str, list[str]] = {}
    for received in server.received:
        assert received.message["To"] == received.recipients[0]  # nobody sees the others
        found.setdefault(received.message["Subject"], []).extend(received.recipients)
    return {subject: sorted(recipients) for subject, recipients in found.items()}


async def _the_message(database: Database) -> EmailMessage:
    """The one message in the outbox."""
    async with database.session() as session:
        message: EmailMessage = (await session.execute(select(EmailMessage))).scalar_one()
    return message


async def _statuses(database: Database) -> list[EmailStatus]:
    async with database.session() as session:
        rows = (await session.execute(select(EmailMessage.status))).scalars().all()
    return list(rows)


async def _make_due(database: Database) -> None:
    async with database.session() as session, session.begin():
        await session.execute(update(EmailMessage).values(next_attempt_at=utcnow()))


async def test_a_committed_mutation_delivers_its_notice_to_the_person_only(
    portal: Portal, mail_worker: MailWorker, smtp_server: SmtpServer, database: Database
) -> None:
    # when
    data = await portal.owner.data(RENAME, {"input": {"firstName": "Ana María"}})
    await mail_worker.drain()
    # then
    assert data["updatePersonalDetails"]["userErrors"] == []
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.recipients == ["ana@example.com"]
    assert received.message["Subject"] == "Tus datos personales han cambiado"
    assert "Nombre" in received.text
    assert received.message["From"] == "Área de clientes <no-reply@clientzone.example.com>"
    stored = await _the_message(database)
    assert received.message["Message-ID"] == stored.message_id
    assert (stored.category, stored.account_id, stored.status) == (None, None, EmailStatus.SENT)


async def test_a_mutation_with_bad_input_sends_nothing(
    portal: Portal, mail_worker: MailWorker, smtp_server: SmtpServer, database: Database
) -> None:
    await portal.owner.data(RENAME, {"input": {"firstName": "", "lastName": "Pérez"}})
    await portal.owner.data(RENAME, {"input": {"firstName": "Ana"}})  # no change: no notice
    await mail_worker.drain()
    assert smtp_server.received == []
    assert await _statuses(database) == []


async def test_account_notices_go_to_the_account_and_opted_in_active_contacts_once(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await _account_with_contacts(database)
    await _notify(database, mail_settings, account, EmailCategory.INVOICES)
    await _notify(database, mail_settings, account, EmailCategory.SUPPORT, title="Caso actualizado")
    await mail_worker.drain()
    assert _by_subject(smtp_server) == {
        "Factura disponible · Ferretería La Esperanza": [
            "compras@esperanza.example.com",
            "facturas@esperanza.example.com",
        ],
        "Caso actualizado · Ferretería La Esperanza": [
            "compras@esperanza.example.com",
            "soporte@esperanza.example.com",
        ],
    }


async def test_a_rolled_back_change_delivers_nothing(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await _account_with_contacts(database)
    await _notify(database, mail_settings, account, commit=False)
    assert await mail_worker.drain() == 0
    assert smtp_server.received == []


async def test_smtp_down_keeps_messages_queued_then_delivers_each_exactly_once(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await _account_with_contacts(database)
    smtp_server.stop()
    for i in range(3):
        await _notify(database, mail_settings, account, title=f"Aviso {i}")
    # when the server is down
    assert await mail_worker.drain() == 3
    async with database.session() as session:
        rows = (await session.execute(select(EmailMessage))).scalars().all()
    assert {(r.status, r.attempts) for r in rows} == {(EmailStatus.QUEUED, 1)}
    assert all(r.next_attempt_at > utcnow() for r in rows)
    assert all("connection failed" in (r.last_error or "") for r in rows)
    assert await mail_worker.drain() == 0  # not due yet: backoff
    # then it comes back
    smtp_server.start()
    await _make_due(database)
    assert await mail_worker.drain() == 3
    await _make_due(database)
    assert await mail_worker.drain() == 0
    subjects = {s.split(" · ")[0]: r for s, r in _by_subject(smtp_server).items()}
    assert subjects == {
        f"Aviso {i}": ["compras@esperanza.example.com", "facturas@esperanza.example.com"]
        for i in range(3)
    }
    assert await _statuses(database) == [EmailStatus.SENT] * 3


async def test_a_permanent_rejection_fails_with_the_servers_error(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await make_account(database, email="nadie@esperanza.example.com")
    smtp_server.recorder.refuse["nadie@esperanza.example.com"] = "550 5.1.1 Mailbox unavailable"
    await _notify(database, mail_settings, account)
    await mail_worker.drain()
    row = await _the_message(database)
    assert row.status is EmailStatus.FAILED
    assert row.last_error is not None
    assert "550" in row.last_error
    assert "Mailbox unavailable" in row.last_error
    assert smtp_server.received == []


async def test_temporary_rejections_retry_until_dead(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await make_account(database, email="llena@esperanza.example.com")
    smtp_server.recorder.refuse["llena@esperanza.example.com"] = "452 4.2.2 Mailbox full"
    await _notify(database, mail_settings, account)
    statuses = []
    for _ in range(mail_settings.mail_max_attempts):
        await _make_due(database)
        await mail_worker.drain()
        statuses += await _statuses(database)
    assert statuses == [EmailStatus.QUEUED, EmailStatus.QUEUED, EmailStatus.DEAD]


async def test_a_malformed_address_is_refused_when_enqueued(
    database: Database, mail_settings: Settings
) -> None:
    account = await make_account(database, email="compras@@esperanza")
    with pytest.raises(OutboxError, match="invalid recipient address 'compras@@esperanza'"):
        await _notify(database, mail_settings, account)
    assert await _statuses(database) == []


async def test_a_template_that_does_not_render_is_refused_when_enqueued(
    database: Database, mail_settings: Settings
) -> None:
    account = await make_account(database, email="compras@esperanza.example.com")
    async with database.session() as session, session.begin():
        with pytest.raises(OutboxError, match="does not render"):
            await notify_account(
                session,
                mail_settings,
                account=account,
                category=EmailCategory.GENERAL,
                template="account_notice",
                title="Sin cuerpo",
            )


async def test_messages_are_rendered_in_the_accounts_language_with_branding(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    spanish = await make_account(database, email="es@esperanza.example.com")
    english = await make_account(database, email="en@esperanza.example.com", locale=Locale.EN)
    await _notify(database, mail_settings, spanish)
    await _notify(database, mail_settings, english)
    await mail_worker.drain()
    by_recipient = {r.recipients[0]: r for r in smtp_server.received}
    assert "Cuenta " in by_recipient["es@esperanza.example.com"].text
    assert by_recipient["es@esperanza.example.com"].message["Content-Language"] == "es"
    assert "Account " in by_recipient["en@esperanza.example.com"].text
    assert "Ferretera Central" in by_recipient["en@esperanza.example.com"].html


async def test_user_provided_text_is_escaped_in_html(
    portal: Portal, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    await portal.owner.data(RENAME, {"input": {"firstName": "<script>alert(1)</script>"}})
    await mail_worker.drain()
    received = smtp_server.received[0]
    assert "<script>" not in received.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in received.html
    assert "<script>alert(1)</script>" in received.text


async def test_without_smtp_messages_are_recorded_and_logged(
    database: Database, settings: Settings
) -> None:
    account = await make_account(database, email="compras@esperanza.example.com")
    await _notify(database, settings, account)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("clientzone.mail").addHandler(handler)
    logging.getLogger("clientzone.mail").setLevel(logging.INFO)
    try:
        assert await MailWorker(database, settings).drain() == 1
    finally:
        logging.getLogger("clientzone.mail").removeHandler(handler)
    assert await _statuses(database) == [EmailStatus.SENT]
    assert len(lines) == 1
    assert "compras@esperanza.example.com" in lines[0]
    assert "Factura disponible" in lines[0]


async def test_stopping_mid_batch_gives_back_only_what_was_not_attempted(
    database: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = await make_account(database, email="compras@esperanza.example.com")
    for i in range(5):
        await _notify(database, mail_settings, account, title=f"Aviso {i}")
    worker = MailWorker(database, mail_settings)
    deliver = Transport.deliver

    async def deliver_then_stop(self: Transport, message: EmailMessage) -> Delivery:
        delivery = await deliver(self, message)
        worker.stop()  # SIGTERM arrives while the first message is in hand
        return delivery

    monkeypatch.setattr(Transport, "deliver", deliver_then_stop)
    assert await worker.run_once() == 5
    async with database.session() as session:
        rows = (await session.execute(select(EmailMessage))).scalars().all()
    assert sorted((r.status, r.attempts) for r in rows) == [
        (EmailStatus.QUEUED, 0),
        (EmailStatus.QUEUED, 0),
        (EmailStatus.QUEUED, 0),
        (EmailStatus.QUEUED, 0),
        (EmailStatus.SENT, 1),
    ]
    monkeypatch.setattr(Transport, "deliver", deliver)
    assert await MailWorker(database, mail_settings).drain() == 4
    subjects = [r.message["Subject"].split(" · ")[0] for r in smtp_server.received]
    assert sorted(subjects) == [f"Aviso {i}" for i in range(5)]


async def test_a_failed_record_is_retried_and_nothing_is_sent_twice(
    database: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = await make_account(database, email="compras@esperanza.example.com")
    for i in range(3):
        await _notify(database, mail_settings, account, title=f"Aviso {i}")
    record = worker_module.record_delivery
    failures = iter([True])

    async def record_fails_once(*args: Any, **kwargs: Any) -> None:
        if next(failures, False):
            raise ConnectionError("database connection lost")
        await record(*args, **kwargs)

    monkeypatch.setattr(worker_module, "record_delivery", record_fails_once)
    worker = MailWorker(database, mail_settings)
    with pytest.raises(ConnectionError):
        await worker.run_once()
    # the sent message's outcome was stored on the way out; the two never
    # attempted were given back, not left to their lease
    statuses = sorted(await _statuses(database))
    assert statuses == [EmailStatus.QUEUED, EmailStatus.QUEUED, EmailStatus.SENT]
    assert await worker.drain() == 2
    assert await _statuses(database) == [EmailStatus.SENT] * 3
    assert len(smtp_server.received) == 3
    assert len({r.message["Subject"] for r in smtp_server.received}) == 3


async def test_an_expired_claim_is_taken_over_and_the_late_record_is_ignored(
    database: Database, mail_settings: Settings
) -> None:
    account = await make_account(database, email="compras@esperanza.example.com")
    await _notify(database, mail_settings, account)
    async with database.session() as session, session.begin():
        first = await claim_messages(
            session, worker="crashed", limit=10, lease=timedelta(seconds=-1), max_attempts=3
        )
    async with database.session() as session, session.begin():
        taken = await claim_messages(
            session, worker="w2", limit=10, lease=timedelta(minutes=5), max_attempts=3
        )
        late = Delivery(first[0].id, EmailStatus.FAILED, "too late")
        await record_delivery(session, worker="crashed", delivery=late)
    assert [m.claimed_by for m in taken] == ["w2"]
    assert taken[0].attempts == 2
    row = await _the_message(database)
    assert (row.status, row.claimed_by) == (EmailStatus.SENDING, "w2")


async def test_an_expired_claim_with_no_attempts_left_is_dead(
    database: Database, mail_settings: Settings
) -> None:
    account = await make_account(database, email="compras@esperanza.example.com")
    await _notify(database, mail_settings, account)
    for _ in range(3):
        async with database.session() as session, session.begin():
            await claim_messages(
                session, worker="flaky", limit=10, lease=timedelta(seconds=-1), max_attempts=3
            )
    async with database.session() as session, session.begin():
        claimed = await claim_messages(
            session, worker="w2", limit=10, lease=timedelta(minutes=5), max_attempts=3
        )
    assert claimed == []
    assert await _statuses(database) == [EmailStatus.DEAD]


async def test_a_refused_sender_is_a_temporary_failure(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.refuse_sender = "530 5.7.0 Authentication required"
    account = await make_account(database, email="compras@esperanza.example.com")
    await _notify(database, mail_settings, account)
    await mail_worker.drain()
    row = await _the_message(database)
    assert row.status is EmailStatus.QUEUED
    assert "sender refused: 530" in (row.last_error or "")


async def test_a_contact_with_a_broken_address_is_skipped_not_fatal(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await _account_with_contacts(database)
    async with database.session() as session, session.begin():
        session.add(
            Contact(
                account_id=account.id,
                first_name="Rota",
                email="rota@@esperanza",
                categories=frozenset({EmailCategory.INVOICES}),
            )
        )
    await _notify(database, mail_settings, account)
    await mail_worker.drain()
    assert list(_by_subject(smtp_server).values()) == [
        ["compras@esperanza.example.com", "facturas@esperanza.example.com"]
    ]


async def test_a_message_taken_over_by_another_worker_is_skipped(
    database: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = await make_account(database, email="compras@esperanza.example.com")
    for i in range(2):
        await _notify(database, mail_settings, account, title=f"Aviso {i}")
    deliver = Transport.deliver

    async def slow_deliver(self: Transport, message: EmailMessage) -> Delivery:
        # Meanwhile the other message's lease ran out and worker B took it.
        async with database.session() as session, session.begin():
            await session.execute(
                update(EmailMessage)
                .where(EmailMessage.id != message.id)  # type: ignore[arg-type]
                .values(claimed_by="B")
            )
        return await deliver(self, message)

    monkeypatch.setattr(Transport, "deliver", slow_deliver)
    assert await MailWorker(database, mail_settings).run_once() == 2
    assert len(smtp_server.received) == 1
    assert sorted(await _statuses(database)) == [EmailStatus.SENDING, EmailStatus.SENT]


async def test_a_recipient_refused_for_now_gets_the_copy_later_and_the_others_once(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await _account_with_contacts(database)
    smtp_server.recorder.refuse["facturas@esperanza.example.com"] = "451 4.7.1 Greylisted"
    await _notify(database, mail_settings, account)
    await mail_worker.drain()
    row = await _the_message(database)
    assert row.status is EmailStatus.QUEUED
    assert row.deliveries == {"compras@esperanza.example.com": "sent"}
    assert "451" in (row.last_error or "")
    # when the greylisting is over
    del smtp_server.recorder.refuse["facturas@esperanza.example.com"]
    await _make_due(database)
    await mail_worker.drain()
    assert [r.recipients for r in smtp_server.received] == [
        ["compras@esperanza.example.com"],
        ["facturas@esperanza.example.com"],
    ]
    assert await _statuses(database) == [EmailStatus.SENT]


async def test_a_recipient_refused_for_good_does_not_stop_the_others(
    database: Database, mail_settings: Settings, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    account = await _account_with_contacts(database)
    smtp_server.recorder.refuse["facturas@esperanza.example.com"] = "550 5.1.1 No such user"
    await _notify(database, mail_settings, account)
    await mail_worker.drain()
    row = await _the_message(database)
    assert row.status is EmailStatus.SENT
    assert row.deliveries["facturas@esperanza.example.com"] == "refused: 550 5.1.1 No such user"
    assert [r.recipients for r in smtp_server.received] == [["compras@esperanza.example.com"]]
