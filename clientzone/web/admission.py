"""Admission control: a process serves a bounded number of requests at once.

Past saturation more concurrent work only makes every request slower (they
queue on the database pool, time out, and clients retry). So each process lets
`running` requests in at once, as many as its pool has connections (a request
holds at most one); up to `waiting` more wait at most `wait_seconds` for a
turn; everything beyond is refused at once with UNAVAILABLE (HTTP 503,
Retry-After), which a client or load balancer can retry elsewhere. Throughput
stays at the saturation plateau instead of collapsing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from clientzone.core.errors import Unavailable
from clientzone.observability import metrics

RETRY_SECONDS = 1


class Admission:
    def __init__(self, *, running: int, waiting: int, wait_seconds: float) -> None:
        self.running = running
        self.waiting = waiting
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(running)
        self._queued = 0

    @property
    def in_flight(self) -> int:
        return self.running - self._slots._value

    @property
    def queued(self) -> int:
        return self._queued

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Run inside one of the process's slots; Unavailable when none frees up."""
        if self._slots.locked():
            if self._queued >= self.waiting:
                metrics.REQUESTS_REFUSED.inc()
                raise Unavailable(RETRY_SECONDS, "OVERLOADED")
            self._queued += 1
            metrics.REQUESTS_WAITING.inc()
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await self._slots.acquire()
            except TimeoutError:
                metrics.REQUESTS_REFUSED.inc()
                raise Unavailable(RETRY_SECONDS, "OVERLOADED") from None
            finally:
                self._queued -= 1
                metrics.REQUESTS_WAITING.dec()
        else:
            await self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()
