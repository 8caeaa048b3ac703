"""Who reaches which account, with which role and permissions.

A membership joins a user to an account as OWNER (every permission, implied)
or MEMBER (an explicit permission set). The owner of a parent account also
reaches its linked accounts as OWNER: those grants are *inherited*, derived
by query rather than stored, so linking or unlinking an account takes effect
at once. Linking is one level deep.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    Select,
    String,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Subquery
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, col

from clientzone.models.accounts import Account
from clientzone.models.base import StrEnumType, UTCDateTime, new_id, utcnow
from clientzone.models.contacts import Contact
from clientzone.models.pagination import (
    Page,
    PageRequest,
    SortKey,
    fetch_first_pages,
    fetch_page,
    limit_to_page,
)
from clientzone.models.users import User


class Role(StrEnum):
    OWNER = "OWNER"
    MEMBER = "MEMBER"


class Permission(StrEnum):
    PROFILE_EDIT = "PROFILE_EDIT"
    CONTACTS_MANAGE = "CONTACTS_MANAGE"
    USERS_MANAGE = "USERS_MANAGE"
    INVOICES_VIEW = "INVOICES_VIEW"
    INVOICES_PAY = "INVOICES_PAY"
    ORDERS_VIEW = "ORDERS_VIEW"
    ORDERS_CREATE = "ORDERS_CREATE"
    SERVICES_VIEW = "SERVICES_VIEW"
    SERVICES_MANAGE = "SERVICES_MANAGE"
    CASES_VIEW = "CASES_VIEW"
    CASES_CREATE = "CASES_CREATE"
    EMAILS_VIEW = "EMAILS_VIEW"
    ACTIVITY_VIEW = "ACTIVITY_VIEW"
    INTEGRATIONS_MANAGE = "INTEGRATIONS_MANAGE"


ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)


class PermissionSet(TypeDecorator[frozenset[Permission]]):
    """A set of permissions stored as sorted comma-separated names."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(
        self, value: Iterable[Permission] | None, dialect: Dialect
    ) -> str | None:
        if value is None:
            return None
        return ",".join(sorted(Permission(p).value for p in value))

    def process_result_value(
        self, value: str | None, dialect: Dialect
    ) -> frozenset[Permission] | None:
        if value is None:
            return None
        return frozenset(Permission(p) for p in value.split(",") if p)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "account_id"),
        # A login's memberships by customer number: one index walk per page.
        Index("ix_memberships_user_id_account_number", "user_id", "account_number"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    account_id: uuid.UUID = Field(foreign_key="accounts.id", index=True, ondelete="CASCADE")
    role: Role = Field(sa_type=StrEnumType(Role))
    # A copy of the account's customer number (which never changes), so that
    # a login's memberships come in that order from an index. Always set on
    # insert; nullable in the database only because SQLite cannot add a NOT
    # NULL column to a table with rows without rebuilding it.
    account_number: str | None = Field(default=None, sa_type=String(32))
    permissions: frozenset[Permission] = Field(default=frozenset(), sa_type=PermissionSet)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A suspended member keeps the membership but reaches nothing in the account.
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Grant:
    """What one user may do in one account, direct or inherited from a parent."""

    account_id: uuid.UUID
    account_number: str
    role: Role
    permissions: frozenset[Permission]
    inherited: bool
    suspended: bool = False  # then no permission at all

    @classmethod
    def from_row(cls, row: Any) -> Grant:
        role = Role(row.role)
        suspended = bool(row.suspended)
        if suspended:
            permissions: frozenset[Permission] = frozenset()
        else:
            permissions = ALL_PERMISSIONS if role is Role.OWNER else row.permissions or frozenset()
        return cls(
            account_id=row.account_id,
            account_number=row.account_number,
            role=role,
            permissions=permissions,
            inherited=bool(row.inherited),
            suspended=suspended,
        )


def _branches(limited: bool) -> tuple[Select[Any], Select[Any]]:
    """The two parts of a user's effective memberships: direct ones, and the
    linked accounts of accounts the user owns (inherited), with `user_id` (and
    `account_ids` when `limited`) as bound parameters.

    Every condition that names the user's other memberships is a correlated
    EXISTS on the (user_id, account_id) index, so a row costs a probe or two,
    never a read of all the user's memberships.
    """
    m = Membership.__table__.c  # type: ignore[attr-defined]
    a = Account.__table__.c  # type: ignore[attr-defined]
    owner = Membership.__table__.alias("owner")  # type: ignore[attr-defined]
    user_id = bindparam("user_id", type_=m.user_id.type)

    # A plain membership in a child of an owned account is superseded by the
    # inherited ownership below.
    parent_owned = (
        select(a.id)
        .join(owner, owner.c.account_id == a.parent_id)
        .where(
            a.id == m.account_id,
            owner.c.user_id == user_id,
            owner.c.role == Role.OWNER.value,
        )
        .exists()
    )
    direct = select(
        m.account_number.label("account_number"),
        m.account_id.label("account_id"),
        m.role.label("role"),
        m.permissions.label("permissions"),
        literal(False, Boolean).label("inherited"),
        m.suspended_at.is_not(None).label("suspended"),
    ).where(m.user_id == user_id, not_(and_(m.role == Role.MEMBER.value, parent_owned)))
    inherited = select(
        a.number.label("account_number"),
        a.id.label("account_id"),
        literal(Role.OWNER.value, String).label("role"),
        null().label("permissions"),
        literal(True, Boolean).label("inherited"),
        literal(False, Boolean).label("suspended"),
    ).where(not_(_owns(a.id)))
    if limited:
        account_ids = bindparam("account_ids", type_=m.account_id.type, expanding=True)
        direct = direct.where(m.account_id.in_(account_ids))
        inherited = inherited.where(a.id.in_(account_ids), _owns(a.parent_id))
    else:
        inherited = inherited.where(a.parent_id.in_(_owned_parents()))
    return direct, inherited


def _owns(account_id: Any) -> ColumnElement[bool]:
    """Whether the `user_id` parameter owns `account_id`: one probe of the
    (user_id, account_id) index."""
    owner = Membership.__table__.alias("owner")  # type: ignore[attr-defined]
    return (
        select(owner.c.id)
        .where(
            owner.c.user_id == bindparam("user_id", type_=owner.c.user_id.type),
            owner.c.account_id == account_id,
            owner.c.role == Role.OWNER.value,
        )
        .exists()
    )


def _owned_parents() -> Select[Any]:
    """The accounts the `user_id` parameter owns that have linked accounts
    (most have none)."""
    owner = Membership.__table__.alias("owner")  # type: ignore[attr-defined]
    child = Account.__table__.alias("child")  # type: ignore[attr-defined]
    return select(owner.c.account_id).where(
        owner.c.user_id == bindparam("user_id", type_=owner.c.user_id.type),
        owner.c.role == Role.OWNER.value,
        select(child.c.parent_id).where(child.c.parent_id == owner.c.account_id).exists(),
    )


# Up to this many memberships, a user's owned accounts are each looked up in
# the (parent_id, number) index for a linked account; beyond, the linked side
# of that index is read instead, looking each parent up among the user's.
_FEW_MEMBERSHIPS = 1_000


def _any_owned_parent() -> ColumnElement[bool]:
    """Whether the `user_id` parameter owns any account that has linked
    accounts, from the smaller side: the user's owned accounts when they are
    few (most users: a cost that does not grow with the database), else the
    linked accounts of the whole database (an owner of many accounts)."""
    m = Membership.__table__.c  # type: ignore[attr-defined]
    child = Account.__table__.alias("child")  # type: ignore[attr-defined]
    from_owned = _owned_parents().exists()
    from_linked = (
        select(child.c.parent_id)
        .where(child.c.parent_id.is_not(None), _owns(child.c.parent_id))
        .exists()
    )
    few = _membership_count(bindparam("user_id", type_=m.user_id.type)) < _FEW_MEMBERSHIPS
    return case((few, from_owned), else_=from_linked)


def _membership_count(user_id: Any) -> ColumnElement[int]:
    """The user's count of direct memberships, kept by triggers (migration 0036)."""
    u = User.__table__.c  # type: ignore[attr-defined]
    return select(u.membership_count).where(u.id == user_id).scalar_subquery()


@cache
def _effective_memberships(limited: bool) -> Subquery:
    """Direct memberships plus the linked accounts of accounts the user owns,
    limited to the `account_ids` parameter when `limited` (inside each branch,
    so an owner of thousands of linked accounts does not cost thousands of rows
    per check).

    Built once per shape, with `user_id` and `account_ids` as bound parameters
    given at execution: building this union costs more than running it.
    The union takes its column types from the first select, so rows come back
    with `role` as a Role and `permissions` as a frozenset (or None).
    """
    return union_all(*_branches(limited)).subquery("effective_memberships")


async def memberships_page(
    session: AsyncSession, *, user_id: uuid.UUID, page: PageRequest
) -> Page[Grant]:
    shape = (not page.backwards, page.after is not None, page.before is not None)
    statement, sort = _memberships_statement(*shape)
    result = await fetch_page(
        session,
        statement,
        sort=sort,
        page=page,
        key_of=lambda row: (row.account_number,),
        scalars=False,
        params={"user_id": user_id},
        cache_key=("memberships", shape),
    )
    grants = [Grant.from_row(row) for row in result.rows]
    return Page(grants, result.keys, result.has_next_page, result.has_previous_page)


async def count_memberships(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    statement = _count_statement()
    return int((await session.execute(statement, {"user_id": user_id})).scalar_one())


@cache
def _count_statement() -> Select[Any]:
    """The count of the user's effective memberships, from stored counts.

    Without an owned account that has linked accounts, nothing is inherited and
    nothing superseded: the user's count of memberships, one row however many.
    Otherwise every linked account of an owned parent counts once, whether the
    user also has a membership in it (superseded, or owned directly) or not:
    the user's memberships, minus those in linked accounts of owned parents,
    plus each owned parent's count of linked accounts. That reads the user's
    memberships, not the inherited accounts (an owner of one account with
    100,000 linked ones reads two rows).
    """
    m = Membership.__table__.c  # type: ignore[attr-defined]
    a = Account.__table__.c  # type: ignore[attr-defined]
    owner = Membership.__table__.alias("owner")  # type: ignore[attr-defined]
    user_id = bindparam("user_id", type_=m.user_id.type)
    direct = _membership_count(user_id)
    under_owned_parents = (
        select(func.count())
        .select_from(Membership.__table__.join(Account.__table__, a.id == m.account_id))  # type: ignore[attr-defined]
        .where(m.user_id == user_id, a.parent_id.is_not(None), _owns(a.parent_id))
        .scalar_subquery()
    )
    linked_of_owned = (
        select(func.coalesce(func.sum(a.linked_count), 0))
        .select_from(owner.join(Account.__table__, a.id == owner.c.account_id))  # type: ignore[attr-defined]
        .where(owner.c.user_id == user_id, owner.c.role == Role.OWNER.value, a.linked_count > 0)
        .scalar_subquery()
    )
    effective = direct - under_owned_parents + linked_of_owned
    return select(case((_any_owned_parent(), effective), else_=direct))


@cache
def _memberships_statement(
    forwards: bool, after: bool, before: bool
) -> tuple[Select[Any], SortKey]:
    """The page statement of one shape: each branch of the union walks its own
    index in customer-number order from the cursor and stops after a page
    (the membership's copy of the number for direct ones, the (parent_id,
    number) index for inherited ones); the page is then cut from both."""
    direct, inherited = _branches(False)
    m = Membership.__table__.c  # type: ignore[attr-defined]
    a = Account.__table__.c  # type: ignore[attr-defined]
    shape = {"forwards": forwards, "after": after, "before": before}
    direct = limit_to_page(direct, SortKey(columns=[m.account_number]), **shape)
    inherited = limit_to_page(inherited, SortKey(columns=[a.number]), **shape)
    # No page of inherited rows at all without an owned parent: a LIMIT of 0
    # ends the branch before it starts (as a WHERE condition, SQLite would still
    # walk the accounts by number testing it, for an owner of many accounts
    # without linked ones).
    limit = bindparam("page_limit", type_=Integer())
    inherited = inherited.limit(case((_any_owned_parent(), limit), else_=0))
    effective = union_all(
        select(direct.subquery("direct")), select(inherited.subquery("inherited"))
    ).subquery("effective_memberships")
    return select(effective), SortKey(columns=[effective.c.account_number])


@cache
def _grants_statement() -> Select[Any]:
    return select(_effective_memberships(True))


async def grants_for_accounts(
    session: AsyncSession, *, user_id: uuid.UUID, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Grant]:
    statement = _grants_statement()
    params = {"user_id": user_id, "account_ids": list(account_ids)}
    return {
        (g := Grant.from_row(row)).account_id: g for row in await session.execute(statement, params)
    }


def _reachable_children(parent_ids: Sequence[uuid.UUID] | None, user_id: uuid.UUID) -> Select[Any]:
    """Every child for the parent's owner; otherwise the children with a membership.
    Of `parent_ids`, or of any parent for fetch_first_pages (which filters per parent).

    Written as two EXISTS so that the database walks the (parent_id, number)
    index in order and stops after one page, however many children there are.
    """
    m = Membership.__table__.c  # type: ignore[attr-defined]
    owns_parent = (
        select(m.id)
        .where(
            m.user_id == user_id,
            m.account_id == col(Account.parent_id),
            m.role == Role.OWNER.value,
        )
        .exists()
    )
    member_of_child = (
        select(m.id).where(m.user_id == user_id, m.account_id == col(Account.id)).exists()
    )
    statement = select(Account).where(or_(owns_parent, member_of_child))
    if parent_ids is not None:
        statement = statement.where(col(Account.parent_id).in_(parent_ids))
    return statement


LINKED_ACCOUNTS_ORDER = SortKey(columns=[col(Account.number)])


async def linked_accounts_page(
    session: AsyncSession, *, account_id: uuid.UUID, user_id: uuid.UUID, page: PageRequest
) -> Page[Account]:
    """Linked accounts of `account_id` that `user_id` reaches, by customer number."""
    return await fetch_page(
        session,
        _reachable_children([account_id], user_id),
        sort=LINKED_ACCOUNTS_ORDER,
        page=page,
        key_of=lambda a: (a.number,),
    )


async def linked_accounts_first_pages(
    session: AsyncSession, *, account_ids: Sequence[uuid.UUID], user_id: uuid.UUID, size: int
) -> dict[uuid.UUID, Page[Account]]:
    """The first page of reachable linked accounts of each account, in one statement."""
    return await fetch_first_pages(
        session,
        _reachable_children(None, user_id),
        entity=Account,
        partition_by=col(Account.parent_id),
        parent_ids=account_ids,
        parent_of=lambda a: a.parent_id,
        sort=LINKED_ACCOUNTS_ORDER,
        size=size,
        key_of=lambda a: (a.number,),
    )


async def count_linked_accounts(
    session: AsyncSession, *, account_id: uuid.UUID, user_id: uuid.UUID
) -> int:
    children = _reachable_children([account_id], user_id).subquery()
    return int((await session.execute(select(func.count()).select_from(children))).scalar_one())


async def owners_of_account(session: AsyncSession, *, number: str) -> list[uuid.UUID]:
    """Users with a direct OWNER membership of the account with this customer number."""
    statement = (
        select(col(Membership.user_id))
        .join(Account, col(Account.id) == col(Membership.account_id))
        .where(col(Account.number) == number, col(Membership.role) == Role.OWNER)
    )
    return list((await session.execute(statement)).scalars())


async def keepers_of_accounts(
    session: AsyncSession, *, numbers: Sequence[str] = (), email: str | None = None
) -> list[uuid.UUID]:
    """Who looks after the accounts with these customer numbers, or whose profile
    email or one of whose contacts' emails is this: direct owners, and members
    who manage users. One query whatever matches, so every answer costs the same."""
    matches: list[ColumnElement[bool]] = []
    if numbers:
        matches.append(col(Account.number).in_(list(numbers)))
    if email:
        address = email.strip().lower()
        contact_accounts = select(col(Contact.account_id)).where(
            func.lower(col(Contact.email)) == address
        )
        matches += [
            func.lower(col(Account.email)) == address,
            col(Account.id).in_(contact_accounts),
        ]
    if not matches:
        return []
    statement = (
        select(col(Membership.user_id))
        .join(Account, col(Account.id) == col(Membership.account_id))
        .where(
            or_(*matches),
            or_(
                col(Membership.role) == Role.OWNER,
                type_coerce(col(Membership.permissions), String).contains(
                    Permission.USERS_MANAGE.value
                ),
            ),
        )
        .order_by(col(Membership.created_at))
    )
    return list(dict.fromkeys((await session.execute(statement)).scalars()))


async def grant_membership(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    role: Role,
    permissions: frozenset[Permission],
) -> Membership:
    """Add a membership, or widen an existing one (never narrows it)."""
    # The account's number (copied onto a new membership) in the same statement.
    statement = (
        select(col(Account.number), Membership)
        .outerjoin(
            Membership,
            and_(
                col(Membership.account_id) == col(Account.id),
                col(Membership.user_id) == user_id,
            ),
        )
        .where(col(Account.id) == account_id)
    )
    number, existing = (await session.execute(statement)).one()
    if existing is None:
        existing = Membership(
            user_id=user_id,
            account_id=account_id,
            account_number=number,
            role=role,
            permissions=frozenset() if role is Role.OWNER else permissions,
        )
        session.add(existing)
    elif existing.role is not Role.OWNER:
        if role is Role.OWNER:
            existing.role, existing.permissions = Role.OWNER, frozenset()
        else:
            existing.permissions = existing.permissions | permissions
    await session.flush()
    return existing


def _members(account_id: uuid.UUID) -> Any:
    return (
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(col(Membership.account_id) == account_id)
    )


MEMBERS_ORDER = SortKey(columns=[col(User.email)])


async def members_page(
    session: AsyncSession, *, account_id: uuid.UUID, page: PageRequest
) -> Page[tuple[Membership, User]]:
    """The account's direct memberships with their users, by email."""
    found = await fetch_page(
        session,
        _members(account_id),
        sort=MEMBERS_ORDER,
        page=page,
        key_of=lambda row: (row[1].email,),
        scalars=False,
    )
    rows = [(row[0], row[1]) for row in found.rows]
    return Page(rows, found.keys, found.has_next_page, found.has_previous_page)


async def count_members(session: AsyncSession, *, account_id: uuid.UUID) -> int:
    statement = select(func.count()).where(col(Membership.account_id) == account_id)
    return int((await session.execute(statement)).scalar_one())


async def member_in_account(
    session: AsyncSession, *, account_id: uuid.UUID, membership_id: uuid.UUID
) -> tuple[Membership, User] | None:
    row = (
        await session.execute(_members(account_id).where(col(Membership.id) == membership_id))
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def account_of_membership(
    session: AsyncSession, membership_id: uuid.UUID
) -> uuid.UUID | None:
    statement = select(col(Membership.account_id)).where(col(Membership.id) == membership_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def count_owners(session: AsyncSession, *, account_id: uuid.UUID) -> int:
    statement = select(func.count()).where(
        col(Membership.account_id) == account_id, col(Membership.role) == Role.OWNER
    )
    return int((await session.execute(statement)).scalar_one())


async def direct_membership(
    session: AsyncSession, *, account_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    statement = select(Membership).where(
        col(Membership.account_id) == account_id, col(Membership.user_id) == user_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def members_with_email(session: AsyncSession, *, account_id: uuid.UUID, email: str) -> bool:
    """Whether the login with this email already has a direct membership here."""
    statement = (
        select(col(Membership.id))
        .join(User, col(User.id) == col(Membership.user_id))
        .where(col(Membership.account_id) == account_id, col(User.email) == email)
    )
    return (await session.execute(statement)).first() is not None


@dataclass(frozen=True)
class LinkedScope:
    """An API client allowed its account's linked accounts: there it holds its
    own permissions narrowed to what its creator holds on each one."""

    account_id: uuid.UUID  # the client's own account, the parent
    creator_id: uuid.UUID
    permissions: frozenset[Permission]


async def linked_grants(
    session: AsyncSession, *, scope: LinkedScope, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Grant]:
    """The client's grants on those of `account_ids` linked under its account
    that its creator reaches (none for any other account)."""
    children = select(col(Account.id)).where(
        col(Account.parent_id) == scope.account_id, col(Account.id).in_(list(account_ids))
    )
    linked = list((await session.execute(children)).scalars())
    if not linked:
        return {}
    creator = await grants_for_accounts(session, user_id=scope.creator_id, account_ids=linked)
    return {
        account_id: Grant(
            account_id=account_id,
            account_number=grant.account_number,
            role=Role.MEMBER,
            permissions=grant.permissions & scope.permissions,
            inherited=True,
            suspended=grant.suspended,
        )
        for account_id, grant in creator.items()
    }


async def reachable_linked_account_ids(
    session: AsyncSession, *, account_id: uuid.UUID, user_id: uuid.UUID
) -> list[uuid.UUID]:
    """Every linked account of `account_id` that `user_id` reaches."""
    children = _reachable_children([account_id], user_id).with_only_columns(col(Account.id))
    return list((await session.execute(children)).scalars())


@cache
def reachable_account_ids() -> Select[Any]:
    """Ids of the accounts the `user_id` parameter reaches with access on
    (direct memberships and linked accounts of owned ones), as a subquery."""
    effective = _effective_memberships(False)
    return select(effective.c.account_id).where(not_(effective.c.suspended))
