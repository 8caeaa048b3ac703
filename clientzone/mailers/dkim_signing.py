"""DKIM signatures (RFC 6376) on outgoing mail, when a key is configured.

DKIM_KEY_FILE (an RSA private key, PEM) and DKIM_SELECTOR turn it on; the
signing domain is DKIM_DOMAIN, else the domain of the message's From: that of
MAIL_FROM_ADDRESS, or of a brand's sending address (clientzone/brands.py), so
each brand's domain publishes the same selector's public key for its mail to
pass DMARC. Headers
and body are canonicalized "relaxed", so a relay re-folding headers does not
break the signature. The key is read once, when a sender starts.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage as MimeMessage
from pathlib import Path

import dkim

from clientzone.config import Settings

SIGNED_HEADERS = [
    b"from",
    b"to",
    b"reply-to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"content-language",
    b"auto-submitted",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
]


class Signer:
    def __init__(self, key: bytes, selector: str, domain: str, fixed: bool = False) -> None:
        self.key = key
        self.selector = selector.encode()
        self.domain = domain.encode()
        self.fixed = fixed  # DKIM_DOMAIN: every message signed for it

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer | None:
        if settings.dkim_key_file is None or settings.dkim_selector is None:
            return None
        domain = settings.dkim_domain or settings.mail_from_address.rpartition("@")[2]
        key = Path(settings.dkim_key_file).read_bytes()
        return cls(key, settings.dkim_selector, domain, fixed=settings.dkim_domain is not None)

    def sign(self, mime: MimeMessage, from_address: str | None = None) -> None:
        """Adds the DKIM-Signature header over the message as it will be sent,
        for the domain of `from_address` (a brand's) unless DKIM_DOMAIN is set."""
        domain = self.domain
        if from_address and not self.fixed:
            domain = from_address.rpartition("@")[2].encode() or self.domain
        raw = mime.as_bytes(policy=policy.SMTP)
        present = {name.lower().encode() for name in mime}
        header = dkim.sign(
            raw,
            self.selector,
            domain,
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[h for h in SIGNED_HEADERS if h in present],
        )
        name, _, value = header.decode().partition(":")
        mime[name] = " ".join(value.split())
