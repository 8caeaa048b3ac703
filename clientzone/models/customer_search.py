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

from sqlalchemy import func, or_, select
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


def _exact(search: str) -> list[Any]:
    """Conditions for the kinds that are an indexed equality."""
    if "@" in search:
        email = search.lower()
        return [
            col(Account.email) == email,
            col(Account.id).in_(select(col(Contact.account_id)).where(col(Contact.email) == email)),
            col(Account.id).in_(
                select(col(Membership.account_id))
                .join(User, col(User.id) == col(Membership.user_id))
                .where(col(User.email) == email)
            ),
        ]
    conditions = [
        col(Account.number).in_({search, search.upper()}),
        col(Account.tax_id).in_(_tax_ids(search)),
    ]
    phones = _phones(search)
    if phones:
        conditions += [
            col(Account.phone).in_(phones),
            col(Account.mobile_phone).in_(phones),
            col(Account.id).in_(
                select(col(Contact.account_id)).where(col(Contact.phone).in_(phones))
            ),
        ]
    return conditions


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
    exact = select(Account).where(or_(*_exact(search)))
    probe = select(col(Account.id)).where(or_(*_exact(search))).limit(1)
    if (await session.execute(probe)).first() is not None:
        return exact
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
