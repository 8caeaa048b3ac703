"""Keyset pagination over any ordered select (no OFFSET, ever).

A page is asked for with `first`/`after` (forwards) or `last`/`before`
(backwards). The position is the tuple of sort-key values of a row, so the
database seeks straight to it through the index: page 10,000 costs what page 1
costs. Encoding positions as opaque cursors is the API layer's job.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, bindparam, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from clientzone.core.errors import InvalidPagination

R = TypeVar("R")
Key = tuple[Any, ...]


@dataclass(frozen=True)
class SortKey:
    """The columns that order a list, the last one unique. `descending` applies to all."""

    columns: Sequence[Any]  # columns or mapped attributes
    descending: bool = False


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: Key | None = None
    last: int | None = None
    before: Key | None = None

    @property
    def backwards(self) -> bool:
        return self.last is not None and self.first is None

    @property
    def from_start(self) -> bool:
        """The first page forwards: what per-parent loaders serve for lists."""
        return self.after is None and self.before is None and not self.backwards

    @property
    def size(self) -> int:
        size = self.last if self.backwards else self.first
        assert size is not None
        return size


@dataclass(frozen=True)
class Page(Generic[R]):
    rows: list[R]
    keys: list[Key]
    has_next_page: bool
    has_previous_page: bool


def _checked(sort: SortKey, key: Key, argument: str) -> Key:
    """The key, when it has the sort key's shape: one value of the right type per column."""
    columns = list(sort.columns)
    if len(key) != len(columns):
        raise InvalidPagination("pagination.invalid_cursor", argument=argument)
    for column, value in zip(columns, key, strict=True):
        expected = column.type.python_type
        valid = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        if isinstance(value, str) and "\x00" in value:
            valid = False
        if isinstance(value, datetime) and (value.tzinfo is None or expected is date):
            valid = False
        if not valid:
            raise InvalidPagination("pagination.invalid_cursor", argument=argument)
    return key


def _beyond(sort: SortKey, key: Key, *, forwards: bool) -> ColumnElement[bool]:
    """Rows strictly after `key` in the direction of travel (the key's values
    are bound parameters `<prefix>0`, `<prefix>1`...)."""
    ascending = forwards != sort.descending
    columns = list(sort.columns)
    if len(columns) == 1:
        column: ColumnElement[Any] = columns[0]
        beyond: ColumnElement[bool] = column > key[0] if ascending else column < key[0]
        return beyond
    row, value = tuple_(*columns), tuple_(*key)
    return row > value if ascending else row < value


def _key_params(sort: SortKey, prefix: str) -> Key:
    return tuple(
        bindparam(f"{prefix}{i}", type_=column.type) for i, column in enumerate(sort.columns)
    )


def _order(sort: SortKey, *, forwards: bool) -> list[Any]:
    ascending = forwards != sort.descending
    return [column.asc() if ascending else column.desc() for column in sort.columns]


def limit_to_page(
    statement: Select[Any], sort: SortKey, *, forwards: bool, after: bool, before: bool
) -> Select[Any]:
    """`statement` cut to one page of this shape: the cursor conditions, order
    and limit that fetch_page binds (`after_0`..., `before_0`..., `page_limit`).
    Also for each branch of a union that fetch_page pages, so that every branch
    stops after a page too."""
    if after:
        statement = statement.where(_beyond(sort, _key_params(sort, "after_"), forwards=True))
    if before:
        statement = statement.where(_beyond(sort, _key_params(sort, "before_"), forwards=False))
    limit = bindparam("page_limit", type_=Integer())
    return statement.order_by(*_order(sort, forwards=forwards)).limit(limit)


# Finished page statements by (the caller's statement key, shape of the page):
# building a statement costs more than running it, so reused shapes are built
# once, with the cursor values and the page size as bound parameters.
_STATEMENTS: dict[Hashable, Any] = {}
_MAX_STATEMENTS = 2_000


def _memo(key: Hashable | None, build: Callable[[], Any]) -> Any:
    if key is None:
        return build()
    found = _STATEMENTS.get(key)
    if found is None:
        found = build()
        if len(_STATEMENTS) < _MAX_STATEMENTS:
            _STATEMENTS[key] = found
    return found


