"""Persisted queries: a document sent by its SHA-256 instead of its text.

The request's `extensions.persistedQuery` is Apollo's automatic persisted
queries (APQ) format, `{"version": 1, "sha256Hash": "<hex>"}`:

- hash alone, known: the stored document runs (by POST, or by GET with
  `?extensions=...&variables=...`, so a front end gets short, cacheable URLs);
- hash alone, unknown: `PERSISTED_QUERY_NOT_FOUND` (message
  `PersistedQueryNotFound`), which Apollo's clients answer by sending the hash
  with the text, which is then kept for every server process (the
  `persisted_documents` table) once it has run without a request error.

With TRUSTED_DOCUMENTS on, only documents registered at build time
(`clientzone documents register`) run, sent by hash or as text; anything else
is `FORBIDDEN` with `reason: DOCUMENT_NOT_REGISTERED`, and nothing is learnt
from clients. Both transports (HTTP and WebSocket) resolve the document here
before it is parsed.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode

from clientzone.core.errors import ErrorCode
from clientzone.models.documents import document_by_hash, document_hash, save_document
from clientzone.models.users import Locale

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
_HASH = re.compile(r"^[0-9a-f]{64}$")

MESSAGES: dict[str, dict[Locale, str]] = {
    "not_registered": {
        Locale.ES: "Este servidor solo ejecuta documentos registrados; este no lo está.",
        Locale.EN: "This server runs registered documents only; this one is not registered.",
    },
    "mismatch": {
        Locale.ES: "El sha256Hash de persistedQuery no corresponde al texto de la consulta.",
        Locale.EN: "The persistedQuery sha256Hash does not match the query text.",
    },
    "invalid": {
        Locale.ES: 'persistedQuery debe ser {"version": 1, "sha256Hash": "<64 hex>"}.',
        Locale.EN: 'persistedQuery must be {"version": 1, "sha256Hash": "<64 hex>"}.',
    },
}


class DocumentCache:
    """Documents by hash, in this process (a hash names one text forever)."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = maxsize
        self._documents: OrderedDict[str, str] = OrderedDict()

    def get(self, sha256: str) -> str | None:
        document = self._documents.get(sha256)
        if document is not None:
            self._documents.move_to_end(sha256)
        return document

    def put(self, sha256: str, document: str) -> None:
        self._documents[sha256] = document
        self._documents.move_to_end(sha256)
        while len(self._documents) > self.maxsize:
            self._documents.popitem(last=False)


def _error(key: str, locale: Locale, code: ErrorCode, reason: str) -> GraphQLError:
    text = MESSAGES[key].get(locale) or MESSAGES[key][Locale.ES]
    return GraphQLError(text, extensions={"code": code.value, "reason": reason})


def not_found_error() -> GraphQLError:
    # The message and code Apollo's clients look for before they retry with the text.
    return GraphQLError("PersistedQueryNotFound", extensions={"code": NOT_FOUND})


def requested_hash(operation_extensions: dict[str, Any] | None, locale: Locale) -> str | None:
    """The sha256Hash of `extensions.persistedQuery`, when there is one."""
    persisted = (operation_extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    sha256 = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    version = persisted.get("version") if isinstance(persisted, dict) else None
    # GraphQL Code Generator's client preset writes "sha256:<hex>".
    if isinstance(sha256, str):
        sha256 = sha256.lower().removeprefix("sha256:")
    if version != 1 or not isinstance(sha256, str) or not _HASH.match(sha256):
        raise _error("invalid", locale, ErrorCode.BAD_USER_INPUT, "PERSISTED_QUERY_INVALID")
    return sha256


def operation_names(document_node: Any) -> str | None:
    names = [
        definition.name.value
        for definition in getattr(document_node, "definitions", [])
        if isinstance(definition, OperationDefinitionNode) and definition.name
    ]
    return ",".join(names)[:500] or None


@dataclass(frozen=True)
class Resolved:
    """The document to run, and whether to keep it once it has run."""

    query: str | None
    learn: bool


class PersistedDocuments:
    """Resolves `extensions.persistedQuery`, and keeps to the allow-list when
    `trusted_only`. One per process (its cache is the process's)."""

    def __init__(self, *, trusted_only: bool, cache: DocumentCache | None = None) -> None:
        self.trusted_only = trusted_only
        self.cache = cache or DocumentCache()

    async def _lookup(self, context: Any, sha256: str) -> str | None:
        """The text under `sha256` that may run here (trusted only, when so set)."""
        document = self.cache.get(sha256)
        if document is not None:
            return document
        async with context.db.read() as session:
            found = await document_by_hash(session, sha256)
        if found is None or (self.trusted_only and not found[1]):
            return None
        self.cache.put(sha256, found[0])
        return found[0]

    async def resolve(
        self, context: Any, query: str | None, extensions: dict[str, Any] | None
    ) -> Resolved:
        """The document a request runs; a GraphQLError (to send back, nothing
        run) for an unknown hash, a mismatch or, trusted only, anything unregistered."""
        locale: Locale = getattr(context, "locale", Locale.ES)
        sha256 = requested_hash(extensions, locale)
        if sha256 is not None and not query:
            document = await self._lookup(context, sha256)
            if document is None:
                raise not_found_error()
            return Resolved(document, learn=False)
        if sha256 is not None and query:
            if document_hash(query) != sha256:
                raise _error(
                    "mismatch", locale, ErrorCode.BAD_USER_INPUT, "PERSISTED_QUERY_HASH_MISMATCH"
                )
            known = await self._lookup(context, sha256)
            if known is None and self.trusted_only:
                raise _not_registered(locale)
            return Resolved(query, learn=known is None)
        if (
            self.trusted_only
            and query
            and await self._lookup(context, document_hash(query)) is None
        ):
            raise _not_registered(locale)
        return Resolved(query, learn=False)

    async def learn(self, context: Any, query: str, document: Any) -> None:
        """Keep a document sent with its hash once it has run (every process
        then knows it by hash)."""
        names = operation_names(document)
        async with context.db.side_transaction() as session:
            await save_document(session, document=query, trusted=False, operation_names=names)
        self.cache.put(document_hash(query), query)


def _not_registered(locale: Locale) -> GraphQLError:
    return _error("not_registered", locale, ErrorCode.FORBIDDEN, "DOCUMENT_NOT_REGISTERED")
