"""Top-level errors: stable codes, localized messages, unexpected ones masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from clientzone.resolvers import viewer as viewer_resolvers
from tests.conftest import Portal

MEMBERSHIPS = "{ viewer { memberships { totalCount } } }"
ACTIVE_ACCOUNT = "{ account { name } }"


async def test_anonymous_access_to_account_data_is_unauthenticated(portal: Portal) -> None:
    body = await portal.anonymous.execute(ACTIVE_ACCOUNT)
    assert body["data"] == {"account": None}
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert body["errors"][0]["path"] == ["account"]


async def test_anonymous_viewer_is_null_not_an_error(portal: Portal) -> None:
    assert await portal.anonymous.data("{ viewer { user { email } } }") == {"viewer": None}


async def test_an_unknown_or_revoked_token_is_anonymous(portal: Portal) -> None:
    portal.anonymous.token = "not-a-token"
    assert await portal.anonymous.data("{ viewer { user { email } } }") == {"viewer": None}


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        (None, "Inicia sesión para continuar."),
        ("es-MX,es;q=0.9", "Inicia sesión para continuar."),
        ("en-US,en;q=0.8", "Sign in to continue."),
        ("fr-FR, en;q=0.5", "Sign in to continue."),
        ("de-DE", "Inicia sesión para continuar."),
    ],
)
async def test_messages_follow_accept_language(
    portal: Portal, accept_language: str | None, expected: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else None
    body = await portal.anonymous.execute(ACTIVE_ACCOUNT, headers=headers)
    assert body["errors"][0]["message"] == expected


@pytest.fixture
def graphql_log() -> Iterator[list[logging.LogRecord]]:
    """Records of the clientzone.graphql logger during the test."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("clientzone.graphql")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    portal: Portal, monkeypatch: pytest.MonkeyPatch, graphql_log: list[logging.LogRecord]
) -> None:
    async def broken(*_args: object) -> int:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(viewer_resolvers, "memberships_count", broken)
    response = await portal.owner.post(MEMBERSHIPS, headers={"Accept-Language": "en"})
    body = response.json()
    error = body["errors"][0]
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert error["message"] == f"Internal error. Reference: {request_id}."
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    logged = graphql_log
    assert len(logged) == 1
    assert logged[0].request_id == request_id  # type: ignore[attr-defined]
    assert logged[0].exc_info is not None
    assert "secret" in str(logged[0].exc_info[1])


async def test_expected_errors_are_not_logged_as_failures(
    portal: Portal, graphql_log: list[logging.LogRecord]
) -> None:
    await portal.anonymous.execute(ACTIVE_ACCOUNT)
    await portal.owner.execute('{ node(id: "nope") { id } }')
    await portal.owner.execute("{ viewer { memberships(first: 500) { totalCount } } }")
    assert graphql_log == []