async def fetch_page(
    session: AsyncSession,
    statement: Select[Any],
    *,
    sort: SortKey,
    page: PageRequest,
    key_of: Callable[[Any], Key],
    scalars: bool = True,
    params: Mapping[str, Any] | None = None,
    cache_key: Hashable | None = None,
) -> Page[Any]:
    """Run `statement` (with bound `params`) for one page; `key_of(row)` gives a
    row's sort-key values. A caller whose `statement` is always the same (its
    values all bound parameters) names it with `cache_key`, and the page
    statement is built once."""
    forwards = not page.backwards
    values: dict[str, Any] = dict(params or {})
    if page.after is not None:
        for i, value in enumerate(_checked(sort, page.after, "after")):
            values[f"after_{i}"] = value
    if page.before is not None:
        for i, value in enumerate(_checked(sort, page.before, "before")):
            values[f"before_{i}"] = value
    values["page_limit"] = page.size + 1

    def build() -> Select[Any]:
        return limit_to_page(
            statement,
            sort,
            forwards=forwards,
            after=page.after is not None,
            before=page.before is not None,
        )

    shape = (cache_key, forwards, page.after is not None, page.before is not None)
    finished = _memo(shape if cache_key is not None else None, build)
    result = await session.execute(finished, values)
    rows: list[Any] = list(result.scalars().all() if scalars else result.all())
    more = len(rows) > page.size
    rows = rows[: page.size]
    if not forwards:
        rows.reverse()
    keys = [key_of(row) for row in rows]
    # A cursor on either side means rows exist beyond it (they were paged past).
    if forwards:
        has_next, has_previous = more or page.before is not None, page.after is not None
    else:
        has_next, has_previous = page.before is not None, more or page.after is not None
    return Page(rows, keys, has_next_page=has_next, has_previous_page=has_previous)


# Parents per statement of fetch_first_pages: one limited SELECT each, joined
# by UNION ALL (SQLite allows 500 compound members).
_PARENTS_PER_STATEMENT = 100


async def fetch_first_pages(
    session: AsyncSession,
    statement: Select[Any],
    *,
    entity: type[Any],
    partition_by: Any,
    parent_ids: Sequence[Any],
    parent_of: Callable[[Any], Any],
    sort: SortKey,
    size: int,
    key_of: Callable[[Any], Key],
    params: Mapping[str, Any] | None = None,
    cache_key: Hashable | None = None,
) -> dict[Any, Page[Any]]:
    """The first page of `size` rows for every parent in `parent_ids` at once,
    so that a connection nested under each item of a list costs one statement,
    not one per item. `statement` selects `entity` rows of all the wanted
    parents; with a `cache_key` (its values all bound `params`) it is built once
    per number of parents.

    Each parent gets its own `WHERE partition_by = :parent ORDER BY ... LIMIT`
    branch of a UNION ALL: the database walks the parent's index for a page
    and stops, however many rows the parent has (a ROW_NUMBER window over the
    parents would read all of them)."""

    def build(count: int) -> Select[Any]:
        branches = [
            select(
                limit_to_page(
                    statement.where(
                        partition_by == bindparam(f"parent_{i}", type_=partition_by.type)
                    ),
                    sort,
                    forwards=True,
                    after=False,
                    before=False,
                ).subquery(f"parent_page_{i}")
            )
            for i in range(count)
        ]
        return select(aliased(entity, union_all(*branches).subquery("parent_pages")))

    parents = list(dict.fromkeys(parent_ids))
    pages: dict[Any, Page[Any]] = {}
    for start in range(0, len(parents), _PARENTS_PER_STATEMENT):
        chunk = parents[start : start + _PARENTS_PER_STATEMENT]
        shape = ("first-pages", cache_key, len(chunk))
        limited = _memo(
            shape if cache_key is not None else None, functools.partial(build, len(chunk))
        )
        values = {**(params or {}), "page_limit": size + 1}
        values.update({f"parent_{i}": parent for i, parent in enumerate(chunk)})
        grouped: dict[Any, list[Any]] = {}
        for item in (await session.execute(limited, values)).scalars():
            grouped.setdefault(parent_of(item), []).append(item)
        for parent, items in grouped.items():
            items.sort(key=key_of, reverse=sort.descending)
            rows = items[:size]
            pages[parent] = Page(
                rows,
                [key_of(r) for r in rows],
                has_next_page=len(items) > size,
                has_previous_page=False,
            )
    return pages
