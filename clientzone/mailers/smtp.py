"""Sending claimed messages over one SMTP connection per batch.

Each recipient gets their own copy (one SMTP transaction, `To:` only them), and
the outcome is kept per recipient, so a retry goes only to those still due:
- accepted, or refused for good (5xx): final for that recipient; a 5xx to
  RCPT (the address, e.g. 550 no such user) also marks the contacts at that
  address bouncing (models/contacts.py), so they are not mailed again;
- 4xx, a refused sender, connection trouble: the recipient stays due and the
  message is retried with exponential backoff until `max_attempts`, then DEAD.
A message is SENT once every recipient has an outcome and at least one copy was
accepted (the refusals are kept in `last_error`), FAILED when all were refused.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr

import aiosmtplib

from clientzone.config import Settings, SmtpSecurity
from clientzone.mailers import unsubscribe
from clientzone.mailers.dkim_signing import Signer
from clientzone.models.base import utcnow
from clientzone.models.mail import Delivery, EmailMessage, EmailStatus

logger = logging.getLogger("clientzone.mail")

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
SENT = "sent"


def to_mime(message: EmailMessage, settings: Settings, recipient: str) -> MimeMessage:
    mime = MimeMessage()
    # A branded message carries its brand's sender; the default brand's is
    # the settings' (clientzone/brands.py). The envelope sender follows From.
    if message.from_address:
        mime["From"] = formataddr((message.from_name or "", message.from_address))
        reply_to = message.reply_to
    else:
        mime["From"] = formataddr((settings.mail_from_name, settings.mail_from_address))
        reply_to = settings.mail_reply_to
    mime["To"] = recipient
    if reply_to:
        mime["Reply-To"] = reply_to
    mime["Subject"] = message.subject
    mime["Message-ID"] = message.message_id
    mime["Date"] = format_datetime(message.created_at)
    # Every message is written by the system, none by a person (RFC 3834):
    # auto-responders must not answer it.
    mime["Auto-Submitted"] = "auto-generated"
    contact = recipient in (message.unsubscribable or [])
    if contact and message.category is not None and message.account_id is not None:
        one_click = unsubscribe.token(
            settings, account_id=message.account_id, email=recipient, category=message.category
        )
        mime["List-Unsubscribe"] = f"<{unsubscribe.link(settings, one_click)}>"
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mime.set_content(message.text_body)
    mime.add_alternative(message.html_body, subtype="html")
    # After the bodies: setting content clears Content-* headers.
    mime["Content-Language"] = message.locale.value
    return mime


def retry_at(attempts: int, now: datetime) -> datetime:
    delay: timedelta = min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)
    return now + delay


def _outcome(
    message: EmailMessage,
    outcomes: dict[str, str],
    errors: list[str],
    max_attempts: int,
    bounced: tuple[str, ...] = (),
) -> Delivery:
    """The message's state from its recipients' outcomes (see the module docstring)."""
    error = "; ".join(errors) or None
    if any(recipient not in outcomes for recipient in message.recipients):
        if message.attempts >= max_attempts:
            status = EmailStatus.DEAD
            return Delivery(message.id, status, error, deliveries=outcomes, bounced=bounced)
        retry = retry_at(message.attempts, utcnow())
        return Delivery(
            message.id, EmailStatus.QUEUED, error, retry, deliveries=outcomes, bounced=bounced
        )
    status = EmailStatus.SENT if SENT in outcomes.values() else EmailStatus.FAILED
    return Delivery(message.id, status, error, deliveries=outcomes, bounced=bounced)


class Transport:
    """One SMTP connection (or, without SMTP_HOST, a log line per message)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.max_attempts = settings.mail_max_attempts
        self.client: aiosmtplib.SMTP | None = None
        self.connect_error: str | None = None
        self.signer = Signer.from_settings(settings)

    async def __aenter__(self) -> Transport:
        settings = self.settings
        if settings.smtp_host is None:
            return self
        self.client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
            use_tls=settings.smtp_security is SmtpSecurity.TLS,
            start_tls=settings.smtp_security is SmtpSecurity.STARTTLS,
        )
        try:
            await self.client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self.connect_error = f"connection failed: {exc}"
            logger.warning(
                "smtp %s:%s unreachable: %s", settings.smtp_host, settings.smtp_port, exc
            )
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.client is not None and self.client.is_connected:
            try:
                await self.client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                self.client.close()

    async def deliver(self, message: EmailMessage) -> Delivery:
        outcomes = dict(message.deliveries or {})
        due = [r for r in message.recipients if r not in outcomes]
        if self.settings.smtp_host is None:
            logger.info(
                "mail not sent (no SMTP_HOST): %s to %s: %s",
                message.id,
                ", ".join(due),
                message.subject,
            )
            outcomes.update(dict.fromkeys(due, SENT))
            return _outcome(message, outcomes, [], self.max_attempts)
        if self.client is None or self.connect_error is not None:
            reason = self.connect_error or "not connected"
            return _outcome(message, outcomes, [reason], self.max_attempts)
        errors: list[str] = []
        bounced: list[str] = []
        for recipient in due:
            final, error, bounce = await _send_copy(
                self.client, message, self.settings, recipient, self.signer
            )
            if bounce:
                bounced.append(recipient)
            if final is not None:
                outcomes[recipient] = final
            if error is not None:
                errors.append(f"{recipient}: {error}")
            if final is None and not self.client.is_connected:
                break  # the rest stay due for the retry
        return _outcome(message, outcomes, errors, self.max_attempts, tuple(bounced))


async def _send_copy(
    client: aiosmtplib.SMTP,
    message: EmailMessage,
    settings: Settings,
    recipient: str,
    signer: Signer | None = None,
) -> tuple[str | None, str | None, bool]:
    """(final outcome or None if still due, error text, whether the address
    itself was refused for good) for one recipient's copy."""
    mime = to_mime(message, settings, recipient)
    if signer is not None:
        signer.sign(mime, message.from_address)
    try:
        await client.send_message(mime, recipients=[recipient])
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refusal = exc.recipients[0]
        final, error = _refused(refusal.code, refusal.message)
        return final, error, final is not None
    except aiosmtplib.SMTPSenderRefused as exc:
        # Our own account or address was refused: configuration, not the message.
        return None, f"sender refused: {exc.code} {exc.message}", False
    except aiosmtplib.SMTPResponseException as exc:
        return *_refused(exc.code, exc.message), False
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return None, f"{type(exc).__name__}: {exc}", False
    return SENT, None, False


def _refused(code: int, text: str) -> tuple[str | None, str]:
    error = f"{code} {text}".strip()
    return (f"refused: {error}" if 500 <= code < 600 else None), error
