"""Live sessions end at once: when a login's sessions are revoked, every server
process is told, and the WebSockets of that login check their session again
(closing with 4401 when it has ended). An API client's sockets are told the
same way when the client is revoked or its key rotated. The message carries
nothing but the hint; the socket reads the session (or the client) itself."""

from __future__ import annotations

import uuid

from clientzone.realtime.events import EventBus


def channel(user_id: uuid.UUID) -> str:
    return f"sessions:{user_id.hex}"


def client_channel(client_id: uuid.UUID) -> str:
    return f"api-client:{client_id.hex}"


async def announce_sessions_ended(events: EventBus | None, user_id: uuid.UUID) -> None:
    if events is not None:
        await events.publish(channel(user_id), "ended")


async def announce_client_changed(events: EventBus | None, client_id: uuid.UUID) -> None:
    """The client was revoked or its key rotated: its sockets check their credential."""
    if events is not None:
        await events.publish(client_channel(client_id), "changed")
