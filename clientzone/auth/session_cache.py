"""Live sessions kept for a few seconds, so most requests read no session row.

Every request authenticates, and reading the session and its user is most of
what a small request costs. A process keeps the sessions it looked up (by the
SHA-256 of the token) for at most TTL seconds, and drops them the moment a
transaction changes them: models/auth_changes.py tells this process at
commit, and the event bus (Redis, or PostgreSQL's LISTEN/NOTIFY) tells every
other process. The cache only proves a session is live, never that it is not:
a miss, or a cached session past its idle or absolute end, reads the database.

It serves requests only while this process listens to the other processes'
changes (`live`); without a bus that crosses processes (an in-memory
database), only when this is the only server process. If the bus drops
messages while it reconnects, a revocation made elsewhere takes effect here
within TTL seconds at most.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clientzone.models.auth_changes import session_key, user_key
from clientzone.models.sessions import AuthSession
from clientzone.models.users import User
from clientzone.realtime.events import EventBus

logger = logging.getLogger("clientzone.auth")

CHANNEL = "auth-changed"


@dataclass
class Entry:
    session: AuthSession
    user: User
    cached_at: float
    # This process's own view of when the session was last seen and when it
    # falls idle (it touches sessions; the cached row keeps the older values).
    last_seen_at: datetime
    idle_expires_at: datetime | None


class SessionCache:
    def __init__(
        self,
        events: EventBus | None,
        *,
        ttl: float = 10.0,
        size: int = 20_000,
    ) -> None:
        self.events = events
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._keys: dict[str, set[str]] = {}  # user:/session: key -> token hashes
        self._listener: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()
        self.live = False

    def start(self) -> None:
        """Listen to the other processes (once; needs a running loop)."""
        if self._listener is None and self.events is not None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def close(self) -> None:
        self.live = False
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    def get(self, token_hash: str, now: datetime, loop_time: float) -> Entry | None:
        if not self.live:
            return None
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        idle_end = entry.idle_expires_at
        if (
            loop_time - entry.cached_at > self.ttl
            or entry.session.expires_at <= now
            or (idle_end is not None and idle_end <= now)
        ):
            self._drop(token_hash)
            return None
        return entry

    def put(self, token_hash: str, session: AuthSession, user: User, loop_time: float) -> None:
        if not self.live:
            return
        self._drop(token_hash)
        self._entries[token_hash] = Entry(
            session, user, loop_time, session.last_seen_at, session.idle_expires_at
        )
        for key in (user_key(user.id), session_key(session.id)):
            self._keys.setdefault(key, set()).add(token_hash)
        while len(self._entries) > self.size:
            self._drop(next(iter(self._entries)))

    def forget(self, keys: frozenset[str]) -> None:
        for key in keys:
            for token_hash in self._keys.pop(key, set()):
                self._drop(token_hash)

    def committed(self, keys: frozenset[str]) -> None:
        """A transaction of this process changed these logins or sessions."""
        self.forget(keys)
        if self.events is not None:
            task = asyncio.get_running_loop().create_task(
                self.events.publish(CHANNEL, json.dumps(sorted(keys)))
            )
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)

    def _drop(self, token_hash: str) -> None:
        entry = self._entries.pop(token_hash, None)
        if entry is None:
            return
        for key in (user_key(entry.user.id), session_key(entry.session.id)):
            hashes = self._keys.get(key)
            if hashes is not None:
                hashes.discard(token_hash)
                if not hashes:
                    del self._keys[key]

    async def _listen(self) -> None:
        assert self.events is not None
        delay = 0.5
        while True:
            try:
                async with self.events.subscribe(CHANNEL) as messages:
                    self.live = True
                    delay = 0.5
                    async for message in messages:
                        self.forget(_keys_of(message))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("session cache paused: not hearing other processes (%r)", error)
            finally:
                # Whatever was missed meanwhile: start empty when listening again.
                self.live = False
                self._entries.clear()
                self._keys.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


def _keys_of(message: str) -> frozenset[str]:
    try:
        keys: Any = json.loads(message)
    except ValueError:
        return frozenset()
    return (
        frozenset(k for k in keys if isinstance(k, str)) if isinstance(keys, list) else frozenset()
    )
