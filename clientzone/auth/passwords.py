"""Password (and PIN) hashing with argon2id, off the event loop.

Parameters live here only. Hashing is CPU-bound and takes tens of
milliseconds, so it runs in its own worker threads, at most `os.cpu_count()`
at a time (more wait for a turn). Those threads run at a lower CPU priority
(nice +10, Linux keeps it per thread): when logins and queries compete for the
cores, queries go first, and logins still get every idle cycle.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP: argon2id, m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
T = TypeVar("T")
HASHING_NICENESS = 10
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _lower_priority() -> None:
    with suppress(AttributeError, OSError):  # not Linux, or not allowed: as is
        thread = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, now + HASHING_NICENESS))


def _executor() -> ThreadPoolExecutor:
    """This process's hashing threads (a forked worker makes its own)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        workers = max(1, os.cpu_count() or 1)
        executor = ThreadPoolExecutor(workers, "password-hashing", _lower_priority)
        _pool = (os.getpid(), executor)
    return _pool[1]


async def run_limited(function: Callable[..., T], *args: object) -> T:
    """Run CPU-bound hashing or verification on the hashing threads."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), function, *args)


async def hash_password(password: str) -> str:
    return await run_limited(HASHER.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches. Without a hash (unknown email, no password
    set) a dummy hash is verified instead, so both cost the same time."""
    target = password_hash or _dummy_hash()
    matched = await run_limited(_verify, target, password)
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return HASHER.hash(os.urandom(16).hex())
