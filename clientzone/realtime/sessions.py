"""Live sessions end at once: when a login's sessions are revoked, every server
process is told, and the WebSockets of that login check their session again
(closing with 4401 when it has ended). The message carries nothing but the
hint; the socket reads the session itself."""

from __future__ import annotations

import uuid

from clientzone.realtime.events import EventBus


def channel(user_id: uuid.UUID) -> str:
    return f"sessions:{user_id.hex}"


async def announce_sessions_ended(events: EventBus | None, user_id: uuid.UUID) -> None:
    if events is not None:
        await events.publish(channel(user_id), "ended")
