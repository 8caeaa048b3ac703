"""Field execution without per-field ceremony, for the fields that need none.

For every field graphql-core builds a response path and a resolve-info object,
and Strawberry wraps every field that has a resolver in argument conversion and
a chain of field extensions. Most of a portal screen's fields need none of it:

* a leaf read straight off its object (`number`, `status`, `amount`) is read and
  serialized in place. Anything unusual (null in a non-null field, a value the
  scalar refuses, an exception) goes the general way, which reports it exactly
  as before;
* a resolver without arguments and without field extensions (`Invoice.total`)
  is called directly, with Strawberry's Info only when it asks for one.

Everything else (arguments, permission extensions, objects, lists, errors) runs
the general way, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class LeafRead(NamedTuple):
    """How to answer one leaf field: the attribute to read and its scalar."""

    attribute: str
    serialize: Callable[[Any], Any]
    non_null: bool


def leaf_reads(schema: GraphQLSchema) -> dict[str, dict[str, LeafRead]]:
    """For each object type, its fields that are a plain attribute of a leaf type."""
    reads: dict[str, dict[str, LeafRead]] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        fields = {}
        for name, field in type_.fields.items():
            read = _leaf_read(field)
            if read is not None:
                fields[name] = read
        if fields:
            reads[type_.name] = fields
    return reads


def _leaf_read(field: GraphQLField) -> LeafRead | None:
    definition = (field.extensions or {}).get(_DEFINITION)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if not getattr(field.resolve, "_is_default", False):
        return None
    if type(definition).get_result is not StrawberryField.get_result:
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if not isinstance(named, GraphQLLeafType):
        return None
    return LeafRead(definition.python_name, named.coerce_output_value, non_null)


def shorten_resolvers(schema: GraphQLSchema) -> int:
    """Call argument-free, extension-free resolvers directly; returns how many."""
    shortened = 0
    for type_ in schema.type_map.values():
        # A subscription's root fields are its event sources: left as they are.
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        if type_ is schema.subscription_type:
            continue
        for field in type_.fields.values():
            direct = _direct_resolver(field)
            if direct is not None:
                field.resolve = direct
                shortened += 1
    return shortened


def _direct_resolver(field: GraphQLField) -> Callable[..., Any] | None:
    definition = (field.extensions or {}).get(_DEFINITION)
    if not isinstance(definition, StrawberryField) or type(definition) is not StrawberryField:
        return None
    resolver = definition.base_resolver
    if resolver is None or definition.extensions or definition.arguments or field.args:
        return None
    if resolver.parent_parameter is not None:
        return None
    wants_self = resolver.self_parameter is not None
    root = resolver.root_parameter.name if resolver.root_parameter else None
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def direct(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        keywords: dict[str, Any] = {}
        if root is not None:
            keywords[root] = source
        if info_name is not None:
            keywords[info_name] = Info(_raw_info=info, _field=definition)
        if wants_self:
            return resolver(source, **keywords)
        return resolver(**keywords)

    return direct


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, answering plain leaf fields in place."""

    leaves: Mapping[str, Mapping[str, LeafRead]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        leaves = self.leaves.get(parent_type.name)
        if not leaves:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                read = leaves.get(field_details_list[0].node.name.value)
                if read is not None:
                    answer = _read_leaf(read, source_value, is_awaitable)
                    if answer is not Undefined:
                        results[response_name] = answer
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather(results, awaitable_fields)

    async def _gather(self, results: dict[str, Any], names: list[str]) -> dict[str, Any]:
        if len(names) == 1:
            results[names[0]] = await results[names[0]]
        else:
            values = await gather_with_cancel(*(results[name] for name in names))
            results.update(zip(names, values, strict=True))
        return results


def _read_leaf(read: LeafRead, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The serialized value, or Undefined when the general path must answer."""
    try:
        value = getattr(source, read.attribute)
    except Exception:
        return Undefined
    if value is None:
        return Undefined if read.non_null else None
    if is_awaitable(value):
        return Undefined
    try:
        serialized = read.serialize(value)
    except Exception:
        return Undefined
    return Undefined if serialized is None else serialized


def lean_context_class(schema: GraphQLSchema) -> type[LeanExecutionContext]:
    """An execution context class that knows this schema's plain leaf fields."""
    return type(
        "SchemaLeanExecutionContext", (LeanExecutionContext,), {"leaves": leaf_reads(schema)}
    )
