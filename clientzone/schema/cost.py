"""What an operation costs, known before it runs.

The price of a selection is the number of objects it may return, counted the
way the large public GraphQL APIs count it:

- a scalar or enum field costs nothing;
- an object field costs 1 plus its selection;
- a list of objects costs, per item, 1 plus the item's selection, times the
  number of items: in a connection (a field taking `first`/`last`), the
  `nodes` and `edges` lists count the page size asked for (`first` or `last`,
  else the default page of 20); any other list counts its `@listSize` (10
  unless the field declares its own). The connection itself costs 1, and
  `pageInfo` 1;
- a field marked `@cost(weight: N)` costs N instead of 1 (an extra query, a
  signed link, a rendered document), per item in a list.

Fragments are priced where they are spread, and every inline fragment of an
abstract type counts (the dearer reading). The result is an upper bound: what
a request is refused on (MAX_QUERY_COST) and charged to its client's budget
(COST_BUDGET_PER_MINUTE), both reported in `extensions.cost`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from strawberry.schema_directive import Location

DEFAULT_PAGE = 20
MAX_PAGE = 100
ASSUMED_LIST_SIZE = 10
PAGE_ARGUMENTS = ("first", "last")
PAGED_FIELDS = frozenset({"nodes", "edges"})


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="What this field costs in the query cost analysis, instead of 1.",
)
class Cost:
    weight: int


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="How many items this list is priced at (it returns about that many).",
)
class ListSize:
    assumed_size: int


@dataclass(frozen=True, slots=True)
class _FieldPrice:
    weight: int
    list_size: int | None  # None: not a list of objects
    paged: bool  # a connection (takes first/last)
    leaf: bool


class CostModel:
    """Prices operations against one schema; field prices are read once."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._prices: dict[tuple[str, str], _FieldPrice] = {}

    def price(
        self,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        walk = _Walk(self, fragments, variables)
        return walk.selection(root.name, operation.selection_set, parent_paged=0)

    def field_price(self, type_name: str, field_name: str) -> _FieldPrice | None:
        key = (type_name, field_name)
        found = self._prices.get(key)
        if found is None:
            parent = self.schema.get_type(type_name)
            fields = getattr(parent, "fields", None)
            if not fields or field_name not in fields:
                return None  # __typename and introspection
            found = self._prices[key] = _read_price(fields[field_name])
        return found


def _read_price(field: GraphQLField) -> _FieldPrice:
    weight, list_size = 1, None
    definition = (field.extensions or {}).get("strawberry-definition")
    for directive in getattr(definition, "directives", None) or ():
        if isinstance(directive, Cost):
            weight = directive.weight
        elif isinstance(directive, ListSize):
            list_size = directive.assumed_size
    leaf = is_leaf_type(get_named_type(field.type))
    paged = all(name in field.args for name in PAGE_ARGUMENTS)
    of_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if isinstance(of_type, GraphQLList) and not leaf and list_size is None:
        list_size = ASSUMED_LIST_SIZE
    if leaf and weight == 1:
        weight = 0
    return _FieldPrice(weight=weight, list_size=list_size, paged=paged, leaf=leaf)


class _Walk:
    def __init__(
        self,
        model: CostModel,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.model = model
        self.fragments = fragments
        self.variables = variables

    def selection(self, type_name: str, selection_set: SelectionSetNode, parent_paged: int) -> int:
        """`parent_paged`: the page size when this is a connection's selection."""
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(type_name, node, parent_paged)
            elif isinstance(node, InlineFragmentNode):
                inner = node.type_condition.name.value if node.type_condition else type_name
                total += self.selection(inner, node.selection_set, parent_paged)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    inner = fragment.type_condition.name.value
                    total += self.selection(inner, fragment.selection_set, parent_paged)
        return total

    def field(self, type_name: str, node: FieldNode, parent_paged: int) -> int:
        price = self.model.field_price(type_name, node.name.value)
        if price is None or price.leaf or node.selection_set is None:
            return price.weight if price is not None else 0
        parent = self.model.schema.get_type(type_name)
        field = parent.fields[node.name.value]  # type: ignore[union-attr]
        child_type = get_named_type(field.type).name
        page = self.page_size(node) if price.paged else 0
        inner = self.selection(child_type, node.selection_set, page)
        if price.list_size is None:
            return price.weight + inner
        # A list: every item is an object of its own.
        paged = parent_paged and node.name.value in PAGED_FIELDS
        size = parent_paged if paged else price.list_size
        return size * (price.weight + inner)

    def page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value: Any = None
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, MAX_PAGE))
        return DEFAULT_PAGE
