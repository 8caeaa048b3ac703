"""Live case updates: what changed, on which case, told to every server process.

A change is announced after its transaction committed, on the case's own
channel. The message carries no case data: each subscriber reads the case
again under its own permissions. Internal staff notes are announced as
internal and never reach customers' subscriptions.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from clientzone.realtime.events import EventBus

logger = logging.getLogger("clientzone.cases")


class CaseUpdateKind(StrEnum):
    COMMENT_ADDED = "COMMENT_ADDED"
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
    STATUS_CHANGED = "STATUS_CHANGED"


@dataclass(frozen=True)
class CaseUpdateMessage:
    kind: CaseUpdateKind
    internal: bool


def channel(case_id: uuid.UUID) -> str:
    return f"case:{case_id.hex}"


async def announce(
    events: EventBus | None, case_id: uuid.UUID, kind: CaseUpdateKind, *, internal: bool = False
) -> None:
    if events is None:
        return
    message = json.dumps({"kind": kind.value, "internal": internal})
    await events.publish(channel(case_id), message)


def parse(message: str) -> CaseUpdateMessage | None:
    try:
        data = json.loads(message)
        return CaseUpdateMessage(CaseUpdateKind(data["kind"]), bool(data.get("internal")))
    except (ValueError, KeyError, TypeError):
        logger.warning("ignored a malformed case update: %r", message[:200])
        return None
