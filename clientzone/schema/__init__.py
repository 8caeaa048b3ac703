"""Strawberry types, inputs, enums and the Schema. Describes; resolvers/ decides.

Operations are parsed, validated, priced and run by schema/engine.py for HTTP
and WebSocket alike; the Strawberry schema here only describes the API.
"""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from clientzone.config import Settings
from clientzone.schema.query import Mutation, Query, Subscription
from clientzone.schema.scalars import SCALAR_OVERRIDES


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema (the same whatever the settings: limits live in the engine)."""
    del settings
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        scalar_overrides=SCALAR_OVERRIDES,
        config=StrawberryConfig(),
    )
