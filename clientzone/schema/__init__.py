"""Strawberry types, inputs, enums and the Schema. Describes; resolvers/ decides."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from clientzone.config import Settings
from clientzone.schema.errors import ErrorShaping, log_unexpected
from clientzone.schema.query import Mutation, Query, Subscription


class ClientzoneSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors only; expected ones are part of the API."""
        log_unexpected(errors, execution_context)


def build_schema(settings: Settings | None = None) -> ClientzoneSchema:
    """The schema; with settings, also the request limits and parse/validation caches."""
    extensions: list[type[SchemaExtension] | Any] = [ErrorShaping]
    if settings is not None:
        # The limiters' validation rules are built once: ValidationCache keys on
        # the rule classes, and a limiter built per request makes new ones.
        rules = [
            *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        ]
        extensions += [
            lambda: ParserCache(maxsize=512),
            lambda: AddValidationRules(rules),
            lambda: ValidationCache(maxsize=512),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        ]
        if not settings.introspection:
            extensions.append(DisableIntrospection)
    return ClientzoneSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
