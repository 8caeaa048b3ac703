"""Relay connections on keyset pagination.

`first`/`after` pages forwards, `last`/`before` backwards; at most 100 nodes
per page (MAX_PAGE_SIZE), DEFAULT_PAGE_SIZE when neither is given. A cursor
is the opaque, base64url-encoded sort key of its row. `totalCount` runs its
own COUNT only when asked for.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import strawberry

from clientzone.core.errors import InvalidPagination
from clientzone.models.pagination import Key, Page, PageRequest
from clientzone.schema.cost import Cost

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

NodeT = TypeVar("NodeT")


def encode_cursor(key: Key) -> str:
    parts: list[Any] = []
    for value in key:
        if isinstance(value, uuid.UUID):
            parts.append({"u": value.hex})
        elif isinstance(value, datetime):
            parts.append({"t": value.isoformat()})
        elif isinstance(value, date):
            parts.append({"d": value.isoformat()})
        else:
            parts.append(value)
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


INT64 = 2**63
MAX_CURSOR_LENGTH = 1_000


def _key_value(part: Any) -> Any:
    """One sort-key value of a cursor, or ValueError when it is not one we write."""
    if isinstance(part, dict) and len(part) == 1:
        ((tag, value),) = part.items()
        if not isinstance(value, str):
            raise ValueError(part)
        if tag == "u":
            return uuid.UUID(hex=value)
        if tag == "t":
            return datetime.fromisoformat(value)
        if tag == "d":
            return date.fromisoformat(value)
        raise ValueError(part)
    if isinstance(part, bool | str):
        return part
    if isinstance(part, int):
        if not -INT64 <= part < INT64:
            raise ValueError(part)
        return part
    raise ValueError(part)


def decode_cursor(cursor: str, argument: str) -> Key:
    """A cursor's sort key, or BAD_USER_INPUT for anything this API did not write
    (whatever its shape: the cursor is client input)."""
    try:
        if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError(cursor)
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(parts, list) or not parts or len(parts) > 4:
            raise ValueError(cursor)
        return tuple(_key_value(part) for part in parts)
    except (binascii.Error, UnicodeError, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise InvalidPagination("pagination.invalid_cursor", argument=argument) from exc


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    """Validate Relay arguments into a keyset PageRequest (BAD_USER_INPUT if wrong)."""
    if first is not None and last is not None:
        raise InvalidPagination("pagination.first_and_last")
    for name, size in (("first", first), ("last", last)):
        if size is not None and size < 0:
            raise InvalidPagination("pagination.negative", argument=name)
        if size is not None and size > MAX_PAGE_SIZE:
            raise InvalidPagination("pagination.too_large", argument=name, maximum=MAX_PAGE_SIZE)
    if first is None and last is None:
        if before is not None and after is None:
            last = DEFAULT_PAGE_SIZE
        else:
            first = DEFAULT_PAGE_SIZE
    return PageRequest(
        first=first,
        after=decode_cursor(after, "after") if after is not None else None,
        last=last,
        before=decode_cursor(before, "before") if before is not None else None,
    )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    """A page of nodes; cursors are encoded only when `edges` or `pageInfo` is asked for."""

    nodes: list[NodeT]
    page: strawberry.Private[Page[Any]]
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def edges(self) -> list[Edge[NodeT]]:
        return [
            Edge(cursor=encode_cursor(key), node=node)
            for key, node in zip(self.page.keys, self.nodes, strict=True)
        ]

    @strawberry.field
    def page_info(self) -> PageInfo:
        keys = self.page.keys
        return PageInfo(
            has_next_page=self.page.has_next_page,
            has_previous_page=self.page.has_previous_page,
            start_cursor=encode_cursor(keys[0]) if keys else None,
            end_cursor=encode_cursor(keys[-1]) if keys else None,
        )

    @strawberry.field(
        description="Number of nodes in the whole list (one extra COUNT query).",
        directives=[Cost(weight=5)],
    )
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def from_page(
        cls,
        page: Page[Any],
        nodes: Sequence[NodeT],
        count: Callable[[], Awaitable[int]],
    ) -> Connection[NodeT]:
        if len(page.keys) != len(nodes):
            raise ValueError("a page needs one sort key per node")
        return cls(nodes=list(nodes), page=page, count=count)
