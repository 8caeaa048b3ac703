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
from clientzone.models.cases import (
    CaseAttachment,
    CaseCategory,
    CaseComment,
    CaseSubcategory,
    attachments_first_pages,
    categories,
    categories_by_ids,
    comments_first_pages,
    count_attachments,
    count_comments,
    subcategories,
    subcategories_by_ids,
)
from clientzone.models.invoices import (
    DocumentType,
    Invoice,
    InvoiceDocument,
    InvoiceLine,
    document_types,
    documents_of_invoices,
    invoices_by_ids,
    lines_of_invoices,
)
from clientzone.models.ledger import balances
from clientzone.models.memberships import (
    Grant,
    grants_for_accounts,
    linked_accounts_first_pages,
)
from clientzone.models.orders import Order, OrderLine, lines_of_orders, orders_by_ids
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
    # All active case categories / subcategories (one key: True), read once.
    invoice_by_id: DataLoader[uuid.UUID, Invoice | None]
    order_by_id: DataLoader[uuid.UUID, Order | None]
    case_category_by_id: DataLoader[uuid.UUID, CaseCategory | None]
    case_subcategory_by_id: DataLoader[uuid.UUID, CaseSubcategory | None]
    case_categories: DataLoader[bool, list[CaseCategory]]
    case_subcategories: DataLoader[bool, list[CaseSubcategory]]
    # Public comments and attachments of cases: first pages by (case, size), counts.
    case_comments_first_page: DataLoader[tuple[uuid.UUID, int], Page[CaseComment]]
    case_comments_count: DataLoader[uuid.UUID, int | None]
    case_attachments_first_page: DataLoader[tuple[uuid.UUID, int], Page[CaseAttachment]]
    case_attachments_count: DataLoader[uuid.UUID, int | None]

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

        async def all_categories(keys: list[bool]) -> list[list[CaseCategory]]:
            async with db.read() as session:
                found = await categories(session)
            return [found for _ in keys]

        async def all_subcategories(keys: list[bool]) -> list[list[CaseSubcategory]]:
            async with db.read() as session:
                found = await subcategories(session)
            return [found for _ in keys]

        async def comment_pages(
            keys: list[tuple[uuid.UUID, int]],
        ) -> list[Page[CaseComment]]:
            return await _first_pages(
                db,
                keys,
                lambda session, ids, size: comments_first_pages(
                    session, case_ids=ids, size=size, include_internal=False
                ),
            )

        async def attachment_pages(
            keys: list[tuple[uuid.UUID, int]],
        ) -> list[Page[CaseAttachment]]:
            return await _first_pages(
                db,
                keys,
                lambda session, ids, size: attachments_first_pages(
                    session, case_ids=ids, size=size
                ),
            )

        async def public_comment_counts(
            session: AsyncSession, ids: list[uuid.UUID]
        ) -> dict[uuid.UUID, int]:
            return await count_comments(session, ids, include_internal=False)

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
            invoice_by_id=by_key(db, invoices_by_ids),
            order_by_id=by_key(db, orders_by_ids),
            case_category_by_id=by_key(db, categories_by_ids),
            case_subcategory_by_id=by_key(db, subcategories_by_ids),
            case_categories=DataLoader(load_fn=all_categories),
            case_subcategories=DataLoader(load_fn=all_subcategories),
            case_comments_first_page=DataLoader(load_fn=comment_pages),
            case_comments_count=by_key(db, public_comment_counts),
            case_attachments_first_page=DataLoader(load_fn=attachment_pages),
            case_attachments_count=by_key(db, count_attachments),
        )


async def _first_pages(
    db: RequestDb,
    keys: list[tuple[uuid.UUID, int]],
    fetch: Callable[[AsyncSession, list[uuid.UUID], int], Awaitable[dict[uuid.UUID, Page[V]]]],
) -> list[Page[V]]:
    """First pages by (parent, size): one statement per distinct size."""
    found: dict[tuple[uuid.UUID, int], Page[V]] = {}
    async with db.read() as session:
        for size in sorted({size for _, size in keys}):
            pages = await fetch(session, [p for p, s in keys if s == size], size)
            found.update({(p, size): page for p, page in pages.items()})
    empty: Page[V] = Page([], [], has_next_page=False, has_previous_page=False)
    return [found.get(key, empty) for key in keys]
