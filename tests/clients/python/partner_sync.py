"""A partner's job written against the generated client (clientzone_client):
every answer is a pydantic model, so mypy knows each field's type."""

from __future__ import annotations

from decimal import Decimal

from clientzone_client import Client, CreateContactInput, EmailCategory


async def overdue_by_account(client: Client) -> dict[str, Decimal]:
    """What each reachable account owes in overdue invoices."""
    screen = await client.first_screen()
    assert screen.viewer is not None
    owed: dict[str, Decimal] = {}
    for membership in screen.viewer.memberships.nodes:
        answer = await client.balance(account_id=membership.account.id)
        if answer.account is None:
            continue
        owed[answer.account.number] = sum(
            (invoice.balance_due.amount for invoice in answer.account.invoices.nodes),
            Decimal(0),
        )
    return owed


async def add_billing_contact(client: Client, email: str) -> list[str]:
    """The new contact's categories, or the codes of what was wrong."""
    answer = await client.add_contact(
        input=CreateContactInput(
            firstName="Cuentas", email=email, categories=[EmailCategory.INVOICES]
        )
    )
    payload = answer.create_contact
    if payload.user_errors:
        return [error.code.value for error in payload.user_errors]
    assert payload.contact is not None
    return [category.value for category in payload.contact.categories]
