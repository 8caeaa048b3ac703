"""Sending claimed messages over one SMTP connection per batch.

Outcome per message: SENT; FAILED when the server refuses it for good (5xx,
every recipient refused); otherwise (4xx, connection trouble) retried with
exponential backoff until `max_attempts`, then DEAD. Partial refusals still
count as SENT, with the refused addresses kept in `last_error`.
"""

from __future__ import annotations

import logging
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


class Transport:
    """One SMTP connection (or, without SMTP_HOST, a log line per message)."""

    def __init__(self, settings: Settings, max_attempts: int) -> None:
        self.settings = settings
        self.max_attempts = max_attempts
        self.client: aiosmtplib.SMTP | None = None
        self.connect_error: str | None = None

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
        if self.settings.smtp_host is None:
            logger.info(
                "mail not sent (no SMTP_HOST): %s to %s: %s",
                message.id,
                ", ".join(message.recipients),
                message.subject,
            )
            return Delivery(message.id, EmailStatus.SENT)
        if self.client is None or self.connect_error is not None:
            return _temporary(message, self.connect_error or "not connected", self.max_attempts)
        return await _send_one(self.client, message, self.settings, self.max_attempts)


async def _send_one(
    client: aiosmtplib.SMTP, message: EmailMessage, settings: Settings, max_attempts: int
) -> Delivery:
    try:
        refused, _reply = await client.send_message(to_mime(message, settings))
    except aiosmtplib.SMTPRecipientsRefused as exc:
        # Every recipient refused: permanent only if every refusal is.
        worst = min(exc.recipients, key=lambda r: r.code // 100 == 5)
        return _refusal(message, worst.code, f"{worst.message} ({worst.recipient})", max_attempts)
    except aiosmtplib.SMTPSenderRefused as exc:
        # Our own account or address was refused: configuration, not the message.
        return _temporary(message, f"sender refused: {exc.code} {exc.message}", max_attempts)
    except aiosmtplib.SMTPResponseException as exc:
        return _refusal(message, exc.code, exc.message, max_attempts)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return _temporary(message, f"{type(exc).__name__}: {exc}", max_attempts)
    if refused:
        partial = "; ".join(f"{addr}: {r.code} {r.message}" for addr, r in refused.items())
        return Delivery(message.id, EmailStatus.SENT, f"refused recipients: {partial}")
    return Delivery(message.id, EmailStatus.SENT)
