"""The lean executor answers exactly what Strawberry's own executor answers.

Plain leaf fields are read in place and argument-free resolvers are called
directly (schema/lean_execution.py). These tests run the same operation through
both executors over objects whose attributes hold anything (good values, null
in non-null fields, values a scalar refuses, attributes that raise) and compare
data and errors; and they check on the real schema that no field with a field
extension (the permission checks) or with arguments takes a shortcut.
"""

from __future__ import annotations

import asyncio
import enum
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, execute, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from clientzone.schema import build_schema
from clientzone.schema.lean_execution import (
    leaf_reads,
    lean_context_class,
    shorten_resolvers,
)


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Raises:
    """An attribute whose reading fails."""

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        raise RuntimeError("cannot read")


@strawberry.type
class Thing:
    name: str
    note: str | None
    size: int
    colour: Colour
    ratio: float | None
    private: strawberry.Private[Any] = None

    @strawberry.field
    def doubled(self) -> int:
        return self.size * 2

    @strawberry.field
    def described(self, info: strawberry.Info) -> str:
        return f"{info.field_name}:{self.name}"

    @strawberry.field
    def explicit(root: Thing) -> str:  # noqa: N805 - Strawberry's `root` parameter
        return f"root:{root.name}"

    @strawberry.field
    async def later(self) -> str:
        return f"later:{self.name}"

    @strawberry.field
    def echoed(self, word: str) -> str:
        return word


class Broken:
    """A source whose `name` cannot be read at all."""

    name = Raises()
    note = None
    size = 1
    colour = Colour.RED
    ratio = None
    private = None


SOURCES: list[Any] = []


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return list(SOURCES)


QUERY = """
{ things { name note size colour ratio doubled described explicit later
           echoed(word: "hi") alias: size __typename } }
"""


def run(schema: strawberry.Schema, context_class: Any) -> tuple[Any, list[Any]]:
    async def go() -> Any:
        result = execute(schema._schema, parse(QUERY), executor_class=context_class)
        return await result if isawaitable(result) else result

    result = asyncio.run(go())
    errors = sorted(
        (error.formatted for error in result.errors or ()), key=lambda e: str(e.get("path"))
    )
    return result.data, errors


GENERAL = strawberry.Schema(query=Query)
LEAN = strawberry.Schema(query=Query)
shorten_resolvers(LEAN._schema)
LEAN_CONTEXT = lean_context_class(LEAN._schema)


def same_answers() -> None:
    assert run(LEAN, LEAN_CONTEXT) == run(GENERAL, GENERAL.execution_context_class)


ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.sampled_from([Colour.RED, Colour.BLUE, "red", "RED", object()]),
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value the field accepts (so whole rows come back), sometimes anything."""
    return st.one_of(valid, valid, valid, ANYTHING)


ROWS = st.lists(
    st.tuples(
        mostly(st.text(max_size=5)),
        mostly(st.none() | st.text(max_size=5)),
        mostly(st.integers(min_value=-(2**31), max_value=2**31 - 1)),
        mostly(st.sampled_from(Colour)),
        mostly(st.none() | st.floats(allow_nan=False, allow_infinity=False)),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(ROWS)
def test_any_attribute_values_give_the_same_data_and_errors(rows: list[tuple[Any, ...]]) -> None:
    SOURCES[:] = [
        Thing(name=name, note=note, size=size, colour=colour, ratio=ratio)
        for name, note, size, colour, ratio in rows
    ]
    same_answers()


def test_unreadable_attributes_and_foreign_sources_give_the_same_errors() -> None:
    SOURCES[:] = [
        Thing(name="a", note=None, size=3, colour=Colour.BLUE, ratio=0.5),
        Broken(),
        None,
        Thing(name=None, note="n", size="x", colour="green", ratio="y"),  # type: ignore[arg-type]
    ]
    same_answers()
    data, errors = run(LEAN, LEAN_CONTEXT)
    assert data["things"][0]["doubled"] == 6
    assert data["things"][0]["described"] == "described:a"
    assert data["things"][0]["explicit"] == "root:a"
    assert data["things"][0]["later"] == "later:a"
    assert data["things"][1] is None  # its non-null name could not be read
    assert any("cannot read" in error["message"] for error in errors)


def test_the_real_schema_takes_no_shortcut_past_extensions_or_arguments() -> None:
    schema = build_schema()._schema
    objects = {
        name: type_
        for name, type_ in schema.type_map.items()
        if isinstance(type_, GraphQLObjectType)
    }
    untouched = {
        (type_name, name): field.resolve
        for type_name, type_ in objects.items()
        for name, field in type_.fields.items()
    }
    shortened = shorten_resolvers(schema)
    reads = leaf_reads(schema)
    assert shortened > 50  # Invoice.total and its kind
    assert "total" not in reads["Invoice"]
    assert "number" in reads["Invoice"]
    guarded = 0
    for type_name, type_ in objects.items():
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if definition is None:
                continue
            if definition.extensions or field.args:
                guarded += bool(definition.extensions)
                assert field.resolve is untouched[(type_name, name)], (type_name, name)
                assert name not in reads.get(type_name, {}), (type_name, name)
    assert guarded > 30  # the permission-checked fields are among them
