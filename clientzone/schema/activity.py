"""An account's activity history."""

from __future__ import annotations

from datetime import datetime

import strawberry

from clientzone.core.ids import encode_global_id
from clientzone.models import activity as models
from clientzone.schema.mail import as_utc
from clientzone.schema.node import Node

strawberry.enum(models.ActivityAction, description="What changed in the account.")
strawberry.enum(models.ActorKind, description="Who made a change: a customer, staff, the system.")


@strawberry.type(description="One changed field; before/after are null for secrets.")
class ActivityChange:
    field: str
    before: str | None
    after: str | None


@strawberry.type(description="A change to the account: who, what, when, from where.")
class Activity(Node):
    action: models.ActivityAction
    actor_kind: models.ActorKind
    actor: str = strawberry.field(
        description="The person's email at the time, `system`, or `integration:NAME` "
        "for an API client."
    )
    target: str | None = strawberry.field(description="What it was done to (an email...).")
    changes: list[ActivityChange]
    ip: str | None
    user_agent: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.ActivityEntry) -> Activity:
        return cls(
            id=strawberry.ID(encode_global_id("Activity", row.id)),
            action=row.action,
            actor_kind=row.actor_kind,
            actor=row.actor_label,
            target=row.target,
            changes=[
                ActivityChange(field=c.field, before=c.before, after=c.after)
                for c in row.change_list()
            ],
            ip=row.ip,
            user_agent=row.user_agent,
            created_at=row.created_at,
        )


@strawberry.input(description="Narrow the history; `from` inclusive, `to` exclusive.")
class ActivityFilterInput:
    actions: list[models.ActivityAction] | None = None
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None

    def to_filter(self) -> models.ActivityFilter:
        return models.ActivityFilter(
            actions=frozenset(self.actions or ()), since=as_utc(self.from_), until=as_utc(self.to)
        )
