"""Finding a customer for support: by customer number, email (of the account,
a contact or a login), tax id, phone, or a piece of the name.

Every exact kind is an indexed equality (ix_accounts_email, _tax_id, _phone,
_mobile_phone, ix_contacts_email, _phone, users.email, the membership's
user index), and they are tried first: a number, email, tax id or phone finds
its accounts without reading the others. Only when none matches is the text
taken as a piece of the name (three characters or more, with a letter): a
case-insensitive substring of the name or company name, answered on
PostgreSQL by trigram indexes (pg_trgm); SQLite reads accounts in number
order until a page is full (bench/README.md has the numbers).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from stdnum.ar import cuit

from clientzone.core import validators
from clientzone.models.accounts import Account
from clientzone.models.contacts import Contact
from clientzone.models.memberships import Membership
from clientzone.models.pagination import Page, PageRequest, SortKey, fetch_page
from clientzone.models.users import User

PHONE_REGIONS = ("MX", "AR", "ES")
MIN_NAME_PIECE = 3
MAX_SEARCH = 200

CUSTOMER_ORDER = SortKey(columns=[col(Account.number)])


def _phones(text: str) -> set[str]:
    if not re.fullmatch(r"[+\d\s\-().]{7,}", text):
        return set()
    regions: tuple[str | None, ...] = (None,) if text.startswith("+") else PHONE_REGIONS
    return {p for region in regions if (p := validators.phone(text, region))}


def _tax_ids(text: str) -> set[str]:
    upper = text.upper()
    compact = re.sub(r"[\s\-./]", "", upper)
    found = {upper, compact}
    if compact.isdigit() and cuit.is_valid(compact):
        found.add(cuit.format(compact))
    return found


def _exact(search: str) -> Any:
    """The ids of accounts an exact kind finds: one indexed lookup per kind,
    joined by UNION (an OR of them would make PostgreSQL scan every account)."""
    account_id = col(Account.id)
    if "@" in search:
        email = search.lower()
        return union(
            select(account_id).where(col(Account.email) == email),
            select(col(Contact.account_id)).where(col(Contact.email) == email),
            select(col(Membership.account_id))
            .join(User, col(User.id) == col(Membership.user_id))
            .where(col(User.email) == email),
        )
    lookups = [
        select(account_id).where(col(Account.number).in_({search, search.upper()})),
        select(account_id).where(col(Account.tax_id).in_(_tax_ids(search))),
    ]
    phones = _phones(search)
    if phones:
        lookups += [
            select(account_id).where(col(Account.phone).in_(phones)),
            select(account_id).where(col(Account.mobile_phone).in_(phones)),
            select(col(Contact.account_id)).where(col(Contact.phone).in_(phones)),
        ]
    return union(*lookups)


def _name_piece(search: str) -> list[Any]:
    if "@" in search or len(search) < MIN_NAME_PIECE or not any(c.isalpha() for c in search):
        return []
    needle = search.lower()
    return [
        func.lower(col(Account.name)).contains(needle, autoescape=True),
        func.lower(col(Account.company_name)).contains(needle, autoescape=True),
    ]


NOTHING = select(Account).where(col(Account.id).is_(None))


async def _customers(session: AsyncSession, text: str) -> Any:
    """The exact kinds when they find anything (a customer number is also
    three letters or more, but a name search would read every account);
    else the accounts whose name carries the text."""
    search = text.strip()[:MAX_SEARCH]
    if not search:
        return NOTHING
    found = _exact(search).subquery()
    if (await session.execute(select(found).limit(1))).first() is not None:
        return select(Account).where(col(Account.id).in_(select(found)))
    piece = _name_piece(search)
    return select(Account).where(or_(*piece)) if piece else NOTHING


async def search_customers(session: AsyncSession, text: str, page: PageRequest) -> Page[Account]:
    """Matching accounts in customer-number order."""
    return await fetch_page(
        session,
        await _customers(session, text),
        sort=CUSTOMER_ORDER,
        page=page,
        key_of=lambda a: (a.number,),
    )


async def count_customers(session: AsyncSession, text: str) -> int:
    subquery = (await _customers(session, text)).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())
