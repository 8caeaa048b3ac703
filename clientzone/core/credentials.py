"""Service credentials sealed at rest (Fernet: AES-128-CBC and HMAC-SHA256).

The database keeps only the token; the key is Settings.credentials_key()
(SERVICE_CREDENTIALS_KEY, or derived from SECRET_KEY). Opening a token made
with another key fails (`CredentialsUnreadable`) rather than returning junk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken


class CredentialsUnreadable(Exception):
    """A token sealed with another key, or damaged."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def seal(key: bytes, credentials: Credentials) -> str:
    payload = json.dumps({"u": credentials.username, "p": credentials.password})
    return Fernet(key).encrypt(payload.encode()).decode("ascii")


def unseal(key: bytes, token: str) -> Credentials:
    try:
        data = json.loads(Fernet(key).decrypt(token.encode("ascii")))
    except (InvalidToken, ValueError) as exc:
        raise CredentialsUnreadable from exc
    return Credentials(username=str(data["u"]), password=str(data["p"]))
