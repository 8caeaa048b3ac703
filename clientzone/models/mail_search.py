"""Words of an email's text, searched the way each database can.

PostgreSQL: full-text search over the plain-text body in Spanish and in
English at once (each language's stemming: "facturas" finds "factura"),
answered by the GIN index ix_email_messages_body_search. SQLite: the words
as a case-insensitive substring of the body (within one account's mail, a
short read).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, bindparam, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

LANGUAGES = ("spanish", "english")


def body_document(column: Any) -> Any:
    """The indexed tsvector of a body (the index and the query must match)."""
    vectors = [
        func.to_tsvector(literal_column(f"'{language}'"), func.coalesce(column, ""))
        for language in LANGUAGES
    ]
    return vectors[0].op("||")(vectors[1])


class BodyMatches(ColumnElement[bool]):
    inherit_cache = True

    def __init__(self, column: Any, words: str) -> None:
        self.column = column
        self.raw = words.lower()
        self.words = bindparam("body_words", words, type_=Text, unique=True)


@compiles(BodyMatches, "postgresql")
def _postgresql(element: BodyMatches, compiler: Any, **kw: Any) -> str:
    queries = [
        func.plainto_tsquery(literal_column(f"'{language}'"), element.words)
        for language in LANGUAGES
    ]
    match = body_document(element.column).op("@@")(queries[0].op("||")(queries[1]))
    return str(compiler.process(match, **kw))


@compiles(BodyMatches)
def _other(element: BodyMatches, compiler: Any, **kw: Any) -> str:
    like = func.lower(element.column).contains(element.raw, autoescape=True)
    return str(compiler.process(like, **kw))
