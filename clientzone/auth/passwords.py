"""Password (and PIN) hashing with argon2id, off the event loop.

Parameters live here only. Hashing is CPU-bound and takes tens of
milliseconds, so it runs in worker threads, at most `os.cpu_count()` at a time:
requests beyond that wait instead of starving the event loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP: argon2id, m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
T = TypeVar("T")
_LIMITER = anyio.CapacityLimiter(max(1, os.cpu_count() or 1))


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(HASHER.hash, password, limiter=_LIMITER)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches. Without a hash (unknown email, no password
    set) a dummy hash is verified instead, so both cost the same time."""
    target = password_hash or _dummy_hash()
    matched = await anyio.to_thread.run_sync(_verify, target, password, limiter=_LIMITER)
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


async def run_limited(function: Callable[..., T], *args: object) -> T:
    """Run CPU-bound verification (legacy hashes) under the same capacity limit."""
    return await anyio.to_thread.run_sync(function, *args, limiter=_LIMITER)


@cache
def _dummy_hash() -> str:
    return HASHER.hash(os.urandom(16).hex())
