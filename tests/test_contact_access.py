"""A contact who can sign in (grantContactAccess): their email is invited as a
member, and the contact shows where that access stands."""

from __future__ import annotations

from typing import Any

from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.contacts import Contact
from tests.conftest import Portal
from tests.helpers import PASSWORD, GraphQLClient, gid, http_client, link_token
from tests.smtp_server import SmtpServer

GRANT = """
mutation($input: GrantContactAccessInput!) {
  grantContactAccess(input: $input) {
    contact { email access { status member { email status } invitation { email status } } }
    userErrors { field code message }
  }
}
"""
ACCEPT = """
mutation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { accountId userErrors { code } }
}
"""
CONTACTS = """
query($id: ID!) {
  account(id: $id) { contacts { nodes { email access { status member { email } } } } }
}
"""
SET_ACCESS = """
mutation($input: SetMemberAccessInput!) {
  setMemberAccess(input: $input) { userErrors { code } }
}
"""


async def _contact(database: Database, portal: Portal, email: str) -> Contact:
    row = Contact(account_id=portal.parent.id, first_name="Rosa", email=email)
    async with database.session() as session, session.begin():
        session.add(row)
    return row


async def _grant(client: GraphQLClient, contact: Contact, permissions: list[str]) -> Any:
    variables = {"input": {"contactId": gid("Contact", contact.id), "permissions": permissions}}
    return (await client.data(GRANT, variables, {"Accept-Language": "en"}))["grantContactAccess"]


async def test_a_contact_is_invited_signs_in_and_can_be_suspended(
    app: Any, portal: Portal, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    rosa = await _contact(database, portal, "Rosa@Obra.mx")
    granted = await _grant(portal.owner, rosa, ["CASES_VIEW"])
    assert granted == {
        "contact": {
            "email": "Rosa@Obra.mx",
            "access": {
                "status": "INVITED",
                "member": None,
                "invitation": {"email": "rosa@obra.mx", "status": "PENDING"},
            },
        },
        "userErrors": [],
    }
    again = await _grant(portal.owner, rosa, ["CASES_VIEW"])
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [
        ("contactId", "ALREADY_INVITED")
    ]
    await mail_worker.drain()
    [email] = smtp_server.received
    assert email.recipients == ["rosa@obra.mx"]
    token = link_token(email.text, "accept-invitation")
    async with http_client(app) as http:
        rosa_client = GraphQLClient(http)
        accepted = await rosa_client.data(
            ACCEPT,
            {
                "input": {
                    "token": token,
                    "password": PASSWORD,
                    "firstName": "Rosa",
                    "lastName": "Méndez",
                }
            },
        )
        assert accepted["acceptInvitation"]["userErrors"] == []
        account = gid("Account", portal.parent.id)
        listed = await portal.owner.data(CONTACTS, {"id": account})
        nodes = listed["account"]["contacts"]["nodes"]
        assert {
            "email": "Rosa@Obra.mx",
            "access": {"status": "ACTIVE", "member": {"email": "rosa@obra.mx"}},
        } in nodes
        # Switching the member off shows on the contact and stops their access.
        members = await portal.owner.data(
            "query($id: ID!) { account(id: $id) { members { nodes { id email } } } }",
            {"id": account},
        )
        member_id = next(
            m["id"] for m in members["account"]["members"]["nodes"] if m["email"] == "rosa@obra.mx"
        )
        off = await portal.owner.data(
            SET_ACCESS, {"input": {"memberId": member_id, "enabled": False}}
        )
        assert off["setMemberAccess"]["userErrors"] == []
        body = await rosa_client.execute("{ account { cases { totalCount } } }")
        assert body["errors"][0]["extensions"]["reason"] == "MEMBER_SUSPENDED"
        listed = await portal.owner.data(CONTACTS, {"id": account})
        statuses = [n["access"] for n in listed["account"]["contacts"]["nodes"] if n["access"]]
        assert statuses == [{"status": "SUSPENDED", "member": {"email": "rosa@obra.mx"}}]


async def test_a_contact_who_already_is_a_member_is_linked_without_an_email(
    portal: Portal, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    luis = await _contact(database, portal, "luis@example.com")
    granted = await _grant(portal.owner, luis, ["INVOICES_VIEW"])
    assert granted["contact"]["access"] == {
        "status": "ACTIVE",
        "member": {"email": "luis@example.com", "status": "ACTIVE"},
        "invitation": None,
    }
    await mail_worker.drain()
    assert smtp_server.received == []


async def test_granting_checks_permissions_held_and_who_may_grant(
    portal: Portal, database: Database
) -> None:
    rosa = await _contact(database, portal, "rosa@obra.mx")
    variables = {"input": {"contactId": gid("Contact", rosa.id), "permissions": ["CASES_VIEW"]}}
    assert await portal.member.error_codes(GRANT, variables) == ["FORBIDDEN"]
    assert await portal.stranger.error_codes(GRANT, variables) == ["NOT_FOUND"]
    assert await portal.anonymous.error_codes(GRANT, variables) == ["UNAUTHENTICATED"]
    bad = {"input": {"contactId": "nope", "permissions": []}}
    assert await portal.owner.error_codes(GRANT, bad) == ["NOT_FOUND"]
    # A contact never given access shows none.
    listed = await portal.owner.data(CONTACTS, {"id": gid("Account", portal.parent.id)})
    assert listed["account"]["contacts"]["nodes"][0]["access"] is None
