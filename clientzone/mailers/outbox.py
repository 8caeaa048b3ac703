"""Putting emails in the outbox, inside the caller's transaction.

Two kinds of message:

- account notifications (`notify_account`): to the account's email plus every
  active contact opted into the message's category, each address once; they
  appear among the account's emails;
- login messages (`notify_user`): codes, links, security notices, only to the
  person concerned, never to contacts, never listed among an account's emails.

Enqueueing validates addresses and renders the templates; either failing raises
`OutboxError`, so the caller's transaction (and its change) is rolled back.
A message that carries a one-time link or code is given `carries_token`: its
hash is kept with the message, so a retry after an outage can tell whether
the link still works (mailers/retry.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from email.utils import make_msgid
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.brands import Brand, brand_of
from clientzone.config import Settings
from clientzone.core.tokens import hash_token
from clientzone.mailers.templates import render
from clientzone.models.accounts import Account
from clientzone.models.contacts import EmailCategory, contact_emails_for_category
from clientzone.models.mail import EmailMessage
from clientzone.models.users import Locale, User

logger = logging.getLogger("clientzone.mail")


class OutboxError(Exception):
    """A message that cannot be enqueued: bad address, template error, no recipient."""


def normalized_recipients(addresses: Iterable[str]) -> list[str]:
    """Validated addresses, each once (case-insensitively), in the given order."""
    seen: set[str] = set()
    result: list[str] = []
    for address in addresses:
        try:
            normalized = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise OutboxError(f"invalid recipient address {address!r}: {exc}") from None
        if normalized.lower() not in seen:
            seen.add(normalized.lower())
            result.append(normalized)
    return result


def _message(
    brand: Brand,
    *,
    template: str,
    locale: Locale,
    recipients: list[str],
    variables: dict[str, Any],
    category: EmailCategory | None,
    account_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    carries_token: str | None = None,
    unsubscribable: list[str] | None = None,
) -> EmailMessage:
    if not recipients:
        raise OutboxError(f"message {template!r} has no recipient")
    try:
        rendered = render(
            template,
            locale,
            brand,
            preferences_link=category is not None,
            **variables,
        )
    except TemplateError as exc:
        raise OutboxError(f"message {template!r} ({locale.value}) does not render: {exc}") from exc
    domain = brand.from_address.rpartition("@")[2] or "localhost"
    # The default brand's sender is the settings' at sending time (None here).
    sender = None if brand.is_default else brand
    return EmailMessage(
        from_name=sender.from_name if sender else None,
        from_address=sender.from_address if sender else None,
        reply_to=sender.reply_to if sender else None,
        category=category,
        account_id=account_id,
        user_id=user_id,
        recipients=recipients,
        unsubscribable=unsubscribable or [],
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        template=template,
        locale=locale,
        message_id=make_msgid(idstring=uuid.uuid4().hex, domain=domain),
        token_hash=hash_token(carries_token) if carries_token else None,
    )


async def notify_user(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    template: str,
    to: str | None = None,
    carries_token: str | None = None,
    **variables: Any,
) -> EmailMessage:
    """A login message to `user` alone (at `to`, an address being verified, or
    else the login email), in the user's language, with the default brand."""
    message = _message(
        Brand.from_settings(settings),
        template=template,
        locale=user.locale,
        recipients=normalized_recipients([to or user.email]),
        variables={"user": user, **variables},
        category=None,
        account_id=None,
        user_id=user.id,
        carries_token=carries_token,
    )
    session.add(message)
    return message


async def notify_address(
    session: AsyncSession,
    settings: Settings,
    *,
    to: str,
    locale: Locale,
    template: str,
    carries_token: str | None = None,
    **variables: Any,
) -> EmailMessage:
    """A message to someone without a login yet (an invitation). It is not
    listed among any account's emails: it carries a link meant for them only.
    With an `account` among the variables (an invitation to it), the account's
    brand; else the default brand."""
    account = variables.get("account")
    brand = await brand_of(session, settings, account if isinstance(account, Account) else None)
    message = _message(
        brand,
        template=template,
        locale=locale,
        recipients=normalized_recipients([to]),
        variables=variables,
        category=None,
        account_id=None,
        user_id=None,
        carries_token=carries_token,
    )
    session.add(message)
    return message


async def notify_account(
    session: AsyncSession,
    settings: Settings,
    *,
    account: Account,
    category: EmailCategory,
    template: str,
    also_to: Iterable[str] = (),
    **variables: Any,
) -> EmailMessage | None:
    """An account notification, in the account's language, routed by category
    (plus `also_to`, e.g. the person who opened a case); None when nobody is
    to be told, which must not stop the change. Addresses bouncing (the
    account's email, contacts) are left out."""
    return await _account_message(
        session, settings, account, category, template, also_to, False, variables
    )


async def notify_contacts(
    session: AsyncSession,
    settings: Settings,
    *,
    account: Account,
    category: EmailCategory,
    template: str,
    **variables: Any,
) -> EmailMessage | None:
    """Like notify_account, but only to the contacts opted into `category`,
    not the account's own address (news: only those who chose it get it)."""
    return await _account_message(
        session, settings, account, category, template, (), True, variables
    )


async def _account_message(
    session: AsyncSession,
    settings: Settings,
    account: Account,
    category: EmailCategory,
    template: str,
    also_to: Iterable[str],
    contacts_only: bool,
    variables: dict[str, Any],
) -> EmailMessage | None:
    contacts = await contact_emails_for_category(session, account_id=account.id, category=category)
    own = (
        [account.email]
        if account.email and not contacts_only and not account.email_bouncing
        else []
    )
    recipients = normalized_recipients(own)
    unsubscribable: list[str] = []  # contacts, who choose their categories
    for position, address in enumerate([*contacts, *also_to]):
        # One contact's bad address must not stop the account's mail (nor the
        # change that sends it): skip it and say so.
        known = len(recipients)
        try:
            recipients = normalized_recipients([*recipients, address])
        except OutboxError as exc:
            logger.warning("account %s: contact skipped: %s", account.number, exc)
            continue
        if position < len(contacts) and len(recipients) > known:
            unsubscribable.append(recipients[-1])
    if not recipients:
        logger.info("account %s: nobody receives %s mail", account.number, category.value)
        return None
    message = _message(
        await brand_of(session, settings, account),
        template=template,
        locale=account.locale,
        recipients=recipients,
        variables={"account": account, **variables},
        category=category,
        account_id=account.id,
        user_id=None,
        unsubscribable=unsubscribable,
    )
    session.add(message)
    return message
