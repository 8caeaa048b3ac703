"""How one GraphQL operation runs, for HTTP and WebSocket alike.

    source ──parse (cached)──► document ──validate (cached)──► pick the operation
      ──check the variables' text──► price it (cost.py) ──► execute or subscribe

Everything before execution either succeeds or raises `RequestError`, whose
errors go back with nothing executed: a syntax or validation error, several
operations and no `operationName`, a subscription over plain HTTP, text that no
database can store (NUL, unpaired surrogates), an operation over the cost
limit. Variable coercion errors come back from graphql-core the same way (no
`data`), and `request_errors` tells them from field errors.

Parsing and validation are cached by the document's text, so a front end's
fixed set of operations is parsed and validated once per process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, Generic, TypeVar

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    ValidationRule,
    execute,
    get_named_type,
    parse,
    specified_rules,
    subscribe,
    type_from_ast,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from clientzone.config import Settings
from clientzone.core.errors import BadRequest, ClientzoneError
from clientzone.schema.cost import CostModel
from clientzone.schema.lean_execution import lean_context_class, shorten_resolvers

K = TypeVar("K")
V = TypeVar("V")

MAX_VALIDATION_ERRORS = 20


class RequestError(Exception):
    """The request cannot run as sent; nothing was executed.

    `status` is the HTTP status of the answer. A GraphQL request that is well
    formed but fails validation (`well_formed`) is answered 200 to clients that
    only accept application/json, as GraphQL over HTTP asks; everything else
    (an unreadable body, a wrong method, overload) always gets its status.
    """

    def __init__(
        self,
        errors: list[GraphQLError],
        status: int = 400,
        *,
        well_formed: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(errors[0].message if errors else "request error")
        self.errors = errors
        self.status = status
        self.well_formed = well_formed
        self.headers = dict(headers or {})


def refuse(
    error: ClientzoneError,
    status: int = 400,
    *,
    well_formed: bool = True,
    headers: Mapping[str, str] | None = None,
) -> RequestError:
    """A RequestError for one of our own errors (localized when it is shaped)."""
    return RequestError(
        [GraphQLError(error.message_key, original_error=error)],
        status,
        well_formed=well_formed,
        headers=headers,
    )


@dataclass(frozen=True, slots=True)
class Operation:
    document: DocumentNode
    definition: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]

    @property
    def kind(self) -> OperationType:
        return self.definition.operation

    @property
    def name(self) -> str | None:
        return self.definition.name.value if self.definition.name else None

    @property
    def root_field(self) -> str:
        """The response name of the first root field (a subscription has one)."""
        for selection in self.definition.selection_set.selections:
            if isinstance(selection, FieldNode):
                return (selection.alias or selection.name).value
        return ""


class _Lru(Generic[K, V]):
    """A small least-recently-used cache (one per process, shared by requests)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> V:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


