"""Which logins and sessions a transaction changed, told once it commits.

Sessions are looked up on every request, so servers keep the live ones in a
short cache (auth/session_cache.py). Every write that can change what a cached
lookup said (a session revoked or switched to another account, a user's
details or status) marks the user or session here, inside its transaction;
when the transaction commits, the listeners hear the keys (never when it rolls
back). The app's listener drops them from its cache and tells the other
server processes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_KEY = "clientzone.auth_changed"
Listener = Callable[[frozenset[str]], None]
_listeners: list[tuple[Any, Listener]] = []


def user_key(user_id: uuid.UUID) -> str:
    return f"user:{user_id.hex}"


def session_key(session_id: uuid.UUID) -> str:
    return f"session:{session_id.hex}"


def mark_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    session.sync_session.info.setdefault(_KEY, set()).add(user_key(user_id))


def mark_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    session.sync_session.info.setdefault(_KEY, set()).add(session_key(session_id))


def listen(engine: Any, listener: Listener) -> Callable[[], None]:
    """Call `listener(keys)` after each commit, on `engine`, that changed
    logins or sessions; returns the function that stops it."""
    entry = (engine, listener)
    _listeners.append(entry)
    return lambda: _listeners.remove(entry) if entry in _listeners else None


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    keys = session.info.pop(_KEY, None)
    if keys:
        bind = session.bind
        for engine, listener in tuple(_listeners):
            if bind is engine:
                listener(frozenset(keys))


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_KEY, None)
