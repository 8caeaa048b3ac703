"""Random secrets and how they are kept: only hashes are ever stored.

Tokens carry 256 random bits, so a plain SHA-256 is enough to store them.
Six-digit codes have only a million values: they are stored as an HMAC keyed
with a key derived from SECRET_KEY and bound to their row, so a copy of the table does not give
them away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def hash_code(key: bytes, binding: str, code: str) -> str:
    """HMAC of a short code, bound to `binding` (the row it belongs to)."""
    message = f"{binding}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
