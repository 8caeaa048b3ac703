"""Password (and PIN) hashing with argon2id, off the event loop.

Parameters live here only. Hashing is CPU-bound and takes tens of
milliseconds, so it runs in worker threads, at most `os.cpu_count()` at a time:
requests beyond that wait instead of starving the event loop.
"""

from __future__ import annotations

import os

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP: argon2id, m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_LIMITER = anyio.CapacityLimiter(max(1, os.cpu_count() or 1))


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(HASHER.hash, password, limiter=_LIMITER)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify, limiter=_LIMITER)
