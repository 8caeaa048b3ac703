"""Contacts: the source portal's form, email unique per account, filters, and
the categories that decide who receives which email."""

from __future__ import annotations

from typing import Any

from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.contacts import EmailCategory
from tests.conftest import Portal
from tests.helpers import gid
from tests.smtp_server import SmtpServer

FIELDS = "id firstName lastName company email phone city country active categories"
CREATE = f"""
mutation($input: CreateContactInput!) {{
  createContact(input: $input) {{ contact {{ {FIELDS} }} userErrors {{ field code message }} }}
}}
"""
UPDATE = f"""
mutation($input: UpdateContactInput!) {{
  updateContact(input: $input) {{ contact {{ {FIELDS} }} userErrors {{ field code message }} }}
}}
"""
DELETE = """
mutation($id: ID!) { deleteContact(input: {contactId: $id}) { deletedContactId } }
"""
LIST = """
query($id: ID, $filter: ContactFilterInput, $first: Int) {
  account(id: $id) {
    contacts(filter: $filter, first: $first) {
      totalCount nodes { email } pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _create(portal: Portal, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"accountId": gid("Account", portal.parent.id), **fields}}
    payload: dict[str, Any] = (await portal.owner.data(CREATE, variables))["createContact"]
    return payload


async def test_create_update_and_delete_a_contact(portal: Portal) -> None:
    created = await _create(
        portal,
        firstName="Rosa",
        lastName="Méndez",
        company="Obras del Norte",
        email="Rosa@Example.com",
        phone="81 1234 5678",
        city="Monterrey",
        country="mx",
        categories=["INVOICES", "GENERAL"],
    )
    assert created["userErrors"] == []
    contact = created["contact"]
    assert contact["email"] == "rosa@example.com"
    assert contact["phone"] == "+528112345678"
    assert contact["country"] == "MX"
    assert contact["categories"] == ["GENERAL", "INVOICES"]
    assert contact["active"] is True
    updated = await portal.owner.data(
        UPDATE, {"input": {"contactId": contact["id"], "active": False, "company": ""}}
    )
    assert updated["updateContact"]["userErrors"] == []
    assert updated["updateContact"]["contact"]["active"] is False
    assert updated["updateContact"]["contact"]["company"] is None
    assert updated["updateContact"]["contact"]["firstName"] == "Rosa"
    deleted = await portal.owner.data(DELETE, {"id": contact["id"]})
    assert deleted["deleteContact"]["deletedContactId"] == contact["id"]
    assert await portal.owner.error_codes(DELETE, {"id": contact["id"]}) == ["NOT_FOUND"]
    history = await portal.owner.data(
        "query($id: ID) { account(id: $id) { activity { nodes { action target } } } }",
        {"id": gid("Account", portal.parent.id)},
    )
    assert history["account"]["activity"]["nodes"] == [
        {"action": "CONTACT_DELETED", "target": "rosa@example.com"},
        {"action": "CONTACT_UPDATED", "target": "rosa@example.com"},
        {"action": "CONTACT_CREATED", "target": "rosa@example.com"},
    ]


async def test_bad_contact_input_gets_an_error_per_field(portal: Portal) -> None:
    payload = await _create(portal, firstName=" ", email="rosa@", phone="1", country="ZZ")
    assert payload["contact"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("firstName", "REQUIRED"),
        ("email", "INVALID_EMAIL"),
        ("phone", "INVALID_PHONE"),
        ("country", "INVALID_COUNTRY"),
    ]
    missing = await _create(portal)
    assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [
        ("firstName", "REQUIRED"),
        ("email", "REQUIRED"),
    ]


async def test_an_email_appears_once_per_account(portal: Portal) -> None:
    await _create(portal, firstName="Rosa", email="rosa@example.com")
    again = await _create(portal, firstName="Otra", email="ROSA@example.com")
    assert again["userErrors"] == [
        {
            "field": "email",
            "code": "EMAIL_TAKEN",
            "message": "Esta cuenta ya tiene un contacto con ese email.",
        }
    ]
    # Another account may have the same person.
    other = await portal.owner.data(
        CREATE,
        {
            "input": {
                "accountId": gid("Account", portal.other.id),
                "firstName": "Rosa",
                "email": "rosa@example.com",
            }
        },
    )
    assert other["createContact"]["userErrors"] == []


async def test_contacts_filter_by_active_category_and_search(portal: Portal) -> None:
    await _create(
        portal, firstName="Ana", lastName="Zeta", email="a@example.com", categories=["INVOICES"]
    )
    await _create(
        portal,
        firstName="Beto",
        lastName="Alba",
        email="b@obra.mx",
        categories=["SUPPORT"],
        company="Constructora Norte",
    )
    await _create(
        portal,
        firstName="Caro",
        lastName="Mora",
        email="c@example.com",
        categories=["INVOICES", "SUPPORT"],
        active=False,
    )
    account = gid("Account", portal.parent.id)

    async def emails(**filter_: Any) -> list[str]:
        data = await portal.owner.data(LIST, {"id": account, "filter": filter_})
        return [n["email"] for n in data["account"]["contacts"]["nodes"]]

    assert await emails() == ["b@obra.mx", "c@example.com", "a@example.com"]  # by last name
    assert await emails(active=True) == ["b@obra.mx", "a@example.com"]
    assert await emails(category="INVOICES") == ["c@example.com", "a@example.com"]
    assert await emails(search="NORTE") == ["b@obra.mx"]
    assert await emails(search="example") == ["c@example.com", "a@example.com"]
    assert await emails(search="%") == []
    page = await portal.owner.data(LIST, {"id": account, "first": 2})
    assert page["account"]["contacts"]["totalCount"] == 3
    assert page["account"]["contacts"]["pageInfo"]["hasNextPage"] is True


async def test_categories_decide_who_receives_a_message(
    portal: Portal,
    database: Database,
    mail_settings: Any,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
) -> None:
    await _create(
        portal, firstName="Facturas", email="facturas@example.com", categories=["INVOICES"]
    )
    await _create(
        portal, firstName="Soporte", email="soporte@example.com", categories=["SUPPORT", "GENERAL"]
    )
    await _create(
        portal, firstName="Baja", email="baja@example.com", categories=["INVOICES"], active=False
    )
    from clientzone.mailers.outbox import notify_account

    async with database.session() as session, session.begin():
        for category in (EmailCategory.INVOICES, EmailCategory.SUPPORT):
            await notify_account(
                session,
                mail_settings,
                account=portal.parent,
                category=category,
                template="account_notice",
                title=f"Aviso {category.value}",
                body="Texto.",
            )
    await mail_worker.drain()
    by_subject = {m.message["Subject"].split(" · ")[0]: m.recipients for m in smtp_server.received}
    assert by_subject == {
        "Aviso INVOICES": ["facturas@example.com"],
        "Aviso SUPPORT": ["soporte@example.com"],
    }
