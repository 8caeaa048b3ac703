"""Short-lived signed download links: `/documents/<token>`.

A token names what to download, for which person, until when, and carries an
HMAC-SHA256 of all that, keyed with the links' own key (derived from
SECRET_KEY). The link is only a way to hand a file to a browser: the download
re-checks, at that moment, that the person still may see it. Tokens cannot be
forged, extended or moved to another object or person.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

LINK_SECONDS = 600
KEY_PURPOSE = "signed-links"


@dataclass(frozen=True)
class LinkClaims:
    # "invoice-document", "invoice-pdf", "statement-csv", "statement-pdf", "case-attachment"
    kind: str
    object_id: uuid.UUID  # a document, an invoice, an account or an attachment
    user_id: uuid.UUID
    expires_at: int  # Unix time
    extra: dict[str, str]  # e.g. a statement's dates


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return _b64(digest)


def sign(
    key: bytes,
    *,
    kind: str,
    object_id: uuid.UUID,
    user_id: uuid.UUID,
    extra: dict[str, str] | None = None,
    seconds: int = LINK_SECONDS,
    now: float | None = None,
) -> str:
    claims: dict[str, Any] = {
        "k": kind,
        "o": object_id.hex,
        "u": user_id.hex,
        "e": int((now if now is not None else time.time()) + seconds),
        "x": extra or {},
    }
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(key, payload)}"


class BadLink(Exception):
    """Forged, malformed or expired: answered as not found."""


def verify(key: bytes, token: str, *, now: float | None = None) -> LinkClaims:
    payload, _, mac = token.partition(".")
    if not payload or not hmac.compare_digest(mac.encode(), _mac(key, payload).encode()):
        raise BadLink
    try:
        claims = json.loads(_unb64(payload))
        parsed = LinkClaims(
            kind=str(claims["k"]),
            object_id=uuid.UUID(hex=claims["o"]),
            user_id=uuid.UUID(hex=claims["u"]),
            expires_at=int(claims["e"]),
            extra={str(k): str(v) for k, v in dict(claims.get("x", {})).items()},
        )
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadLink from exc
    if parsed.expires_at < (now if now is not None else time.time()):
        raise BadLink
    return parsed
