"""No input of any shape produces INTERNAL or a 5xx.

For every query and mutation of the schema, Hypothesis generates arguments
from the argument types (with the values that broke things before: NUL bytes,
lone surrogates, huge and non-finite numbers, far dates, forged cursors and
IDs, wrong types, missing and unknown fields), mixing in real IDs of objects
that exist, and sends them as variables over HTTP as the account's owner and
as a stranger. The run is bounded here (GENERATED_EXAMPLES per operation,
default 6); `make fuzz` runs it longer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from datetime import date
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientzone.db import Database
from clientzone.schema import build_schema
from tests.conftest import Portal
from tests.helpers import gid, make_invoice

SCHEMA = build_schema()._schema
EXAMPLES = int(os.environ.get("GENERATED_EXAMPLES", "6"))

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "💥" * 300,
    "a" * 5000,
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "MX-1000",
    "ana@example.com",
    "9999-12-31",
    "NaN",
]
NASTY_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e26", "1e400", "-0", "0.0000001", 1e300, -1]


def _root(kind: str) -> GraphQLObjectType:
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root is not None
    return root


def _encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


# Cursors shaped like ours, with values of every JSON kind (and some that are not ours).
CURSORS = st.one_of(
    st.lists(
        st.one_of(
            st.integers(min_value=-(2**70), max_value=2**70),
            st.text(max_size=5),
            st.booleans(),
            st.none(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.dictionaries(st.sampled_from(["u", "t", "d", "x"]), st.integers() | st.text()),
        ),
        max_size=4,
    ).map(_encode),
    st.text(max_size=20),
)


# Pages: mostly one direction with a valid size, so that cursors get decoded.
_SIZES = st.one_of(st.none(), st.integers(min_value=0, max_value=100))
PAGES = st.one_of(
    st.fixed_dictionaries({"first": _SIZES, "after": CURSORS}),
    st.fixed_dictionaries({"last": _SIZES, "before": CURSORS}),
    st.fixed_dictionaries(
        {},
        optional={
            "first": st.integers(),
            "last": st.integers(),
            "after": CURSORS,
            "before": CURSORS,
        },
    ),
)


def _roots() -> list[tuple[str, str]]:
    found = []
    for kind in ("query", "mutation"):
        root = _root(kind)
        found += [(kind, name) for name in sorted(root.fields)]
    return found


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if isinstance(named, GraphQLInterfaceType):
        return "{ __typename }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    if "userErrors" in named.fields:
        return "{ __typename userErrors { field code message } }"
    return "{ __typename }"


def _nested() -> list[tuple[str, str]]:
    """Fields with arguments under `account` and `viewer` (filters, cursors)."""
    found = []
    for parent in ("Account", "Viewer"):
        type_ = SCHEMA.get_type(parent)
        assert isinstance(type_, GraphQLObjectType)
        found += [(parent, name) for name, field in sorted(type_.fields.items()) if field.args]
    return found


def _target(kind: str, name: str) -> tuple[GraphQLField, str]:
    """The field to generate arguments for, and the document around it."""
    if kind in ("query", "mutation"):
        field = _root(kind).fields[name]
        prefix, suffix, operation = "", "", kind
    else:
        parent = SCHEMA.get_type(kind)
        assert isinstance(parent, GraphQLObjectType)
        field = parent.fields[name]
        wrapper = "account(id: $accountId)" if kind == "Account" else "viewer"
        prefix, suffix, operation = f"{wrapper} {{ ", " }", "query"
    declared = [f"${arg}: {value.type}" for arg, value in field.args.items()]
    if kind == "Account":
        declared.append("$accountId: ID")
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    head = f"{operation} Generated({', '.join(declared)})" if declared else f"{operation} Generated"
    call = f"{name}({passed})" if passed else name
    return field, f"{head} {{ {prefix}{call} {_selection(field)}{suffix} }}"


def _value(type_: GraphQLInputType, ids: list[str], depth: int = 0) -> st.SearchStrategy[Any]:
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    strategy: st.SearchStrategy[Any]
    if isinstance(inner, GraphQLList):
        strategy = st.lists(_value(inner.of_type, ids, depth + 1), max_size=3)
    elif isinstance(inner, GraphQLEnumType):
        strategy = st.one_of(st.sampled_from(sorted(inner.values)), st.sampled_from(NASTY_TEXT))
    elif isinstance(inner, GraphQLInputObjectType):
        if depth > 3:
            return st.none()
        required = {
            n: _value(f.type, ids, depth + 1)
            for n, f in inner.fields.items()
            if isinstance(f.type, GraphQLNonNull)
        }
        optional = {
            n: _value(f.type, ids, depth + 1)
            for n, f in inner.fields.items()
            if not isinstance(f.type, GraphQLNonNull)
        }
        strategy = st.fixed_dictionaries(required, optional=optional)
        # Now and then a field too few or one the type does not have.
        broken = st.fixed_dictionaries({}, optional={**required, "unknownField": st.just(1)})
        strategy = _mostly(strategy, broken, 10)
    elif isinstance(inner, GraphQLScalarType):
        strategy = _scalar(inner.name, ids)
    else:
        strategy = st.none()
    wrong = st.one_of(st.integers(), st.text(max_size=5), st.just({}), st.just([]))
    rare = st.one_of(wrong, st.none()) if nullable else wrong
    return _mostly(strategy, rare, 20 if depth else 8)


def _mostly(
    usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int
) -> st.SearchStrategy[Any]:
    """`usual`, and once in `odds` draws `rare` (one_of would draw each alike)."""
    return st.integers(min_value=1, max_value=odds).flatmap(lambda n: rare if n == 1 else usual)


def _scalar(name: str, ids: list[str]) -> st.SearchStrategy[Any]:
    if name == "ID":
        return st.one_of(
            st.sampled_from(ids),
            st.sampled_from(NASTY_TEXT),
            st.binary(max_size=30).map(lambda b: b.hex()),
        )
    if name == "String":
        return st.one_of(st.text(max_size=40), st.sampled_from(NASTY_TEXT))
    if name == "Int":
        return st.one_of(
            st.integers(min_value=-(2**31), max_value=2**31 - 1),
            st.sampled_from([0, -1, 100, 101, 2**31, 2**63, -(2**63) - 1]),
        )
    if name == "Float":
        return st.floats(allow_nan=False, allow_infinity=False)
    if name == "Boolean":
        return st.booleans()
    if name == "Decimal":
        return st.one_of(
            st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
            st.sampled_from(NASTY_NUMBERS),
        )
    if name == "Date":
        return st.one_of(
            st.dates(min_value=date(1, 1, 1)).map(date.isoformat), st.sampled_from(NASTY_TEXT)
        )
    if name == "DateTime":
        return st.one_of(
            st.datetimes().map(lambda d: d.isoformat() + "-14:00"),
            st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "x"]),
        )
    return st.none()  # Upload: files come by multipart, never in JSON


@pytest.fixture
async def ids(portal: Portal, database: Database) -> list[str]:
    """Real IDs of objects that exist, for the generator to pick from."""
    invoice = await make_invoice(database, portal.parent, "F-0001", issued_on=date(2026, 1, 5))
    contact = await portal.owner.data(
        "mutation C($input: CreateContactInput!) { createContact(input: $input) "
        "{ contact { id } } }",
        {"input": {"firstName": "Rosa", "lastName": "Díaz", "email": "rosa@example.com"}},
    )
    invitation = await portal.owner.data(
        "mutation I($input: InviteUserInput!) { inviteUser(input: $input) { invitation { id } } }",
        {"input": {"email": "nuevo@example.com", "permissions": ["INVOICES_VIEW"]}},
    )
    sessions = await portal.owner.data("query S { viewer { sessions { nodes { id } } } }")
    found = [
        gid("Account", portal.parent.id),
        gid("Account", portal.linked[0].id),
        gid("Account", portal.foreign.id),
        gid("Invoice", invoice.id),
        gid("User", portal.member_user.id),
        contact["createContact"]["contact"]["id"],
        invitation["inviteUser"]["invitation"]["id"],
        *(node["id"] for node in sessions["viewer"]["sessions"]["nodes"]),
    ]
    return [i for i in found if i]


@pytest.mark.parametrize(("kind", "name"), [*_roots(), *_nested()])
async def test_no_generated_input_is_internal(
    portal: Portal, ids: list[str], kind: str, name: str
) -> None:
    field, document = _target(kind, name)
    paged = all(arg in field.args for arg in ("first", "after", "last", "before"))
    fields = {
        arg: _value(a.type, ids)
        for arg, a in field.args.items()
        if not (paged and arg in ("first", "after", "last", "before"))
    }
    if kind == "Account":
        fields["accountId"] = st.one_of(st.none(), st.sampled_from(ids))
    arguments = st.fixed_dictionaries(fields)
    if paged:
        arguments = st.tuples(arguments, PAGES).map(lambda pair: {**pair[0], **pair[1]})

    loop = asyncio.get_running_loop()

    async def send(variables: dict[str, Any], who: str) -> None:
        client = {"owner": portal.owner, "stranger": portal.stranger}.get(who, portal.anonymous)
        body = json.dumps({"query": document, "variables": variables}).encode()
        response = await client.http.post(
            "/graphql",
            content=body,
            headers={**client.headers(), "Content-Type": "application/json"},
        )
        assert response.status_code < 500, (document, variables, response.text)
        codes = [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]
        assert "INTERNAL" not in codes, (document, variables, response.text)
        if os.environ.get("GENERATED_STATS"):
            print(
                "STAT",
                name,
                "data" in response.json(),
                sorted(set(codes)),
                response.json().get("errors", [{}])[0].get("message", "")[:150].replace(" ", "_"),
            )

    # Hypothesis drives from a thread; each example runs on the test's event loop.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=os.environ.get("GENERATED_RANDOM") is None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(variables=arguments, who=st.sampled_from(["owner", "stranger", "anonymous"]))
    def check(variables: dict[str, Any], who: str) -> None:
        asyncio.run_coroutine_threadsafe(send(variables, who), loop).result(timeout=120)

    await asyncio.to_thread(check)
