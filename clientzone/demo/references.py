"""`<ID of KIND KEY>` placeholders in example variables, looked up by name.

The documentation's and the explorer's example operations name the objects
they act on the way a person would (`<ID of invoice F-100200-024>`) instead of
an ID that exists on one install only. `fill_references` replaces each such
string with the object's global ID where the object exists (on the demo data
they all do) and leaves it as it is otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.core.ids import encode_global_id
from clientzone.models.accounts import Account
from clientzone.models.announcements import Announcement
from clientzone.models.cases import Case, CaseCategory, CaseSubcategory
from clientzone.models.contacts import Contact
from clientzone.models.invitations import Invitation
from clientzone.models.invoices import Invoice
from clientzone.models.memberships import Membership
from clientzone.models.orders import Order, Service
from clientzone.models.sessions import AuthSession
from clientzone.models.users import User

REFERENCE = re.compile(r"^<ID of ([a-z]+) ([^<>]+)>$")


def _member(key: str) -> Select[Any]:
    # "luis.perez@example.com in MX-100200"
    email, _, number = key.partition(" in ")
    return (
        select(col(Membership.id))
        .join(User, col(User.id) == col(Membership.user_id))
        .join(Account, col(Account.id) == col(Membership.account_id))
        .where(col(User.email) == email, col(Account.number) == number)
    )


def _session(key: str) -> Select[Any]:
    # "demo token of ana.garcia@example.com": the newest live one
    email = key.removeprefix("demo token of ")
    return (
        select(col(AuthSession.id))
        .join(User, col(User.id) == col(AuthSession.user_id))
        .where(
            col(User.email) == email,
            col(AuthSession.label) == "demo",
            col(AuthSession.revoked_at).is_(None),
        )
        .order_by(col(AuthSession.created_at).desc())
    )


def _case(key: str) -> Select[Any]:
    number = int(key.removeprefix("CS-")) if key.removeprefix("CS-").isdigit() else -1
    return select(col(Case.id)).where(col(Case.number) == number)


# kind -> (GraphQL type, the query for the row id)
LOOKUPS: dict[str, tuple[str, Callable[[str], Select[Any]]]] = {
    "account": ("Account", lambda key: select(col(Account.id)).where(col(Account.number) == key)),
    "invoice": ("Invoice", lambda key: select(col(Invoice.id)).where(col(Invoice.number) == key)),
    "order": ("Order", lambda key: select(col(Order.id)).where(col(Order.number) == key)),
    "service": ("Service", lambda key: select(col(Service.id)).where(col(Service.name) == key)),
    "case": ("Case", _case),
    "category": (
        "CaseCategory",
        lambda key: select(col(CaseCategory.id)).where(col(CaseCategory.code) == key),
    ),
    "subcategory": (
        "CaseSubcategory",
        lambda key: select(col(CaseSubcategory.id)).where(col(CaseSubcategory.code) == key),
    ),
    "contact": ("Contact", lambda key: select(col(Contact.id)).where(col(Contact.email) == key)),
    "invitation": (
        "Invitation",
        lambda key: select(col(Invitation.id)).where(col(Invitation.email) == key),
    ),
    "member": ("Member", _member),
    "announcement": (
        "Announcement",
        lambda key: select(col(Announcement.id)).where(col(Announcement.title_es) == key),
    ),
    "session": ("Session", _session),
}


async def reference_id(session: AsyncSession, text: str) -> str | None:
    """The global ID a `<ID of KIND KEY>` string names, or None."""
    match = REFERENCE.match(text)
    if match is None or match.group(1) not in LOOKUPS:
        return None
    type_name, query = LOOKUPS[match.group(1)]
    row_id = (await session.execute(query(match.group(2)).limit(1))).scalar_one_or_none()
    return None if row_id is None else encode_global_id(type_name, row_id)


async def fill_references(session: AsyncSession, value: Any) -> Any:
    """`value` (JSON) with every placeholder that names an existing object replaced."""
    if isinstance(value, str):
        return await reference_id(session, value) or value
    if isinstance(value, list):
        return [await fill_references(session, item) for item in value]
    if isinstance(value, dict):
        return {key: await fill_references(session, item) for key, item in value.items()}
    return value
