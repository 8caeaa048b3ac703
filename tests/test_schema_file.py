"""schema.graphql is the exported SDL of the code; a change to one needs the other."""

from __future__ import annotations

from pathlib import Path

from clientzone.schema import build_schema

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_schema_graphql_matches_the_code() -> None:
    exported = build_schema().as_str() + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == exported, (
        "schema.graphql is out of date: run `clientzone export-schema -o schema.graphql`"
    )