class SafeText(ValidationRule):
    """String literals must be text every database stores: no NUL, no unpaired
    surrogates (PostgreSQL refuses the first, both drivers the second)."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if not storable(node.value):
            self.report_error(
                GraphQLError("Text may not contain NUL characters or unpaired surrogates.", node)
            )


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def first_unstorable(value: Any, path: str) -> str | None:
    """The path of the first string in a variable's value that no database stores."""
    if isinstance(value, str):
        return None if storable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            found = first_unstorable(key, path) or first_unstorable(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = first_unstorable(item, f"{path}.{index}")
            if found:
                return found
    return None


@dataclass(frozen=True, slots=True)
class Pricing:
    requested: int
    limit: int

    def as_extension(self) -> dict[str, Any]:
        return {"requestedQueryCost": self.requested, "maximumQueryCost": self.limit}


class Engine:
    """Parses, validates, prices and runs operations against one schema."""

    def __init__(self, schema: strawberry.Schema, settings: Settings) -> None:
        self.strawberry_schema = schema
        self.schema: GraphQLSchema = schema._schema
        # Strawberry's executor (it hands resolvers the Info they expect), with
        # plain fields answered without per-field ceremony.
        shorten_resolvers(self.schema)
        self.executor_class = lean_context_class(self.schema)
        self.settings = settings
        self.cost_model = CostModel(self.schema)
        limits = [
            *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
            SafeText,
        ]
        self._rules = [*specified_rules, *limits]
        self._restricted_rules = [*self._rules, NoSchemaIntrospectionCustomRule]
        self._documents: _Lru[str, DocumentNode] = _Lru(512)
        self._validated: _Lru[tuple[str, bool], list[GraphQLError]] = _Lru(1024)

    def document(self, source: str) -> DocumentNode:
        found = self._documents.get(source)
        if found is not None:
            return found
        try:
            document = parse(source, max_tokens=self.settings.max_tokens)
        except GraphQLError as error:
            raise RequestError([error]) from None
        except RecursionError:
            raise refuse(BadRequest("request.too_nested")) from None
        return self._documents.put(source, document)

    def operation(
        self, source: str | None, operation_name: str | None, *, restricted: bool
    ) -> Operation:
        """The operation to run; `restricted` callers (anonymous, in production)
        cannot introspect and get no "did you mean" suggestions."""
        if not isinstance(source, str) or not source.strip():
            raise refuse(BadRequest("request.missing_query"), well_formed=False)
        if operation_name is not None and not isinstance(operation_name, str):
            raise refuse(
                BadRequest("request.parameter_type", parameter="operationName"), well_formed=False
            )
        document = self.document(source)
        errors = self._validated.get((source, restricted))
        if errors is None:
            errors = validate(
                self.schema,
                document,
                self._restricted_rules if restricted else self._rules,
                max_errors=MAX_VALIDATION_ERRORS,
                hide_suggestions=restricted,
            )
            self._validated.put((source, restricted), errors)
        if errors:
            raise RequestError(errors)
        definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        if operation_name is None:
            if len(definitions) != 1:
                raise refuse(BadRequest("request.several_operations"))
            return Operation(document, definitions[0], fragments)
        for definition in definitions:
            if definition.name and definition.name.value == operation_name:
                return Operation(document, definition, fragments)
        raise refuse(BadRequest("request.unknown_operation", name=operation_name))

    def takes_uploads(self, operation: Operation) -> bool:
        """Whether a variable of the operation has a file (Upload) somewhere in it."""
        return any(
            self._has_upload(type_from_ast(self.schema, definition.type))
            for definition in operation.definition.variable_definitions or ()
        )

    def _has_upload(self, type_: Any, seen: frozenset[str] = frozenset()) -> bool:
        named = get_named_type(type_)
        if named is None or named.name in seen:
            return False
        if named.name == "Upload":
            return True
        if isinstance(named, GraphQLInputObjectType):
            return any(
                self._has_upload(field.type, seen | {named.name}) for field in named.fields.values()
            )
        return False

    def check_variables(self, variables: Any) -> dict[str, Any]:
        if variables is None:
            return {}
        if not isinstance(variables, dict):
            raise refuse(BadRequest("request.parameter_type", parameter="variables"))
        bad = first_unstorable(variables, "variables")
        if bad:
            raise refuse(BadRequest("request.unstorable_text", {"path": bad}, path=bad))
        return variables

    def price(self, operation: Operation, variables: Mapping[str, Any]) -> Pricing:
        requested = self.cost_model.price(operation.definition, operation.fragments, variables)
        limit = self.settings.max_query_cost
        if requested > limit:
            details = {"cost": Pricing(requested, limit).as_extension()}
            raise refuse(BadRequest("request.cost", details, requested=requested, limit=limit))
        return Pricing(requested, limit)

    async def execute(
        self,
        operation: Operation,
        context: Any,
        variables: dict[str, Any],
        *,
        restricted: bool,
    ) -> ExecutionResult:
        result = execute(
            self.schema,
            operation.document,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
            **self._arguments(operation, context, variables, restricted),
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return result

    def _arguments(
        self, operation: Operation, context: Any, variables: dict[str, Any], restricted: bool
    ) -> dict[str, Any]:
        return {
            "context_value": context,
            "variable_values": variables,
            "operation_name": operation.name,
            "hide_suggestions": restricted,
            # Strawberry's executor hands resolvers the Info they expect.
            "executor_class": self.executor_class,
            "operation_extensions": None,
        }

    async def subscribe(
        self,
        operation: Operation,
        context: Any,
        variables: dict[str, Any],
        *,
        restricted: bool,
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        result = subscribe(
            self.schema,
            operation.document,
            **self._arguments(operation, context, variables, restricted),
        )
        if isawaitable(result):
            result = await result
        return result


def request_errors(result: ExecutionResult) -> bool:
    """Errors raised before any field ran (variable coercion): a request error."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )
