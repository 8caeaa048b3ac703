"""Sending one batch of claimed messages over one SMTP connection.

Outcome per message: SENT; FAILED when the server refuses it for good (5xx,
every recipient refused); otherwise (4xx, connection trouble) retried with
exponential backoff until `max_attempts`, then DEAD. Partial refusals still
count as SENT, with the refused addresses kept in `last_error`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr

import aiosmtplib

from clientzone.config import Settings, SmtpSecurity
from clientzone.models.base import utcnow
from clientzone.models.mail import Delivery, EmailMessage, EmailStatus

logger = logging.getLogger("clientzone.mail")

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)


def to_mime(message: EmailMessage, settings: Settings) -> MimeMessage:
    mime = MimeMessage()
    mime["From"] = formataddr((settings.mail_from_name, settings.mail_from_address))
    mime["To"] = ", ".join(message.recipients)
    if settings.mail_reply_to:
        mime["Reply-To"] = settings.mail_reply_to
    mime["Subject"] = message.subject
    mime["Message-ID"] = message.message_id
    mime["Date"] = format_datetime(message.created_at)
    mime.set_content(message.text_body)
    mime.add_alternative(message.html_body, subtype="html")
    # After the bodies: setting content clears Content-* headers.
    mime["Content-Language"] = message.locale.value
    return mime


def retry_at(attempts: int, now: datetime) -> datetime:
    delay: timedelta = min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)
    return now + delay


def _temporary(message: EmailMessage, error: str, max_attempts: int) -> Delivery:
    if message.attempts >= max_attempts:
        return Delivery(message.id, EmailStatus.DEAD, error)
    return Delivery(message.id, EmailStatus.QUEUED, error, retry_at(message.attempts, utcnow()))


def _refusal(message: EmailMessage, code: int, text: str, max_attempts: int) -> Delivery:
    error = f"{code} {text}".strip()
    if 500 <= code < 600:
        return Delivery(message.id, EmailStatus.FAILED, error)
    return _temporary(message, error, max_attempts)


async def send_batch(
    messages: Sequence[EmailMessage], settings: Settings, *, max_attempts: int
) -> list[Delivery]:
    """Send over SMTP; without SMTP_HOST, log one line per message and mark it sent."""
    if settings.smtp_host is None:
        for message in messages:
            logger.info(
                "mail not sent (no SMTP_HOST): %s to %s: %s",
                message.id,
                ", ".join(message.recipients),
                message.subject,
            )
        return [Delivery(message.id, EmailStatus.SENT) for message in messages]
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout=settings.smtp_timeout_seconds,
        use_tls=settings.smtp_security is SmtpSecurity.TLS,
        start_tls=settings.smtp_security is SmtpSecurity.STARTTLS,
    )
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        error = f"connection failed: {exc}"
        logger.warning("smtp %s:%s unreachable: %s", settings.smtp_host, settings.smtp_port, exc)
        return [_temporary(message, error, max_attempts) for message in messages]
    deliveries: list[Delivery] = []
    try:
        deliveries.extend(
            [await _send_one(client, message, settings, max_attempts) for message in messages]
        )
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
    return deliveries


async def _send_one(
    client: aiosmtplib.SMTP, message: EmailMessage, settings: Settings, max_attempts: int
) -> Delivery:
    try:
        refused, _reply = await client.send_message(to_mime(message, settings))
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0]
        return _refusal(message, first.code, f"{first.message} ({first.recipient})", max_attempts)
    except aiosmtplib.SMTPResponseException as exc:
        return _refusal(message, exc.code, exc.message, max_attempts)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return _temporary(message, f"{type(exc).__name__}: {exc}", max_attempts)
    if refused:
        partial = "; ".join(f"{addr}: {r.code} {r.message}" for addr, r in refused.items())
        return Delivery(message.id, EmailStatus.SENT, f"refused recipients: {partial}")
    return Delivery(message.id, EmailStatus.SENT)
