"""`clientzone documents register|list`: the trusted documents (allow-list).

A front end's build ships the operations it will send; registering them lets a
server with TRUSTED_DOCUMENTS=true run those and nothing else. Accepted files:

- a `.graphql` / `.gql` file: its whole text is one document (clients must
  send exactly this text, or its SHA-256 as `extensions.persistedQuery`);
- a `.json` manifest: GraphQL Code Generator's `persisted-documents.json`
  (`{"<sha256>": "<document>", ...}`) or Apollo's persisted query manifest
  (`{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}`).

Every document is parsed and validated against the schema first; one bad
document registers nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLError, parse, validate

from clientzone.db import Database
from clientzone.models.documents import document_hash, save_document, trusted_documents
from clientzone.schema import build_schema
from clientzone.schema.persisted_queries import operation_names


class DocumentError(Exception):
    """A file or document that cannot be registered; the message says which."""


@dataclass(frozen=True)
class Document:
    text: str
    names: str | None
    source: str


def _from_manifest(path: Path, data: object) -> list[tuple[str | None, str]]:
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        entries = [
            (op.get("id"), op.get("body")) for op in data["operations"] if isinstance(op, dict)
        ]
    elif isinstance(data, dict):
        entries = list(data.items())
    else:
        raise DocumentError(f"{path}: not a persisted documents manifest")
    pairs: list[tuple[str | None, str]] = []
    for sha256, body in entries:
        if not isinstance(body, str) or not isinstance(sha256, str | None):
            raise DocumentError(f"{path}: every entry needs an id and a document text")
        pairs.append((sha256, body))
    return pairs


def read_documents(paths: list[Path]) -> list[Document]:
    """Every document in `paths`, parsed and validated against the schema."""
    schema = build_schema()._schema
    documents: list[Document] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DocumentError(f"{path}: cannot read ({exc})") from None
        if path.suffix.lower() == ".json":
            try:
                pairs = _from_manifest(path, json.loads(text))
            except json.JSONDecodeError as exc:
                raise DocumentError(f"{path}: not JSON ({exc})") from None
        else:
            pairs = [(None, text)]
        for sha256, body in pairs:
            where = f"{path} ({sha256})" if sha256 else str(path)
            if sha256 is not None and sha256.removeprefix("sha256:") != document_hash(body):
                raise DocumentError(f"{where}: the id is not the SHA-256 of the document")
            try:
                node = parse(body)
            except GraphQLError as exc:
                raise DocumentError(f"{where}: {exc.message}") from None
            errors = validate(schema, node)
            if errors:
                raise DocumentError(f"{where}: {errors[0].message}")
            documents.append(Document(body, operation_names(node), where))
    return documents


async def register(database: Database, documents: list[Document]) -> int:
    """Store the documents as trusted, in one transaction; returns how many were new."""
    async with database.transaction() as session:
        added = 0
        for document in documents:
            added += await save_document(
                session, document=document.text, trusted=True, operation_names=document.names
            )
    return added


async def registered(database: Database) -> list[tuple[str, str | None]]:
    async with database.session() as session:
        return await trusted_documents(session)
