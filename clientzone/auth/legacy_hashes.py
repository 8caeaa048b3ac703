"""Checking passwords against hashes imported from the old portal.

Supported formats: bcrypt (`$2a$`, `$2b$`, `$2y$`), Django PBKDF2
(`pbkdf2_sha256$iterations$salt$hash`, also `pbkdf2_sha1`) and argon2
(`$argon2id$...`, also Django's `argon2$argon2id$...`). Anything else is
refused at import time, so a claim never meets an unknown format.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_ARGON2 = PasswordHasher()
_PBKDF2_DIGESTS = {"pbkdf2_sha256": "sha256", "pbkdf2_sha1": "sha1"}


class UnsupportedHash(ValueError):
    pass


def hash_format(password_hash: str) -> str:
    """The format's name, or UnsupportedHash."""
    if password_hash.startswith(("$2a$", "$2b$", "$2y$")) and len(password_hash) == 60:
        return "bcrypt"
    algorithm, _, rest = password_hash.partition("$")
    if algorithm in _PBKDF2_DIGESTS:
        parts = rest.split("$")
        if len(parts) == 3 and parts[0].isdigit() and int(parts[0]) > 0 and parts[1] and parts[2]:
            return algorithm
    if password_hash.startswith(("$argon2id$", "$argon2i$", "argon2$argon2")):
        return "argon2"
    raise UnsupportedHash("unsupported password hash format")


def verify_legacy(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`; CPU-bound, run off the loop."""
    kind = hash_format(password_hash)
    secret = password.encode()
    if kind == "bcrypt":
        # bcrypt only reads 72 bytes; `$2y$` is PHP's name for `$2b$`.
        stored = password_hash.replace("$2y$", "$2b$", 1).encode()
        try:
            return bcrypt.checkpw(secret[:72], stored)
        except ValueError:
            return False
    if kind in _PBKDF2_DIGESTS:
        _, iterations, salt, expected = password_hash.split("$")
        derived = hashlib.pbkdf2_hmac(_PBKDF2_DIGESTS[kind], secret, salt.encode(), int(iterations))
        return hmac.compare_digest(base64.b64encode(derived).decode(), expected)
    try:
        return _ARGON2.verify(password_hash.removeprefix("argon2"), password)
    except (VerificationError, InvalidHashError):
        return False
