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

from clientzone.errors import InvalidPagination
from clientzone.models.pagination import Key, Page, PageRequest

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


def decode_cursor(cursor: str, argument: str) -> Key:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(parts, list) or not parts:
            raise ValueError(cursor)
        values: list[Any] = []
        for part in parts:
            if isinstance(part, dict) and "u" in part:
                values.append(uuid.UUID(hex=part["u"]))
            elif isinstance(part, dict) and "t" in part:
                values.append(datetime.fromisoformat(part["t"]))
            elif isinstance(part, dict) and "d" in part:
                values.append(date.fromisoformat(part["d"]))
            elif isinstance(part, str | int | float | bool):
                values.append(part)
            else:
                raise ValueError(cursor)
        return tuple(values)
    except (binascii.Error, UnicodeError, ValueError, TypeError, KeyError) as exc:
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
    edges: list[Edge[NodeT]]
    nodes: list[NodeT]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of nodes in the whole list (one extra COUNT query).")
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def from_page(
        cls,
        page: Page[Any],
        nodes: Sequence[NodeT],
        count: Callable[[], Awaitable[int]],
    ) -> Connection[NodeT]:
        cursors = [encode_cursor(key) for key in page.keys]
        return cls(
            edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
            nodes=list(nodes),
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            count=count,
        )
