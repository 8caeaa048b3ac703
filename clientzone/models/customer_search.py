"""Finding a customer for support: by customer number, email (of the account,
a contact or a login), tax id, phone, or a piece of the name.

Every exact kind is an indexed equality (ix_accounts_email, _tax_id, _phone,
_mobile_phone, ix_contacts_email, _phone, users.email, the membership's
user index), so a number, email, tax id or phone finds its accounts without
reading the others. A name piece (three characters or more, with a letter) is
a case-insensitive substring of the name or company name: it reads accounts
in number order until a page is full, so a common word answers at once and a
rare one reads further (bench/README.md has the numbers).
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


def _customers(text: str) -> Any:
    search = text.strip()[:MAX_SEARCH]
    conditions: list[Any] = []
    if "@" in search:
        email = search.lower()
        conditions += [
            col(Account.email) == email,
            col(Account.id).in_(select(col(Contact.account_id)).where(col(Contact.email) == email)),
            col(Account.id).in_(
                select(col(Membership.account_id))
                .join(User, col(User.id) == col(Membership.user_id))
                .where(col(User.email) == email)
            ),
        ]
    elif search:
        conditions += [
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
        if len(search) >= MIN_NAME_PIECE and any(c.isalpha() for c in search):
            needle = search.lower()
            conditions += [
                func.lower(col(Account.name)).contains(needle, autoescape=True),
                func.lower(col(Account.company_name)).contains(needle, autoescape=True),
            ]
    if not conditions:
        return select(Account).where(col(Account.id).is_(None))
    return select(Account).where(or_(*conditions))


async def search_customers(session: AsyncSession, text: str, page: PageRequest) -> Page[Account]:
    """Matching accounts in customer-number order."""
    return await fetch_page(
        session, _customers(text), sort=CUSTOMER_ORDER, page=page, key_of=lambda a: (a.number,)
    )


async def count_customers(session: AsyncSession, text: str) -> int:
    subquery = _customers(text).subquery()
    return int((await session.execute(select(func.count()).select_from(subquery))).scalar_one())
