"""Requests that fail before anything runs: malformed bodies, media types,
methods, several operations, subscriptions over HTTP, multipart misuse. Each is
a 4xx (or a GraphQL request error) with a GraphQL JSON body, never INTERNAL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Portal

VIEWER = "query Viewer { viewer { user { email } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _codes(response: httpx.Response) -> list[str]:
    body = response.json()
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"1",
        b'"text"',
        b"true",
        b"[]",
        b'[{"query": "{ __typename }"}]',
        b"{",
        b"\xff\xfe{}",
        b"[" * 10_000 + b"]" * 10_000,
        b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}",
        b'{"query": 1}',
        b'{"query": "{ __typename }", "variables": [1]}',
        b'{"query": "{ __typename }", "operationName": 7}',
        b'{"query": "{ __typename }", "extensions": "x"}',
        b'{"query": "{ __typename }", "variables": {"s": "\\ud800"}}',
    ],
)
async def test_a_malformed_json_body_is_a_400_with_a_graphql_body(
    portal: Portal, body: bytes
) -> None:
    response = await portal.anonymous.http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert _codes(response) == ["BAD_USER_INPUT"]
    assert "data" not in response.json()


async def test_media_types_follow_graphql_over_http(portal: Portal) -> None:
    http, headers = portal.owner.http, portal.owner.headers()
    # graphql-response+json: a document that fails before execution is a 400, no data
    broken = await http.post(
        "/graphql", json={"query": "{ viewer { "}, headers={**headers, "Accept": GRAPHQL_RESPONSE}
    )
    assert broken.status_code == 400
    assert broken.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in broken.json()
    # ...and an executed one is a 200 in that media type
    ran = await http.post(
        "/graphql",
        json={"query": VIEWER},
        headers={**headers, "Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"},
    )
    assert ran.status_code == 200
    assert ran.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    # application/json: the same broken document is a 200 with errors
    legacy = await http.post(
        "/graphql", json={"query": "{ viewer { "}, headers={**headers, "Accept": "application/json"}
    )
    assert legacy.status_code == 200
    assert _codes(legacy) == ["BAD_USER_INPUT"]
    # media types are case-insensitive
    upper = await http.post(
        "/graphql",
        content=json.dumps({"query": VIEWER}).encode(),
        headers={**headers, "Content-Type": "Application/JSON; Charset=UTF-8", "Accept": "*/*"},
    )
    assert upper.status_code == 200
    assert upper.json()["data"]["viewer"]["user"]["email"] == "ana@example.com"
    # nothing acceptable
    refused = await http.post(
        "/graphql", json={"query": VIEWER}, headers={**headers, "Accept": "text/plain"}
    )
    assert refused.status_code == 406
    assert _codes(refused) == ["BAD_USER_INPUT"]


async def test_wrong_methods_and_content_types_are_refused_as_json(portal: Portal) -> None:
    http, headers = portal.owner.http, portal.owner.headers()
    put = await http.put("/graphql", json={"query": VIEWER}, headers=headers)
    assert put.status_code == 405
    assert put.headers["allow"] == "GET, POST"
    assert _codes(put) == ["BAD_USER_INPUT"]
    text = await http.post(
        "/graphql", content=b"{ __typename }", headers={**headers, "Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    latin = await http.post(
        "/graphql",
        content=json.dumps({"query": VIEWER}).encode(),
        headers={**headers, "Content-Type": "application/json; charset=latin-1"},
    )
    assert latin.status_code == 415


async def test_several_operations_need_an_operation_name_and_run_nothing(
    portal: Portal,
) -> None:
    document = "mutation Out { logout { endedSessions } } query In { viewer { user { email } } }"
    response = await portal.owner.post(document)
    assert _codes(response) == ["BAD_USER_INPUT"]
    assert "operationName" in response.json()["errors"][0]["message"]
    # the hidden logout did not run: the token still works
    assert (await portal.owner.data(VIEWER))["viewer"]["user"]["email"] == "ana@example.com"
    named = await portal.owner.http.post(
        "/graphql",
        json={"query": document, "operationName": "In"},
        headers=portal.owner.headers(),
    )
    assert named.json()["data"]["viewer"]["user"]["email"] == "ana@example.com"
    unknown = await portal.owner.http.post(
        "/graphql",
        json={"query": document, "operationName": "Nope"},
        headers=portal.owner.headers(),
    )
    assert _codes(unknown) == ["BAD_USER_INPUT"]


async def test_a_subscription_over_http_is_a_request_error(portal: Portal) -> None:
    document = 'subscription Live { caseUpdated(caseId: "x") { kind } }'
    for accept in ("application/json", GRAPHQL_RESPONSE):
        response = await portal.owner.http.post(
            "/graphql",
            json={"query": document},
            headers={**portal.owner.headers(), "Accept": accept},
        )
        assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
        assert _codes(response) == ["BAD_USER_INPUT"]
        assert "WebSocket" in response.json()["errors"][0]["message"]


async def test_a_mutation_over_get_is_a_405(portal: Portal) -> None:
    response = await portal.owner.http.get(
        "/graphql",
        params={"query": "mutation Out { logout { endedSessions } }"},
        headers={**portal.owner.headers(), "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert (await portal.owner.data(VIEWER))["viewer"]["user"]["email"] == "ana@example.com"


REPORT = """
mutation Report($input: ReportPaymentInput!) {
  reportPayment(input: $input) { payment { id } userErrors { field code } }
}
"""


def _multipart(operations: Any, mapping: Any, files: dict[str, Any] | None = None) -> Any:
    parts: dict[str, Any] = {
        "operations": (None, operations if isinstance(operations, str) else json.dumps(operations)),
        "map": (None, mapping if isinstance(mapping, str) else json.dumps(mapping)),
    }
    parts.update(files or {})
    return parts


@pytest.mark.parametrize(
    ("operations", "mapping", "files"),
    [
        ("not json", {}, None),
        ({"query": REPORT, "variables": {"input": {"receipt": None}}}, "[1, 2]", None),
        (
            {"query": REPORT, "variables": {"input": {"receipt": None}}},
            {"0": ["variables.input.nope.deeper"]},
            {"0": ("a.pdf", b"%PDF-1.7", "application/pdf")},
        ),
        (
            {"query": REPORT, "variables": {"input": {"receipt": None}}},
            {"0": ["variables.input.receipt"]},
            None,
        ),
        (
            {"query": REPORT, "variables": {"input": {"receipt": None}}},
            {"0": "variables.input.receipt"},
            {"0": ("a.pdf", b"%PDF-1.7", "application/pdf")},
        ),
        (
            {"query": REPORT, "variables": {"input": {"receipt": None}}},
            {str(i): ["variables.input.receipt"] for i in range(12)},
            {str(i): (f"{i}.pdf", b"%PDF-1.7", "application/pdf") for i in range(12)},
        ),
        (
            {"query": REPORT, "variables": {"input": {"receipt": None}}},
            {"0": ["variables.input.receipt"]},
            {"0": ("x" * 5000 + ".pdf", b"%PDF-1.7", "application/pdf")},
        ),
        ({"query": VIEWER}, {}, None),
    ],
)
async def test_a_malformed_multipart_request_is_a_400(
    portal: Portal, operations: Any, mapping: Any, files: dict[str, Any] | None
) -> None:
    response = await portal.member.http.post(
        "/graphql",
        files=_multipart(operations, mapping, files),
        headers=portal.member.headers(),
    )
    assert response.status_code in (400, 413), response.text
    assert _codes(response) == ["BAD_USER_INPUT"]


async def test_a_broken_multipart_boundary_is_a_400(portal: Portal) -> None:
    response = await portal.member.http.post(
        "/graphql",
        content=b'--nope\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}',
        headers={
            **portal.member.headers(),
            "Content-Type": "multipart/form-data; boundary=other",
        },
    )
    assert response.status_code == 400
    assert _codes(response) == ["BAD_USER_INPUT"]


async def test_an_oversized_body_is_a_413_with_a_graphql_body(portal: Portal) -> None:
    response = await portal.anonymous.http.post(
        "/graphql",
        content=b'{"query": "' + b" " * 1_100_000 + b'{ __typename }"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert _codes(response) == ["BAD_USER_INPUT"]
