"""DataLoaders, built fresh for every request.

Every loader has one shape: one `IN (:keys)` query, a dict by key, results in
key order. The number of statements for a query does not grow with the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from clientzone.db import RequestDb
from clientzone.models.accounts import Account, accounts_by_ids
from clientzone.models.announcements import first_pages as announcement_first_pages
from clientzone.models.base import today, utcnow
from clientzone.models.brands import BrandRecord, brands_by_ids
from clientzone.models.cases import (
    Case,
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
    open_service_requests,
    subcategories,
    subcategories_by_ids,
)
from clientzone.models.contact_access import ContactAccess, access_of_contacts
from clientzone.models.invoices import (
    DocumentType,
    Invoice,
    InvoiceDocument,
    InvoiceLine,
    document_types,
    documents_of_invoices,
    first_invoice_pages,
    invoices_by_account_number,
    invoices_by_ids,
    lines_of_invoices,
)
from clientzone.models.ledger import balances
from clientzone.models.memberships import (
    Grant,
    LinkedScope,
    grants_for_accounts,
    linked_accounts_first_pages,
    linked_grants,
)
from clientzone.models.orders import Order, OrderLine, lines_of_orders, orders_by_ids
from clientzone.models.pagination import Page
from clientzone.models.users import User, users_by_ids

K = TypeVar("K", bound=Hashable)
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


class Loaders:
    """One request's loaders, each made the first time it is used: a request
    that needs two of them does not pay for building twenty."""

    def __init__(
        self, db: RequestDb, viewer_id: uuid.UUID | None, linked: LinkedScope | None = None
    ) -> None:
        self.db = db
        self.viewer_id = viewer_id
        # An API client allowed its account's linked accounts (no viewer then).
        self.linked = linked

    @classmethod
    def build(
        cls, db: RequestDb, viewer_id: uuid.UUID | None, linked: LinkedScope | None = None
    ) -> Loaders:
        return cls(db, viewer_id, linked)

    @cached_property
    def account_by_id(self) -> DataLoader[uuid.UUID, Account | None]:
        async def accounts(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Account]:
            return {a.id: a for a in await accounts_by_ids(session, ids)}

        return by_key(self.db, accounts)

    @cached_property
    def brand_by_id(self) -> DataLoader[uuid.UUID, BrandRecord | None]:
        async def brands(
            session: AsyncSession, ids: list[uuid.UUID]
        ) -> dict[uuid.UUID, BrandRecord]:
            return {b.id: b for b in await brands_by_ids(session, ids)}

        return by_key(self.db, brands)

    @cached_property
    def user_by_id(self) -> DataLoader[uuid.UUID, User | None]:
        async def users(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
            return {u.id: u for u in await users_by_ids(session, ids)}

        return by_key(self.db, users)

    @cached_property
    def grant_by_account(self) -> DataLoader[uuid.UUID, Grant | None]:
        """The viewer's grant per account (None: the viewer cannot reach it); for
        an API client allowed linked accounts, its grant on each linked account
        (its own account's grant is the client's, auth/access.py)."""
        viewer_id, linked = self.viewer_id, self.linked

        async def grants(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Grant]:
            if viewer_id is None:
                if linked is None:
                    return {}
                return await linked_grants(session, scope=linked, account_ids=ids)
            return await grants_for_accounts(session, user_id=viewer_id, account_ids=ids)

        return by_key(self.db, grants)

    @cached_property
    def linked_accounts_first_page(self) -> DataLoader[tuple[uuid.UUID, int], Page[Account]]:
        """The first page of linked accounts the viewer reaches, by (account, size)
        (for an API client allowed them: those its creator reaches)."""
        viewer_id = self.viewer_id or (self.linked.creator_id if self.linked else None)

        async def fetch(
            session: AsyncSession, ids: list[uuid.UUID], size: int
        ) -> dict[uuid.UUID, Page[Account]]:
            assert viewer_id is not None, "linked accounts are read for a viewer"
            return await linked_accounts_first_pages(
                session, account_ids=ids, user_id=viewer_id, size=size
            )

        return first_pages(self.db, fetch)

    @cached_property
    def announcements_first_page(self) -> DataLoader[tuple[uuid.UUID, int], Page[Any]]:
        """Each account's first page of news visible now, with the viewer's marks."""
        return self._announcements_first_page(unread_only=False)

    @cached_property
    def unread_announcements_first_page(self) -> DataLoader[tuple[uuid.UUID, int], Page[Any]]:
        return self._announcements_first_page(unread_only=True)

    def _announcements_first_page(
        self, *, unread_only: bool
    ) -> DataLoader[tuple[uuid.UUID, int], Page[Any]]:
        reader = self.viewer_id or uuid.UUID(int=0)  # an API client has no read marks

        async def fetch(
            session: AsyncSession, ids: list[uuid.UUID], size: int
        ) -> dict[uuid.UUID, Page[Any]]:
            return await announcement_first_pages(
                session,
                account_ids=ids,
                reader_id=reader,
                unread_only=unread_only,
                now=utcnow(),
                size=size,
            )

        return first_pages(self.db, fetch)

    @cached_property
    def invoices_first_page(self) -> DataLoader[tuple[uuid.UUID, int], Page[Invoice]]:
        """The first page of each account's invoices, newest first, by (account, size)."""

        async def fetch(
            session: AsyncSession, ids: list[uuid.UUID], size: int
        ) -> dict[uuid.UUID, Page[Invoice]]:
            return await first_invoice_pages(session, account_ids=ids, size=size, today=today())

        return first_pages(self.db, fetch)

    @cached_property
    def balance_by_account(self) -> DataLoader[uuid.UUID, int | None]:
        """Balance after the last ledger movement, in minor units (None: no movement yet)."""
        return by_key(self.db, balances)

    @cached_property
    def lines_by_invoice(self) -> DataLoader[uuid.UUID, list[InvoiceLine] | None]:
        return by_key(self.db, lines_of_invoices)

    @cached_property
    def document_type(self) -> DataLoader[str, DocumentType | None]:
        return by_key(self.db, document_types)

    @cached_property
    def lines_by_order(self) -> DataLoader[uuid.UUID, list[OrderLine] | None]:
        return by_key(self.db, lines_of_orders)

    @cached_property
    def documents_by_invoice(self) -> DataLoader[uuid.UUID, list[InvoiceDocument] | None]:
        return by_key(self.db, documents_of_invoices)

    @cached_property
    def invoice_by_id(self) -> DataLoader[uuid.UUID, Invoice | None]:
        return by_key(self.db, invoices_by_ids)

    @cached_property
    def order_by_id(self) -> DataLoader[uuid.UUID, Order | None]:
        return by_key(self.db, orders_by_ids)

    @cached_property
    def invoice_by_account_number(self) -> DataLoader[tuple[uuid.UUID, str], Invoice | None]:
        return by_key(self.db, invoices_by_account_number)

    @cached_property
    def contact_access(self) -> DataLoader[uuid.UUID, ContactAccess | None]:
        return by_key(self.db, access_of_contacts)

    @cached_property
    def case_category_by_id(self) -> DataLoader[uuid.UUID, CaseCategory | None]:
        return by_key(self.db, categories_by_ids)

    @cached_property
    def open_request_by_service(self) -> DataLoader[uuid.UUID, Case | None]:
        return by_key(self.db, open_service_requests)

    @cached_property
    def case_subcategory_by_id(self) -> DataLoader[uuid.UUID, CaseSubcategory | None]:
        return by_key(self.db, subcategories_by_ids)

    @cached_property
    def case_categories(self) -> DataLoader[bool, list[CaseCategory]]:
        """All active case categories (one key: True), read once."""
        db = self.db

        async def load(keys: list[bool]) -> list[list[CaseCategory]]:
            async with db.read() as session:
                found = await categories(session)
            return [found for _ in keys]

        return DataLoader(load_fn=load)

    @cached_property
    def case_subcategories(self) -> DataLoader[bool, list[CaseSubcategory]]:
        db = self.db

        async def load(keys: list[bool]) -> list[list[CaseSubcategory]]:
            async with db.read() as session:
                found = await subcategories(session)
            return [found for _ in keys]

        return DataLoader(load_fn=load)

    @cached_property
    def case_comments_first_page(self) -> DataLoader[tuple[uuid.UUID, int], Page[CaseComment]]:
        """Public comments of cases: first pages by (case, size)."""

        async def fetch(
            session: AsyncSession, ids: list[uuid.UUID], size: int
        ) -> dict[uuid.UUID, Page[CaseComment]]:
            return await comments_first_pages(
                session, case_ids=ids, size=size, include_internal=False
            )

        return first_pages(self.db, fetch)

    @cached_property
    def case_comments_count(self) -> DataLoader[uuid.UUID, int | None]:
        async def public_comment_counts(
            session: AsyncSession, ids: list[uuid.UUID]
        ) -> dict[uuid.UUID, int]:
            return await count_comments(session, ids, include_internal=False)

        return by_key(self.db, public_comment_counts)

    @cached_property
    def case_attachments_first_page(
        self,
    ) -> DataLoader[tuple[uuid.UUID, int], Page[CaseAttachment]]:
        async def fetch(
            session: AsyncSession, ids: list[uuid.UUID], size: int
        ) -> dict[uuid.UUID, Page[CaseAttachment]]:
            return await attachments_first_pages(session, case_ids=ids, size=size)

        return first_pages(self.db, fetch)

    @cached_property
    def case_attachments_count(self) -> DataLoader[uuid.UUID, int | None]:
        return by_key(self.db, count_attachments)


PageFetch = Callable[[AsyncSession, list[uuid.UUID], int], Awaitable[dict[uuid.UUID, Page[V]]]]


def first_pages(db: RequestDb, fetch: PageFetch[V]) -> DataLoader[tuple[uuid.UUID, int], Page[V]]:
    """A loader of first pages by (parent, size): one statement per distinct size."""

    async def load(keys: list[tuple[uuid.UUID, int]]) -> list[Page[V]]:
        return await _first_pages(db, keys, fetch)

    return DataLoader(load_fn=load)


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
