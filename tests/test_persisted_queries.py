"""Persisted queries: Apollo's APQ protocol (hash, miss, register, GET by hash)
and the trusted-documents mode that runs registered documents only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from tests.conftest import Portal
from tests.helpers import GraphQLClient, http_client
from tests.test_cli import run_cli

VIEWER = "query Viewer { viewer { user { email } } }"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


def _answer(response: Any) -> tuple[int, dict[str, Any]]:
    """Status and body, without the cost every answer reports."""
    body: dict[str, Any] = response.json()
    body.pop("extensions", None)
    return response.status_code, body


async def post(client: GraphQLClient, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return _answer(await client.http.post("/graphql", json=body, headers=client.headers()))


async def get(client: GraphQLClient, document: str) -> tuple[int, dict[str, Any]]:
    params = {"extensions": json.dumps(persisted(document)), "variables": "{}"}
    response = await client.http.get(
        "/graphql", params=params, headers=client.headers({"Accept": "*/*"})
    )
    return _answer(response)


async def test_an_unknown_hash_asks_for_the_document_as_apollo_clients_expect(
    portal: Portal,
) -> None:
    status, body = await post(portal.owner, {"extensions": persisted(VIEWER)})
    assert status == 200
    assert body == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ],
    }


async def test_hash_and_text_register_the_document_then_the_hash_alone_runs_it_by_get(
    portal: Portal, settings: Settings, database: Database
) -> None:
    # given: the client's retry after a miss sends the hash with the text
    status, first = await post(portal.owner, {"query": VIEWER, "extensions": persisted(VIEWER)})
    assert status == 200
    assert first == {"data": {"viewer": {"user": {"email": "ana@example.com"}}}}
    # when: the same hash alone, by GET (a short, cacheable URL)
    status, again = await get(portal.owner, VIEWER)
    # then
    assert status == 200
    assert again == first
    # and another server process (its own app, same database) knows it too
    other = create_app(settings, database)
    try:
        async with http_client(other) as http:
            status, elsewhere = await get(GraphQLClient(http, portal.owner.token), VIEWER)
    finally:
        await other.state.close_clients()
    assert status == 200
    assert elsewhere == first


async def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_is_kept(
    portal: Portal,
) -> None:
    other = "query Other { viewer { user { firstName } } }"
    status, body = await post(portal.owner, {"query": VIEWER, "extensions": persisted(other)})
    assert status == 200
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "reason": "PERSISTED_QUERY_HASH_MISMATCH",
    }
    assert "data" not in body or body["data"] is None
    _, miss = await post(portal.owner, {"extensions": persisted(other)})
    assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "extension",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-a-hash"}},
        {"persistedQuery": "abc"},
    ],
)
async def test_a_malformed_persisted_query_is_bad_input(
    portal: Portal, extension: dict[str, Any]
) -> None:
    _, body = await post(portal.owner, {"extensions": extension})
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "reason": "PERSISTED_QUERY_INVALID"}
    ]


async def test_a_document_that_fails_validation_is_not_learnt(portal: Portal) -> None:
    broken = "query Broken { viewer { nothingHere } }"
    _, body = await post(portal.owner, {"query": broken, "extensions": persisted(broken)})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    _, miss = await post(portal.owner, {"extensions": persisted(broken)})
    assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.fixture
def trusted_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trusted_documents": True})


@pytest.fixture
async def trusted_client(trusted_settings: Settings, database: Database, portal: Portal) -> Any:
    application = create_app(trusted_settings, database)
    async with http_client(application) as http:
        yield GraphQLClient(http, portal.owner.token)
    await application.state.close_clients()


async def test_trusted_mode_refuses_a_document_nobody_registered(
    trusted_client: GraphQLClient,
) -> None:
    # as text
    status, body = await post(trusted_client, {"query": VIEWER})
    assert status == 200
    assert body["errors"][0]["extensions"] == {
        "code": "FORBIDDEN",
        "reason": "DOCUMENT_NOT_REGISTERED",
    }
    assert body["errors"][0]["message"].startswith("Este servidor solo ejecuta")
    # as an APQ registration: refused too, and not learnt
    _, registering = await post(trusted_client, {"query": VIEWER, "extensions": persisted(VIEWER)})
    assert registering["errors"][0]["extensions"]["reason"] == "DOCUMENT_NOT_REGISTERED"
    _, by_hash = await post(trusted_client, {"extensions": persisted(VIEWER)})
    assert by_hash["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_trusted_mode_runs_documents_registered_with_the_command(
    trusted_client: GraphQLClient, database_url: str, tmp_path: Path
) -> None:
    # given: a front end's build registers its operations (a .graphql file and
    # GraphQL Code Generator's manifest)
    (tmp_path / "viewer.graphql").write_text(VIEWER)
    names = "query Names { viewer { user { firstName lastName } } }"
    (tmp_path / "persisted-documents.json").write_text(json.dumps({sha(names): names}))
    registered = run_cli(
        "documents",
        "register",
        str(tmp_path / "viewer.graphql"),
        str(tmp_path / "persisted-documents.json"),
        database_url=database_url,
    )
    assert registered.returncode == 0, registered.stderr
    assert "2 documents registered (2 new)" in registered.stdout
    listed = run_cli("documents", "list", database_url=database_url)
    assert f"{sha(VIEWER)}  Viewer" in listed.stdout
    # when / then: by hash and as text
    _, by_hash = await post(trusted_client, {"extensions": persisted(names)})
    assert by_hash == {"data": {"viewer": {"user": {"firstName": "Ana", "lastName": "García"}}}}
    _, as_text = await post(trusted_client, {"query": VIEWER})
    assert as_text == {"data": {"viewer": {"user": {"email": "ana@example.com"}}}}
    # and anything else is still refused
    _, other = await post(trusted_client, {"query": "query Other { viewer { user { id } } }"})
    assert other["errors"][0]["extensions"]["reason"] == "DOCUMENT_NOT_REGISTERED"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.graphql", "query { viewer {", "Syntax Error"),
        ("unknown.graphql", "query Q { nothing }", "Cannot query field 'nothing'"),
        ("wrong.json", json.dumps({"0" * 64: VIEWER}), "not the SHA-256"),
        ("list.json", "[1, 2]", "not a persisted documents manifest"),
    ],
)
def test_the_command_refuses_a_bad_document_and_registers_nothing(
    database_url: str, tmp_path: Path, name: str, content: str, message: str
) -> None:
    (tmp_path / "good.graphql").write_text(VIEWER)
    (tmp_path / name).write_text(content)
    result = run_cli(
        "documents",
        "register",
        str(tmp_path / "good.graphql"),
        str(tmp_path / name),
        database_url=database_url,
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert str(tmp_path / name) in result.stderr
    assert sha(VIEWER) not in run_cli("documents", "list", database_url=database_url).stdout
