"""Probes and the headers every response carries."""

from __future__ import annotations

from typing import Any

import httpx

from clientzone.app import create_app
from tests.helpers import http_client


async def test_healthz_answers_without_touching_the_database(app: Any) -> None:
    async with http_client(app) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_checks_the_database(app: Any) -> None:
    async with http_client(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_every_response_has_a_request_id_and_security_headers(app: Any) -> None:
    async with http_client(app) as client:
        first = await client.get("/healthz")
        second = await client.post("/graphql", json={"query": "{ __typename }"})
    for response in (first, second):
        assert len(response.headers["x-request-id"]) >= 8
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_well_formed_incoming_request_id_is_kept(app: Any) -> None:
    async with http_client(app) as client:
        kept = await client.get("/healthz", headers={"X-Request-Id": "trace-abc-12345"})
        replaced = await client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert kept.headers["x-request-id"] == "trace-abc-12345"
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"


async def test_cors_allows_only_configured_origins(app: Any) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-account-id",
    }
    async with http_client(app) as client:
        allowed = await client.options(
            "/graphql", headers={"Origin": "https://portal.example.com", **preflight}
        )
        refused = await client.options(
            "/graphql", headers={"Origin": "https://evil.example.net", **preflight}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example.com"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in refused.headers


async def test_request_bodies_over_the_limit_are_refused(app: Any) -> None:
    limit = app.state.settings.max_body_bytes
    query = "{ __typename }" + " " * (limit + 10)
    async with http_client(app) as client:
        declared = await client.post("/graphql", json={"query": query})

        async def stream() -> Any:
            for _ in range(limit // 1000 + 10):
                yield b" " * 1000

        streamed = await client.post(
            "/graphql",
            content=stream(),
            headers={"content-type": "application/json"},
        )
    assert declared.status_code == 413
    assert streamed.status_code == 413


async def test_readyz_reports_an_unreachable_database(settings: Any) -> None:
    from clientzone.db import Database

    broken = Database("postgresql://nobody@127.0.0.1:1/none")
    app = create_app(settings, broken)
    try:
        async with http_client(app) as client:
            response = await client.get("/readyz")
    finally:
        await broken.dispose()
    assert response.status_code == 503
    assert isinstance(response, httpx.Response)


async def test_healthz_sends_no_sql(app: Any, database: Any) -> None:
    async with http_client(app) as client:
        with database.count_statements() as counted:
            await client.get("/healthz")
    assert counted.count == 0


async def test_an_unreachable_database_is_unavailable_and_says_nothing_more(
    settings: Any,
) -> None:
    from clientzone.db import Database

    broken = Database("postgresql://nobody@127.0.0.1:1/none")
    app = create_app(settings, broken)
    try:
        async with http_client(app) as client:
            response = await client.post(
                "/graphql",
                json={"query": "{ viewer { user { email } } }"},
                headers={"Authorization": "Bearer something", "Accept-Language": "en"},
            )
    finally:
        await broken.dispose()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "UNAVAILABLE", "retryAfter": 2, "reason": "DEPENDENCY"}
    assert error["message"] == "The service is busy. Try again in 2 seconds."
    assert "nobody" not in response.text
