"""What operators see: Prometheus metrics at /metrics (protected), and
OpenTelemetry spans when tracing is on."""

from __future__ import annotations

import re

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from tests.conftest import Portal
from tests.helpers import GraphQLClient, http_client, queue_account_notices


def _value(text: str, metric: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(metric):
            continue
        name, _, rest = line.partition(" ")
        if all(f'{k}="{v}"' in name for k, v in labels.items()):
            total += float(rest.split()[0])
    return total


async def test_metrics_count_requests_statements_and_the_outbox(
    portal: Portal, database: Database, settings: Settings
) -> None:
    await portal.owner.data(
        "mutation C($input: CreateContactInput!) { createContact(input: $input) "
        "{ contact { id } } }",
        {
            "input": {
                "firstName": "Rosa",
                "lastName": "Díaz",
                "email": "rosa@example.com",
                "categories": ["GENERAL"],
            }
        },
    )
    await queue_account_notices(database, settings, portal.other, 3)  # the active account
    for _ in range(3):
        await portal.owner.data("query Me { viewer { user { email } } }")
    await portal.owner.execute("query Broken { viewer { nope } }")
    scraped = await portal.anonymous.http.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert _value(text, "clientzone_graphql_requests_total", operation="Me", outcome="ok") >= 3
    # a document that fails validation is counted under its outcome
    assert _value(text, "clientzone_graphql_requests_total", outcome="BAD_USER_INPUT") >= 1
    assert _value(text, "clientzone_graphql_sql_statements_count") >= 4
    outbox = [line for line in text.splitlines() if "outbox" in line]
    assert _value(text, "clientzone_outbox_messages", status="QUEUED") == 3, outbox
    assert re.search(r"^clientzone_outbox_oldest_due_seconds \d", text, re.MULTILINE)
    assert "clientzone_db_pool_connections_in_use" in text


async def test_metrics_are_private(settings: Settings, database: Database) -> None:
    remote = httpx.ASGITransport(app=create_app(settings, database), client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://clientzone.test") as http:
        assert (await http.get("/metrics")).status_code == 404
    with_token = settings.model_copy(update={"metrics_token": "t" * 32})
    app = create_app(with_token, database)
    async with http_client(app) as http:
        refused = await http.get("/metrics")
        allowed = await http.get("/metrics", headers={"Authorization": f"Bearer {'t' * 32}"})
    assert refused.status_code == 404
    assert allowed.status_code == 200
    await app.state.close_clients()


async def test_tracing_has_a_span_per_request_operation_and_statement(
    settings: Settings, database: Database, portal: Portal
) -> None:
    exporter = InMemorySpanExporter()
    app = create_app(settings, database, tracing_exporter=exporter)
    async with http_client(app) as http:
        client = GraphQLClient(http, portal.owner.token)
        await client.data("query FirstScreen { viewer { user { email } } }")
    await app.state.close_clients()
    spans = exporter.get_finished_spans()
    operation = next(s for s in spans if s.name == "graphql query FirstScreen")
    assert operation.attributes is not None
    assert operation.attributes["clientzone.cost"] == 2
    http_span = next(s for s in spans if s.name.startswith("POST"))
    assert operation.parent is not None
    assert operation.parent.span_id in {s.context.span_id for s in spans if s is not operation}
    statements = [s for s in spans if s.attributes and "db.statement" in s.attributes]
    assert statements, [(s.name, dict(s.attributes or {})) for s in spans]
    assert http_span.context.trace_id == operation.context.trace_id
