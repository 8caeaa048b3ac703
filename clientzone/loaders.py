"""DataLoaders, built fresh for every request.

Every loader has one shape: one `IN (:keys)` query, a dict by key, results in
key order. The number of statements for a query does not grow with the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from clientzone.db import RequestDb
from clientzone.models.accounts import Account, accounts_by_ids
from clientzone.models.invoices import (
    DocumentType,
    InvoiceDocument,
    InvoiceLine,
    document_types,
    documents_of_invoices,
    lines_of_invoices,
)
from clientzone.models.ledger import balances
from clientzone.models.memberships import (
    Grant,
    grants_for_accounts,
    linked_accounts_first_pages,
)
from clientzone.models.orders import OrderLine, lines_of_orders
from clientzone.models.pagination import Page
from clientzone.models.users import User, users_by_ids

K = TypeVar("K", bound=Hashable)
EMPTY_PAGE: Page[Account] = Page([], [], has_next_page=False, has_previous_page=False)
V = TypeVar("V")


def by_key(
    db: RequestDb,
    fetch: Callable[[AsyncSession, list[K]], Awaitable[dict[K, V]]],
) -> DataLoader[K, V | None]:
    """A loader over `fetch(session, keys) -> {key: value}`; missing keys give None."""

    async def load(keys: list[K]) -> Sequence[V | None]:
        async with db.read() as session:
            found = await fetch(session, keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


@dataclass(frozen=True)
class Loaders:
    account_by_id: DataLoader[uuid.UUID, Account | None]
    user_by_id: DataLoader[uuid.UUID, User | None]
    # The viewer's grant per account (None: the viewer cannot reach it).
    grant_by_account: DataLoader[uuid.UUID, Grant | None]
    # The first page of linked accounts the viewer reaches, by (account, size).
    linked_accounts_first_page: DataLoader[tuple[uuid.UUID, int], Page[Account]]
    # Balance after the last ledger movement, in minor units (None: no movement yet).
    balance_by_account: DataLoader[uuid.UUID, int | None]
    lines_by_invoice: DataLoader[uuid.UUID, list[InvoiceLine] | None]
    document_type: DataLoader[str, DocumentType | None]
    lines_by_order: DataLoader[uuid.UUID, list[OrderLine] | None]
    documents_by_invoice: DataLoader[uuid.UUID, list[InvoiceDocument] | None]

    @classmethod
    def build(cls, db: RequestDb, viewer_id: uuid.UUID | None) -> Loaders:
        async def accounts(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Account]:
            return {a.id: a for a in await accounts_by_ids(session, ids)}

        async def users(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
            return {u.id: u for u in await users_by_ids(session, ids)}

        async def grants(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Grant]:
            if viewer_id is None:
                return {}
            return await grants_for_accounts(session, user_id=viewer_id, account_ids=ids)

        async def linked_first_pages(keys: list[tuple[uuid.UUID, int]]) -> list[Page[Account]]:
            assert viewer_id is not None, "linked accounts are read for a viewer"
            found: dict[tuple[uuid.UUID, int], Page[Account]] = {}
            async with db.read() as session:
                for size in sorted({size for _, size in keys}):
                    pages = await linked_accounts_first_pages(
                        session,
                        account_ids=[a for a, s in keys if s == size],
                        user_id=viewer_id,
                        size=size,
                    )
                    found.update({(a, size): page for a, page in pages.items()})
            return [found.get(key, EMPTY_PAGE) for key in keys]

        return cls(
            account_by_id=by_key(db, accounts),
            user_by_id=by_key(db, users),
            grant_by_account=by_key(db, grants),
            linked_accounts_first_page=DataLoader(load_fn=linked_first_pages),
            balance_by_account=by_key(db, balances),
            lines_by_invoice=by_key(db, lines_of_invoices),
            document_type=by_key(db, document_types),
            lines_by_order=by_key(db, lines_of_orders),
            documents_by_invoice=by_key(db, documents_of_invoices),
        )
