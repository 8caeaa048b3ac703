"""The one place where errors become GraphQL errors.

- A `ClientzoneError` keeps its code, gets its message in the request's locale
  and any extra details (`permission`, `retryAfter`) in `extensions`.
- An error without a path is about the request itself (syntax, validation,
  variables, limits): BAD_USER_INPUT with graphql-core's message.
- An outage (a database or Redis that cannot answer now) is UNAVAILABLE with
  `retryAfter`: nothing was done, the client may retry.
- Anything else is unexpected: logged with its stack trace and the request id,
  and sent as INTERNAL with only that request id.

Mutations report what the user can fix as `userErrors`; see `UserError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from clientzone.core.errors import ClientzoneError, ErrorCode, Unavailable
from clientzone.core.i18n import DEFAULT_LOCALE, translate
from clientzone.core.outages import is_outage
from clientzone.models.users import Locale

logger = logging.getLogger("clientzone.graphql")

# What an UNAVAILABLE answer tells the client to wait before retrying.
OUTAGE_RETRY_SECONDS = 2


def is_unexpected(error: GraphQLError) -> bool:
    """A bug or an outage, as opposed to a bad request or a reported condition.

    Errors outside any field (no path) come from parsing, validation and
    variable coercion (ValueError/TypeError from scalars): bad input. Anything
    else raised there (an extension failing, a lost database) is unexpected.
    """
    original = error.original_error
    if original is None or isinstance(original, ClientzoneError | GraphQLError):
        return False
    if error.path is None:
        return not isinstance(original, ValueError | TypeError)
    return True


def log_unexpected(errors: list[GraphQLError], context: Any) -> None:
    """Log the bugs and outages among `errors` with their traces; `context` gives
    the request id."""
    request_id = getattr(context, "request_id", "-")
    for error in errors:
        if is_unexpected(error) and is_outage(error.original_error):  # type: ignore[arg-type]
            logger.warning(
                "a dependency did not answer in %s (request %s): %s",
                ".".join(str(p) for p in error.path or []),
                request_id,
                repr(error.original_error)[:300],
                extra={"request_id": request_id},
            )
        elif is_unexpected(error):
            original = error.original_error
            logger.error(
                "unexpected error in %s (request %s)",
                ".".join(str(p) for p in error.path or []),
                request_id,
                exc_info=(type(original), original, original.__traceback__) if original else None,
                extra={"request_id": request_id},
            )


def shape_error(error: GraphQLError, *, locale: Locale, request_id: str) -> GraphQLError:
    """The error as the client sees it; an error already shaped is returned as is."""
    if error.extensions and "code" in error.extensions:
        return error
    original = error.original_error
    extensions: dict[str, Any]
    if isinstance(original, ClientzoneError):
        message = translate(original.message_key, locale, **original.params)
        extensions = {"code": original.code.value, **original.extensions()}
    elif not is_unexpected(error):
        message = error.message
        extensions = {"code": ErrorCode.BAD_USER_INPUT.value}
    elif original is not None and is_outage(original):
        outage = Unavailable(OUTAGE_RETRY_SECONDS, "DEPENDENCY")
        message = translate(outage.message_key, locale, **outage.params)
        extensions = {"code": outage.code.value, **outage.extensions()}
        original = None
    else:
        message = translate("error.internal", locale, request_id=request_id)
        extensions = {"code": ErrorCode.INTERNAL.value, "requestId": request_id}
        original = None
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=extensions,
    )


def shape_errors(errors: list[GraphQLError], context: Any) -> list[GraphQLError]:
    """`shape_error` for every error, with the locale and request id of `context`."""
    locale = getattr(context, "locale", DEFAULT_LOCALE)
    request_id = getattr(context, "request_id", "-")
    return [shape_error(e, locale=locale, request_id=request_id) for e in errors]


class ErrorShaping(SchemaExtension):
    """Shapes the errors of an operation's result (HTTP and WebSocket alike).

    Errors raised by another extension before execution (a cached parse that
    fails) escape this hook; the HTTP view shapes those with `shape_errors`.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = shape_errors(result.errors, self.execution_context.context)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each event of a subscription (an error there ends it)."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = shape_errors(errors, self.execution_context.context)
        yield


@strawberry.interface(description="Something in a mutation's input that the user can fix.")
class UserError:
    field: str | None = strawberry.field(
        description="Path of the input field, dotted and camelCase (e.g. `address.postalCode`); "
        "null when the error is about the input as a whole."
    )
    message: str = strawberry.field(description="Localized (es, en) text for the user.")
