"""argon2id hashing, off the event loop (the demo logins' hashes come from here)."""

from __future__ import annotations

import asyncio
import os
import threading

from clientzone.auth.passwords import (
    HASHER,
    HASHING_NICENESS,
    hash_password,
    run_limited,
    verify_password,
)


async def test_hash_and_verify() -> None:
    stored = await hash_password("demo-clientzone-2026")
    assert stored.startswith("$argon2id$")
    assert "demo-clientzone-2026" not in stored
    assert await verify_password(stored, "demo-clientzone-2026") is True
    assert await verify_password(stored, "demo-clientzone-2025") is False
    assert await verify_password("not-a-hash", "anything") is False
    assert not HASHER.check_needs_rehash(stored)


async def test_hashing_does_not_block_the_event_loop() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(hash_password(f"password-{i}") for i in range(4)))
    task.cancel()
    assert ticks > 5


async def test_hashing_runs_at_a_lower_cpu_priority_than_requests() -> None:
    """Logins under load must not starve queries: the hashing threads are niced."""

    def niceness() -> tuple[int, str]:
        me = threading.current_thread()
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), me.name

    loop_niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    nice, name = await run_limited(niceness)
    assert name.startswith("password-hashing")
    assert nice == min(19, loop_niceness + HASHING_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_niceness
