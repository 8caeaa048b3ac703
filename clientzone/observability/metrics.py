"""Prometheus metrics, at GET /metrics.

Several server processes (`serve --workers N`) each count on their own;
prometheus-client's multiprocess mode adds them up at scrape time. `serve`
sets PROMETHEUS_MULTIPROC_DIR for its workers (a fresh folder per start) when
it runs more than one and the variable is not set already; it must be set
before this module is imported, which is why the metrics are defined here and
nowhere else.

Gauges about shared state (the outbox) are read from the database when
scraped, so any process answers for all of them.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter(
    "clientzone_graphql_requests_total",
    "GraphQL requests by operation name and outcome (ok, an error code, or refused).",
    ["operation", "outcome"],
)
DURATION = Histogram(
    "clientzone_graphql_request_duration_seconds",
    "Time to answer a GraphQL request, by operation name.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STATEMENTS = Histogram(
    "clientzone_graphql_sql_statements",
    "SQL statements one GraphQL request sent.",
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89),
)
POOL_IN_USE = Gauge(
    "clientzone_db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)
REQUESTS_WAITING = Gauge(
    "clientzone_requests_waiting",
    "Requests waiting for a turn (admission control: the pool is busy).",
    multiprocess_mode="livesum",
)
REQUESTS_REFUSED = Counter(
    "clientzone_requests_refused_total",
    "Requests refused with UNAVAILABLE because the process was at capacity.",
)
RATE_LIMITED = Counter(
    "clientzone_rate_limit_hits_total",
    "Requests refused by a rate limit or the cost budget, by limit.",
    ["limit"],
)
SUBSCRIPTIONS = Gauge(
    "clientzone_open_subscriptions",
    "GraphQL subscriptions running over WebSocket.",
    multiprocess_mode="livesum",
)

# The SQL statements of the request being served (None outside requests).
statements_of_request: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "statements_of_request", default=None
)

_OPERATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_OPERATION_NAMES = 200
_seen_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    """A bounded label: clients choose operation names, so past a few hundred
    distinct ones (or odd ones) they are counted together."""
    if not name:
        return "anonymous"
    if name in _seen_operations:
        return name
    if not _OPERATION.match(name) or len(_seen_operations) >= _MAX_OPERATION_NAMES:
        return "other"
    _seen_operations.add(name)
    return name


def count_statement() -> None:
    counter = statements_of_request.get()
    if counter is not None:
        counter[0] += 1


class OutboxCollector:
    """Outbox depth by status and the age of the oldest due message, read from
    the database at scrape time (`read` returns both)."""

    def __init__(self, depth: dict[str, int], oldest_due_seconds: float | None) -> None:
        self.depth = depth
        self.oldest = oldest_due_seconds

    def collect(self) -> Iterator[Any]:
        depth = GaugeMetricFamily(
            "clientzone_outbox_messages",
            "Email messages in the outbox by status.",
            labels=["status"],
        )
        for status, count in sorted(self.depth.items()):
            depth.add_metric([status], count)
        yield depth
        oldest = GaugeMetricFamily(
            "clientzone_outbox_oldest_due_seconds",
            "How long the oldest message due for sending has waited (0: none waiting).",
        )
        oldest.add_metric([], self.oldest or 0.0)
        yield oldest


def render(outbox: OutboxCollector | None) -> tuple[bytes, str]:
    """The exposition text for a scrape, every process of this server included."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    if outbox is not None:
        scraped = CollectorRegistry()
        scraped.register(outbox)
        return generate_latest(registry) + generate_latest(scraped), CONTENT_TYPE_LATEST
    return generate_latest(registry), CONTENT_TYPE_LATEST
