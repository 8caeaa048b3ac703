"""DEAD mail sent again (`clientzone mail retry`, mailers/retry.py), against a
real SMTP server that goes away and comes back."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.retry import RetryOutcome, retry_dead_mail
from clientzone.mailers.worker import MailWorker
from clientzone.models.base import utcnow
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.invitations import Invitation
from clientzone.models.mail import EmailMessage, EmailStatus
from clientzone.models.user_tokens import UserToken
from tests.conftest import Portal
from tests.helpers import gid, make_account, queue_account_notices, six_digit_code
from tests.smtp_server import SmtpServer
from tests.test_cli import run_cli

REQUEST_RESET = """
mutation($login: String!) { requestPasswordReset(input: {login: $login}) { accepted } }
"""
RESET = """
mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { userErrors { code } } }
"""
INVITE = """
mutation($input: InviteUserInput!) {
  inviteUser(input: $input) { invitation { id } userErrors { code } }
}
"""
NEW_PASSWORD = "Otra-Clave-Muy-Larga-2026"


async def _make_due(database: Database) -> None:
    async with database.transaction() as session:
        await session.execute(update(EmailMessage).values(next_attempt_at=utcnow()))


async def _until_dead(database: Database, worker: MailWorker, settings: Settings) -> None:
    """Every attempt spent while the SMTP server is away."""
    for _ in range(settings.mail_max_attempts):
        await _make_due(database)
        await worker.drain()


async def _by_template(database: Database) -> dict[str, EmailMessage]:
    async with database.session() as session:
        rows = (await session.execute(select(EmailMessage))).scalars()
        return {row.template: row for row in rows}


async def _invite(portal: Portal, email: str) -> None:
    payload = await portal.owner.data(
        INVITE,
        {
            "input": {
                "accountId": gid("Account", portal.parent.id),
                "email": email,
                "permissions": ["INVOICES_VIEW"],
            }
        },
    )
    assert payload["inviteUser"]["userErrors"] == []


async def test_mail_dead_after_an_outage_is_sent_once_when_retried(
    portal: Portal,
    database: Database,
    database_url: str,
    mail_settings: Settings,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
) -> None:
    started = utcnow() - timedelta(seconds=1)
    # given an SMTP outage longer than every attempt
    smtp_server.stop()
    await portal.anonymous.data(REQUEST_RESET, {"login": "ana@example.com"})
    await _invite(portal, "nuevo@example.com")
    account = await make_account(database, number="MX-9000", email="avisos@example.com")
    await queue_account_notices(database, mail_settings, account, 1)
    await _until_dead(database, mail_worker, mail_settings)
    dead = await _by_template(database)
    assert {t: m.status for t, m in dead.items()} == {
        "password_reset": EmailStatus.DEAD,
        "invitation": EmailStatus.DEAD,
        "account_notice": EmailStatus.DEAD,
    }
    smtp_server.start()
    window = ("--status", "dead", "--since", started.isoformat())
    dry = run_cli("mail", "retry", *window, "--dry-run", database_url=database_url)
    assert dry.stdout.splitlines()[-1].startswith("3 would requeue, 0 skipped")
    assert {m.status for m in (await _by_template(database)).values()} == {EmailStatus.DEAD}
    # when the operator retries the window of the outage
    done = run_cli(
        "mail",
        "retry",
        "--status",
        "dead",
        "--since",
        started.isoformat(),
        database_url=database_url,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "3 requeued, 0 skipped (link or code no longer valid), 0 not DEAD or not found"
    )
    assert {line.split()[0] for line in done.stdout.splitlines()[:-1]} == {
        str(m.id) for m in dead.values()
    }
    # then each message is delivered once, and the code in it still works
    assert await mail_worker.drain() == 3
    await _make_due(database)
    assert await mail_worker.drain() == 0
    again = run_cli("mail", "retry", *(str(m.id) for m in dead.values()), database_url=database_url)
    assert again.returncode == 1  # not DEAD any more: nothing requeued
    assert again.stderr.count("not requeued: it is SENT, not DEAD") == 3
    assert await mail_worker.drain() == 0
    copies = Counter(r.message["Message-ID"] for r in smtp_server.received)
    assert sorted(copies.values()) == [1, 1, 1]
    assert sorted(r.recipients[0] for r in smtp_server.received) == [
        "ana@example.com",
        "avisos@example.com",
        "nuevo@example.com",
    ]
    [reset] = [r for r in smtp_server.received if r.recipients == ["ana@example.com"]]
    code = six_digit_code(reset.text)
    answer = await portal.anonymous.data(
        RESET,
        {"input": {"login": "ana@example.com", "code": code, "newPassword": NEW_PASSWORD}},
    )
    assert answer["resetPassword"]["userErrors"] == []


async def test_an_expired_reset_code_or_invitation_is_not_resent(
    portal: Portal,
    database: Database,
    mail_settings: Settings,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
) -> None:
    smtp_server.stop()
    await portal.anonymous.data(REQUEST_RESET, {"login": "ana@example.com"})
    await _invite(portal, "nuevo@example.com")
    await _until_dead(database, mail_worker, mail_settings)
    # given the code and the link expired during the outage
    async with database.transaction() as session:
        past = utcnow() - timedelta(minutes=1)
        await session.execute(update(UserToken).values(expires_at=past))
        await session.execute(update(Invitation).values(expires_at=past))
    smtp_server.start()
    dead = await _by_template(database)
    # when support retries them (the function the staff API calls)
    async with database.transaction() as session:
        results = await retry_dead_mail(session, message_ids=[m.id for m in dead.values()])
    # then neither is requeued, and each says why and what to do instead
    reasons = {r.message.template: (r.outcome, r.reason) for r in results if r.message}
    assert reasons["password_reset"][0] is RetryOutcome.EXPIRED
    assert "the reset code expired at" in str(reasons["password_reset"][1])
    assert "must ask again" in str(reasons["password_reset"][1])
    assert reasons["invitation"][0] is RetryOutcome.EXPIRED
    assert "resendInvitation" in str(reasons["invitation"][1])
    await _make_due(database)
    assert await mail_worker.drain() == 0
    assert smtp_server.received == []
    assert {m.status for m in (await _by_template(database)).values()} == {EmailStatus.DEAD}


async def test_a_reset_code_replaced_by_a_newer_request_is_not_resent(
    portal: Portal,
    database: Database,
    mail_settings: Settings,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
) -> None:
    smtp_server.stop()
    await portal.anonymous.data(REQUEST_RESET, {"login": "ana@example.com"})
    await _until_dead(database, mail_worker, mail_settings)
    [first] = (await _by_template(database)).values()
    # the person asked again once the server was back
    smtp_server.start()
    await portal.anonymous.data(REQUEST_RESET, {"login": "ana@example.com"})
    await mail_worker.drain()
    async with database.transaction() as session:
        [result] = await retry_dead_mail(session, message_ids=[first.id], dry_run=False)
    assert result.outcome is RetryOutcome.EXPIRED
    assert result.reason is not None
    assert "used or replaced by a newer request" in result.reason
    assert len(smtp_server.received) == 1  # only the newer code


async def test_a_retry_sends_only_to_the_recipients_still_due(
    database: Database,
    mail_settings: Settings,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
) -> None:
    # given a notice one of whose two recipients was refused for now on every attempt
    account = await make_account(database, email="compras@example.com")
    async with database.transaction() as session:
        session.add(
            Contact(
                account_id=account.id,
                first_name="Buzón",
                email="lleno@example.com",
                categories=frozenset({EmailCategory.GENERAL}),
            )
        )
    smtp_server.recorder.refuse["lleno@example.com"] = "452 4.2.2 Mailbox full"
    await queue_account_notices(database, mail_settings, account, 1)
    await _until_dead(database, mail_worker, mail_settings)
    [message] = (await _by_template(database)).values()
    assert message.status is EmailStatus.DEAD
    assert [r.recipients for r in smtp_server.received] == [["compras@example.com"]]
    # when the mailbox has room again and the message is retried twice at once
    del smtp_server.recorder.refuse["lleno@example.com"]
    async with database.transaction() as session:
        first = await retry_dead_mail(session, message_ids=[message.id])
    async with database.transaction() as session:
        second = await retry_dead_mail(session, message_ids=[message.id])
    assert [r.outcome for r in first + second] == [RetryOutcome.REQUEUED, RetryOutcome.NOT_DEAD]
    await mail_worker.drain()
    # then only the recipient still due gets a copy, once
    assert [r.recipients for r in smtp_server.received] == [
        ["compras@example.com"],
        ["lleno@example.com"],
    ]
    assert (await _by_template(database))["account_notice"].status is EmailStatus.SENT


async def test_the_retry_command_checks_what_it_is_given(database_url: str) -> None:
    unknown = "01a22d1c-dbb1-7766-9316-9268e1b23edc"
    missing = run_cli("mail", "retry", unknown, database_url=database_url)
    assert missing.returncode == 1
    assert f"error: {unknown} not requeued: no such message" in missing.stderr
    assert run_cli("mail", "retry", database_url=database_url).returncode == 2
    assert run_cli("mail", "retry", "not-an-id", database_url=database_url).returncode == 2
    both = run_cli("mail", "retry", unknown, "--since", "2026-01-01", database_url=database_url)
    assert both.returncode == 2
