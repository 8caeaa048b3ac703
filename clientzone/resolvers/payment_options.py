"""Which payment buttons the portal shows, and why (INVOICES_VIEW).

The source portal's rules, exactly:
- online payment only when the most recent invoice's document type allows
  online payment AND 0 < balance < the limit (the account's own, set by
  billing staff, else the one for its currency);
- "pay in advance" only when nothing is due (balance <= 0) or the balance is
  above that limit.
Every rule that says no is listed, so the front end can explain it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from stdnum.iso7064 import mod_97_10

from clientzone.auth.context import Context
from clientzone.config import BankAccount, Settings
from clientzone.core.money import to_minor
from clientzone.models import invoices
from clientzone.models.accounts import Account
from clientzone.payments.gateway import unavailable
from clientzone.resolvers.ledger import balance


class PaymentRule(StrEnum):
    NO_INVOICE = "NO_INVOICE"
    DOCUMENT_TYPE_NOT_PAYABLE_ONLINE = "DOCUMENT_TYPE_NOT_PAYABLE_ONLINE"
    NO_BALANCE_DUE = "NO_BALANCE_DUE"
    BALANCE_NOT_BELOW_LIMIT = "BALANCE_NOT_BELOW_LIMIT"
    NO_LIMIT_FOR_CURRENCY = "NO_LIMIT_FOR_CURRENCY"
    BALANCE_DUE_WITHIN_LIMIT = "BALANCE_DUE_WITHIN_LIMIT"
    # No provider takes the account's currency, or its keys are not configured.
    NO_PROVIDER_FOR_CURRENCY = "NO_PROVIDER_FOR_CURRENCY"
    PROVIDER_NOT_CONFIGURED = "PROVIDER_NOT_CONFIGURED"


@dataclass(frozen=True)
class PaymentOptions:
    balance_minor: int
    limit_minor: int | None
    online_reasons: list[PaymentRule]  # empty: offered
    advance_reasons: list[PaymentRule]  # empty: offered
    latest_document_type: str | None


def decide(
    *, balance_minor: int, limit_minor: int | None, latest_allows_online: bool | None
) -> tuple[list[PaymentRule], list[PaymentRule]]:
    """The rules that refuse online payment and paying in advance (pure, tested by table)."""
    online: list[PaymentRule] = []
    if latest_allows_online is None:
        online.append(PaymentRule.NO_INVOICE)
    elif not latest_allows_online:
        online.append(PaymentRule.DOCUMENT_TYPE_NOT_PAYABLE_ONLINE)
    if balance_minor <= 0:
        online.append(PaymentRule.NO_BALANCE_DUE)
    if limit_minor is None:
        online.append(PaymentRule.NO_LIMIT_FOR_CURRENCY)
    elif balance_minor >= limit_minor:
        online.append(PaymentRule.BALANCE_NOT_BELOW_LIMIT)
    above_limit = limit_minor is not None and balance_minor > limit_minor
    advance = [] if balance_minor <= 0 or above_limit else [PaymentRule.BALANCE_DUE_WITHIN_LIMIT]
    return online, advance


def online_limit_minor(ctx: Context, account: Account) -> int | None:
    """The account's own limit (set by billing staff), else its currency's."""
    if account.online_payment_limit_minor is not None:
        return account.online_payment_limit_minor
    limit = ctx.settings.payment_online_limits.get(account.currency)
    return to_minor(limit, account.currency) if limit is not None else None


async def payment_options(
    ctx: Context, account: Account, *, balance_minor: int | None = None
) -> PaymentOptions:
    """`balance_minor`: the balance just read under the account's lock (a
    payment being started), instead of the request's cached one."""
    owed = await balance(ctx, account) if balance_minor is None else balance_minor
    limit_minor = online_limit_minor(ctx, account)
    async with ctx.db.read() as session:
        latest = await invoices.latest_invoice(session, account_id=account.id)
    kind = await ctx.loaders.document_type.load(latest.document_type) if latest else None
    online, advance = decide(
        balance_minor=owed,
        limit_minor=limit_minor,
        latest_allows_online=kind.allows_online_payment if kind else None,
    )
    # Both options are paid through the provider of the account's currency.
    if (missing := unavailable(ctx.settings, account.currency)) is not None:
        online.append(PaymentRule(missing.value))
        advance.append(PaymentRule(missing.value))
    return PaymentOptions(
        balance_minor=owed,
        limit_minor=limit_minor,
        online_reasons=online,
        advance_reasons=advance,
        latest_document_type=latest.document_type if latest else None,
    )


@dataclass(frozen=True)
class BankTransfer:
    accounts: list[BankAccount]
    reference: str


def _compact(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def transfer_reference(account: Account) -> str:
    """The reference the customer quotes in a transfer: the customer number
    and two ISO 7064 check digits, so a mistyped one is recognised when staff
    match it."""
    return f"{account.number}-{mod_97_10.calc_check_digits(_compact(account.number))}"


def quotes_transfer_reference(reported: str | None, account: Account) -> bool:
    """Whether what the customer reported carries the account's reference,
    check digits included (spaces, dashes and case aside)."""
    return bool(reported) and _compact(transfer_reference(account)) in _compact(reported or "")


def bank_transfer(settings: Settings, account: Account) -> BankTransfer:
    """The company's accounts in the account's currency, and the reference to quote."""
    return BankTransfer(
        accounts=[b for b in settings.bank_accounts if b.currency == account.currency],
        reference=transfer_reference(account),
    )
