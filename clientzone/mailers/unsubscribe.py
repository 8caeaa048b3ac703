"""One-click unsubscribe (RFC 8058) for account notifications.

Each copy sent to a contact carries `List-Unsubscribe: <https://.../unsubscribe/TOKEN>`
and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The token is signed
with its own key (derived from SECRET_KEY, purpose "unsubscribe") and names the
account, the address and the category; it works for UNSUBSCRIBE_LINK_DAYS after
sending, without signing in: a POST removes that category from that contact.
Login messages (codes, links, security notices) carry none, and copies to the
account's own address neither: only contacts choose categories.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from clientzone.config import Settings
from clientzone.core import signed_links
from clientzone.models.contacts import EmailCategory

KEY_PURPOSE = "unsubscribe"
KIND = "unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    account_id: uuid.UUID
    email: str
    category: EmailCategory


def token(
    settings: Settings,
    *,
    account_id: uuid.UUID,
    email: str,
    category: EmailCategory,
    now: float | None = None,
) -> str:
    return signed_links.sign(
        settings.key(KEY_PURPOSE),
        kind=KIND,
        object_id=account_id,
        user_id=account_id,  # no login involved: the account stands in
        extra={"e": email, "c": category.value},
        seconds=settings.unsubscribe_link_days * 86_400,
        now=now if now is not None else time.time(),
    )


def link(settings: Settings, unsubscribe_token: str) -> str:
    return f"{settings.public_base_url}/unsubscribe/{unsubscribe_token}"


def verify(settings: Settings, unsubscribe_token: str) -> Unsubscribe:
    """Raises signed_links.BadLink for a forged, altered, expired or foreign token."""
    claims = signed_links.verify(settings.key(KEY_PURPOSE), unsubscribe_token)
    try:
        if claims.kind != KIND or claims.user_id != claims.object_id:
            raise signed_links.BadLink
        return Unsubscribe(claims.object_id, claims.extra["e"], EmailCategory(claims.extra["c"]))
    except (KeyError, ValueError) as exc:
        raise signed_links.BadLink from exc
