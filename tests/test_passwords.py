"""argon2id hashing, off the event loop (the demo logins' hashes come from here)."""

from __future__ import annotations

import asyncio

from clientzone.auth.passwords import HASHER, hash_password, verify_password


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
