"""Docs that run: every GraphQL block in README.md and docs/*.md is one named
operation, and every one not marked otherwise runs on the demo data.

A block's variables are the JSON block right after it (a JSON block with
`data` or `errors` is a response, not variables). Objects are named in
variables as `<ID of KIND KEY>` (demo/references.py) and looked up here. An
HTML comment on the line before the block can say how to run it:

    <!-- run: as luis.perez@example.com; account ES-300400; expect FORBIDDEN -->
    <!-- run: as soporte@example.com -->   (staff: its session proved the second factor)
    <!-- run: anonymous -->
    <!-- not run: needs the code emailed to the user -->

By default a block runs as ana.garcia@example.com (a fresh bearer token each
time) on account MX-100200, and must answer without errors; a mutation's
`userErrors`, when asked for, must be empty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from sqlalchemy import func, select
from sqlmodel import col

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.demo.data import issue_demo_tokens, load_demo_data
from clientzone.demo.references import fill_references, reference_id
from clientzone.models.cases import Case
from clientzone.models.users import user_by_email
from tests.helpers import GraphQLClient, http_client, issue_token

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
DIRECTIVE = re.compile(r"^<!--\s*(run|not run):\s*(.*?)\s*-->\s*$")


@dataclass
class Example:
    where: str
    document: str
    variables: dict[str, Any] = field(default_factory=dict)
    not_run: str | None = None
    viewer: str | None = "ana.garcia@example.com"
    account: str | None = "MX-100200"
    expect: str | None = None


def _blocks(text: str) -> list[tuple[int, str, str, str]]:
    """(line, language, body, the line before the fence) of every fenced block."""
    lines = text.split("\n")
    blocks = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = index + 1
        while not lines[end].startswith("```"):
            end += 1
        before = lines[index - 1] if index > 0 else ""
        blocks.append((index + 1, opening.group(1), "\n".join(lines[index + 1 : end]), before))
        index = end + 1
    return blocks


def _adjacent(text: str, first_line: int, second_line: int) -> bool:
    """Only blank lines between the end of one block and the start of the next."""
    lines = text.split("\n")
    end = first_line
    while not lines[end].startswith("```"):
        end += 1
    return all(not line.strip() for line in lines[end + 1 : second_line - 1])


def collect() -> list[Example]:
    examples = []
    for path in DOCUMENTS:
        text = path.read_text()
        blocks = _blocks(text)
        for position, (line, language, body, before) in enumerate(blocks):
            if language != "graphql":
                continue
            example = Example(f"{path.relative_to(ROOT)}:{line}", body)
            if position + 1 < len(blocks):
                next_line, next_language, next_body, _ = blocks[position + 1]
                if next_language == "json" and _adjacent(text, line, next_line):
                    value = json.loads(next_body)
                    if isinstance(value, dict) and not {"data", "errors"} & set(value):
                        example.variables = value
            directive = DIRECTIVE.match(before)
            if directive and directive.group(1) == "not run":
                example.not_run = directive.group(2)
            elif directive:
                for part in filter(None, (p.strip() for p in directive.group(2).split(";"))):
                    word, _, value = part.partition(" ")
                    if word == "anonymous":
                        example.viewer = example.account = None
                    elif word == "as":
                        example.viewer = value
                    elif word == "account":
                        example.account = value
                    elif word == "expect":
                        example.expect = value
                    else:
                        raise AssertionError(f"{example.where}: unknown directive {part!r}")
            examples.append(example)
    return examples


EXAMPLES = collect()


def test_there_are_examples_in_every_guide() -> None:
    assert len(EXAMPLES) > 50
    assert {e.where.split(":")[0] for e in EXAMPLES} >= {
        "README.md",
        "docs/accounts.md",
        "docs/authentication.md",
        "docs/billing.md",
        "docs/cases.md",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_every_graphql_block_is_one_named_operation(example: Example) -> None:
    document = parse(example.document)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"{example.where}: {len(operations)} operations"
    assert operations[0].name is not None, f"{example.where}: the operation has no name"
    declared = {v.variable.name.value for v in operations[0].variable_definitions or ()}
    assert set(example.variables) <= declared, f"{example.where}: variables not declared"
    if example.not_run is not None:
        assert len(example.not_run) > 10, f"{example.where}: say why it is not run"


def test_only_a_few_examples_are_not_run() -> None:
    not_run = [e.where for e in EXAMPLES if e.not_run is not None]
    # Staff examples run as the demo's staff login, its session past the second factor.
    assert len(not_run) <= 12, not_run


def _has_user_errors(document: str) -> bool:
    return "userErrors" in document


async def test_the_examples_run_on_the_demo_data(settings: Settings, database: Database) -> None:
    # given: the demo, and a server that offers online payment
    demo_settings = settings.model_copy(
        update={"payment_online_limits": {"MXN": Decimal(500000), "ARS": Decimal(50000000)}}
    )
    await load_demo_data(database, demo_settings)
    await issue_demo_tokens(database)
    # Case numbers never go back: earlier tests may have used CS-000001 and on.
    async with database.session() as session:
        first_case = (await session.execute(select(func.min(col(Case.number))))).scalar_one()
    application = create_app(demo_settings, database)
    failures: list[str] = []
    try:
        async with http_client(application) as http:
            for example in EXAMPLES:
                if example.not_run is not None:
                    continue
                headers: dict[str, str] = {"Accept-Language": "en"}
                async with database.session() as session:
                    variables = await fill_references(
                        session, _renumber_cases(example.variables, first_case)
                    )
                    if example.account:
                        account = await reference_id(session, f"<ID of account {example.account}>")
                        assert account, example.account
                        headers["X-Account-Id"] = account
                    user = await user_by_email(session, example.viewer) if example.viewer else None
                token = (
                    await issue_token(database, user, second_factor=user.is_staff) if user else None
                )
                unresolved = re.findall(r"<ID of [^>]+>", json.dumps(variables))
                if unresolved:
                    failures.append(f"{example.where}: nothing is {unresolved}")
                    continue
                response = await GraphQLClient(http, token).post(
                    example.document, variables, headers
                )
                failure = _check(example, response.status_code, response.json())
                if failure:
                    failures.append(f"{example.where}: {failure}")
    finally:
        await application.state.close_clients()
    assert failures == [], "\n".join(failures)


def _renumber_cases(value: Any, first_case: int) -> Any:
    """The docs number the demo's cases as a fresh database does (CS-000001...)."""
    text = re.sub(
        r"CS-(\d{6})",
        lambda match: f"CS-{int(match.group(1)) - 1 + first_case:06d}",
        json.dumps(value),
    )
    return json.loads(text)


def _check(example: Example, status: int, body: dict[str, Any]) -> str | None:
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    if example.expect is not None:
        return None if example.expect in codes else f"expected {example.expect}, got {body}"
    if status != 200 or codes:
        return f"HTTP {status}: {json.dumps(body)[:400]}"
    operation = next(
        d for d in parse(example.document).definitions if isinstance(d, OperationDefinitionNode)
    )
    if operation.operation is OperationType.MUTATION and _has_user_errors(example.document):
        payload = next(iter(body["data"].values()))
        if payload.get("userErrors"):
            return f"userErrors: {payload['userErrors']}"
    return None
