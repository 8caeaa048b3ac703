"""Members and invitations: who shares an account and how people join it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine

from clientzone.app import create_app
from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.base import utcnow
from clientzone.models.memberships import Permission, Role
from clientzone.models.users import user_by_email
from tests.conftest import Portal
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    link_token,
    login,
    make_membership,
    make_user,
    viewer_email,
)
from tests.smtp_server import SmtpServer

MEMBERS = """
query($id: ID) {
  account(id: $id) { members { totalCount nodes { id email role permissions } } }
}
"""
UPDATE = """
mutation($input: UpdateMemberPermissionsInput!) {
  updateMemberPermissions(input: $input) {
    member { email permissions } userErrors { field code }
  }
}
"""
REMOVE = """
mutation($input: RemoveMemberInput!) {
  removeMember(input: $input) { removedMemberId userErrors { field code } }
}
"""
TRANSFER = """
mutation($input: TransferOwnershipInput!) {
  transferOwnership(input: $input) { member { email role } userErrors { field code } }
}
"""
INVITE = """
mutation($input: InviteUserInput!) {
  inviteUser(input: $input) {
    invitation { id email permissions status expiresAt } userErrors { field code message }
  }
}
"""
INVITATIONS = "query($id: ID) { account(id: $id) { invitations { nodes { email status } } } }"
ACCEPT = """
mutation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { accountId userErrors { field code message } }
}
"""
RESEND = """
mutation($id: ID!) {
  resendInvitation(input: {invitationId: $id}) { invitation { status } userErrors { code } }
}
"""
REVOKE = """
mutation($id: ID!) {
  revokeInvitation(input: {invitationId: $id}) { invitation { status } userErrors { code } }
}
"""
PERMISSIONS = "{ viewer { permissions } }"


def _parent(portal: Portal) -> dict[str, str]:
    return {"X-Account-Id": gid("Account", portal.parent.id)}


async def _members(portal: Portal) -> dict[str, dict[str, Any]]:
    data = await portal.owner.data(MEMBERS, {"id": gid("Account", portal.parent.id)})
    return {m["email"]: m for m in data["account"]["members"]["nodes"]}


async def test_members_are_listed_with_role_and_permissions(portal: Portal) -> None:
    members = await _members(portal)
    assert set(members) == {"ana@example.com", "luis@example.com"}
    assert members["ana@example.com"]["role"] == "OWNER"
    assert len(members["ana@example.com"]["permissions"]) == len(Permission)
    assert members["luis@example.com"]["permissions"] == ["INVOICES_PAY", "INVOICES_VIEW"]


async def test_changing_permissions_applies_on_the_members_next_request(portal: Portal) -> None:
    luis = (await _members(portal))["luis@example.com"]["id"]
    data = await portal.owner.data(
        UPDATE, {"input": {"memberId": luis, "permissions": ["CASES_VIEW", "CASES_CREATE"]}}
    )
    assert data["updateMemberPermissions"] == {
        "member": {"email": "luis@example.com", "permissions": ["CASES_CREATE", "CASES_VIEW"]},
        "userErrors": [],
    }
    after = await portal.member.data(PERMISSIONS, headers=_parent(portal))
    assert after["viewer"]["permissions"] == ["CASES_CREATE", "CASES_VIEW"]


async def test_member_rules_protect_owners_and_stop_escalation(
    portal: Portal, database: Database
) -> None:
    # Luis manages users but holds only some permissions.
    membership_rows = await _members(portal)
    await portal.owner.data(
        UPDATE,
        {
            "input": {
                "memberId": membership_rows["luis@example.com"]["id"],
                "permissions": ["USERS_MANAGE", "INVOICES_VIEW"],
            }
        },
    )
    marta = await make_user(database, "marta@example.com")
    await make_membership(database, marta, portal.parent, Role.MEMBER, [Permission.CASES_VIEW])
    members = await _members(portal)
    owner_id, luis_id, marta_id = (
        members[e]["id"] for e in ("ana@example.com", "luis@example.com", "marta@example.com")
    )
    luis = portal.member

    async def codes(document: str, variables: dict[str, Any], name: str) -> list[Any]:
        data = await luis.data(document, {"input": variables}, _parent(portal))
        return [(e["field"], e["code"]) for e in data[name]["userErrors"]]

    assert await codes(
        UPDATE, {"memberId": owner_id, "permissions": []}, "updateMemberPermissions"
    ) == [("memberId", "OWNER_PROTECTED")]
    assert await codes(
        UPDATE, {"memberId": luis_id, "permissions": ["ORDERS_VIEW"]}, "updateMemberPermissions"
    ) == [("memberId", "CANNOT_CHANGE_SELF")]
    assert await codes(
        UPDATE, {"memberId": marta_id, "permissions": ["ORDERS_VIEW"]}, "updateMemberPermissions"
    ) == [("permissions", "PERMISSION_NOT_HELD")]
    assert (
        await codes(
            UPDATE,
            {"memberId": marta_id, "permissions": ["INVOICES_VIEW"]},
            "updateMemberPermissions",
        )
        == []
    )
    assert await codes(REMOVE, {"memberId": owner_id}, "removeMember") == [
        ("memberId", "OWNER_PROTECTED")
    ]
    assert await codes(REMOVE, {"memberId": marta_id}, "removeMember") == []
    assert "marta@example.com" not in await _members(portal)
    # The last owner stays, even when an owner tries.
    last = await portal.owner.data(REMOVE, {"input": {"memberId": owner_id}}, _parent(portal))
    assert last["removeMember"]["userErrors"] == [{"field": "memberId", "code": "LAST_OWNER"}]


async def test_transfer_ownership_needs_the_owner_and_the_password(portal: Portal) -> None:
    members = await _members(portal)
    luis_id = members["luis@example.com"]["id"]
    wrong = await portal.owner.data(
        TRANSFER, {"input": {"memberId": luis_id, "currentPassword": "x"}}, _parent(portal)
    )
    assert wrong["transferOwnership"]["userErrors"] == [
        {"field": "currentPassword", "code": "INVALID_PASSWORD"}
    ]


async def test_transfer_ownership_swaps_roles(app: Any, database: Database) -> None:
    from tests.helpers import make_account

    ana = await make_user(database, "ana@example.com", password=PASSWORD)
    luis = await make_user(database, "luis@example.com", password=PASSWORD)
    account = await make_account(database, number="MX-8000")
    await make_membership(database, ana, account)
    await make_membership(database, luis, account, Role.MEMBER, [Permission.USERS_MANAGE])
    async with http_client(app) as http:
        owner = GraphQLClient(http, await issue_token(database, ana))
        member = GraphQLClient(http, await issue_token(database, luis))
        nodes = (await owner.data(MEMBERS))["account"]["members"]["nodes"]
        luis_id = next(n["id"] for n in nodes if n["email"] == "luis@example.com")
        ana_id = next(n["id"] for n in nodes if n["email"] == "ana@example.com")
        not_owner = await member.data(
            TRANSFER, {"input": {"memberId": ana_id, "currentPassword": PASSWORD}}
        )
        assert not_owner["transferOwnership"]["userErrors"] == [
            {"field": None, "code": "NOT_OWNER"}
        ]
        done = await owner.data(
            TRANSFER, {"input": {"memberId": luis_id, "currentPassword": PASSWORD}}
        )
        assert done["transferOwnership"] == {
            "member": {"email": "luis@example.com", "role": "OWNER"},
            "userErrors": [],
        }
        roles = {
            n["email"]: n["role"]
            for n in (await member.data(MEMBERS))["account"]["members"]["nodes"]
        }
        assert roles == {"ana@example.com": "MEMBER", "luis@example.com": "OWNER"}
        activity = await member.data("{ account { activity { nodes { action target } } } }")
        assert activity["account"]["activity"]["nodes"][0] == {
            "action": "OWNERSHIP_TRANSFERRED",
            "target": "luis@example.com",
        }


async def _invite(portal: Portal, email: str, permissions: list[str]) -> dict[str, Any]:
    data = await portal.owner.data(
        INVITE,
        {
            "input": {
                "accountId": gid("Account", portal.parent.id),
                "email": email,
                "permissions": permissions,
            }
        },
    )
    payload: dict[str, Any] = data["inviteUser"]
    return payload


async def test_a_new_person_accepts_an_invitation_from_the_emailed_link(
    app: Any, portal: Portal, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    invited = await _invite(portal, "Nueva@Example.com", ["CASES_VIEW", "CASES_CREATE"])
    assert invited["userErrors"] == []
    assert invited["invitation"]["status"] == "PENDING"
    await mail_worker.drain()
    [email] = smtp_server.received
    assert email.recipients == ["nueva@example.com"]
    assert "MX-1000" in email.message["Subject"]
    token = link_token(email.text, "accept-invitation")
    async with http_client(app) as http:
        newcomer = GraphQLClient(http)
        weak = await newcomer.data(
            ACCEPT, {"input": {"token": token, "password": "password123", "firstName": "Nueva"}}
        )
        assert [(e["field"], e["code"]) for e in weak["acceptInvitation"]["userErrors"]] == [
            ("lastName", "REQUIRED"),
            ("password", "TOO_WEAK"),
        ]
        accepted = await newcomer.data(
            ACCEPT,
            {
                "input": {
                    "token": token,
                    "password": PASSWORD,
                    "firstName": "Nueva",
                    "lastName": "Persona",
                }
            },
        )
        assert accepted["acceptInvitation"] == {
            "accountId": gid("Account", portal.parent.id),
            "userErrors": [],
        }
        # Signed in, verified, with the invited permissions on that account.
        assert await viewer_email(newcomer) == "nueva@example.com"
        permissions = await newcomer.data(PERMISSIONS)
        assert permissions["viewer"]["permissions"] == ["CASES_CREATE", "CASES_VIEW"]
        used = await newcomer.data(ACCEPT, {"input": {"token": token}})
        assert [e["code"] for e in used["acceptInvitation"]["userErrors"]] == ["ALREADY_USED"]
    async with http_client(app) as http:
        signed_in = await login(GraphQLClient(http), "nueva@example.com")
        assert signed_in.json()["data"]["login"]["user"] == {"email": "nueva@example.com"}
    assert (await _members(portal))["nueva@example.com"]["role"] == "MEMBER"


async def test_an_existing_login_accepts_while_signed_in_with_that_email(
    app: Any,
    portal: Portal,
    database: Database,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
) -> None:
    await make_user(database, "marta@example.com", password=PASSWORD)
    await _invite(portal, "marta@example.com", ["ORDERS_VIEW"])
    await mail_worker.drain()
    token = link_token(smtp_server.received[0].text, "accept-invitation")
    async with http_client(app) as http:
        anonymous = GraphQLClient(http)
        needs_login = await anonymous.data(ACCEPT, {"input": {"token": token}})
        assert [e["code"] for e in needs_login["acceptInvitation"]["userErrors"]] == [
            "SIGN_IN_REQUIRED"
        ]
    wrong_person = await portal.member.data(ACCEPT, {"input": {"token": token}})
    assert [e["code"] for e in wrong_person["acceptInvitation"]["userErrors"]] == ["WRONG_EMAIL"]
    async with http_client(app) as http:
        marta = GraphQLClient(http)
        await login(marta, "marta@example.com")
        joined = await marta.data(ACCEPT, {"input": {"token": token}})
        assert joined["acceptInvitation"]["userErrors"] == []
        assert (await marta.data(PERMISSIONS))["viewer"]["permissions"] == ["ORDERS_VIEW"]


async def test_invitation_expiry_resend_and_revoke(
    app: Any, portal: Portal, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    start = utcnow()
    invitation = (await _invite(portal, "tarde@example.com", []))["invitation"]
    await mail_worker.drain()
    first = link_token(smtp_server.received[0].text, "accept-invitation")
    async with http_client(app) as http:
        client = GraphQLClient(http)
        variables = {
            "input": {"token": first, "password": PASSWORD, "firstName": "T", "lastName": "Arde"}
        }
        with time_machine.travel(start + timedelta(hours=48, minutes=1), tick=False):
            late = await client.data(ACCEPT, variables)
        assert [e["code"] for e in late["acceptInvitation"]["userErrors"]] == ["EXPIRED"]
        resent = await portal.owner.data(RESEND, {"id": invitation["id"]})
        assert resent["resendInvitation"] == {"invitation": {"status": "PENDING"}, "userErrors": []}
        await mail_worker.drain()
        second = link_token(smtp_server.received[1].text, "accept-invitation")
        old = await client.data(ACCEPT, variables)
        assert [e["code"] for e in old["acceptInvitation"]["userErrors"]] == ["INVALID_TOKEN"]
        revoked = await portal.owner.data(REVOKE, {"id": invitation["id"]})
        assert revoked["revokeInvitation"] == {
            "invitation": {"status": "REVOKED"},
            "userErrors": [],
        }
        again = await portal.owner.data(REVOKE, {"id": invitation["id"]})
        assert again["revokeInvitation"]["userErrors"] == [{"code": "NOT_OPEN"}]
        dead = await client.data(ACCEPT, {"input": {**variables["input"], "token": second}})
        assert [e["code"] for e in dead["acceptInvitation"]["userErrors"]] == ["REVOKED"]
        listed = await portal.owner.data(INVITATIONS, {"id": gid("Account", portal.parent.id)})
        assert listed["account"]["invitations"]["nodes"] == []


async def test_invite_input_is_checked(portal: Portal) -> None:
    cases = [
        ("", [], [("email", "REQUIRED")]),
        ("no-email", [], [("email", "INVALID_EMAIL")]),
        ("luis@example.com", [], [("email", "ALREADY_MEMBER")]),
    ]
    for email, permissions, expected in cases:
        payload = await _invite(portal, email, permissions)
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == expected, email
    assert (await _invite(portal, "dos@example.com", []))["userErrors"] == []
    twice = await _invite(portal, "DOS@example.com", [])
    assert [(e["field"], e["code"]) for e in twice["userErrors"]] == [("email", "ALREADY_INVITED")]
    # A member cannot invite with permissions they do not hold.
    luis = (await _members(portal))["luis@example.com"]["id"]
    await portal.owner.data(UPDATE, {"input": {"memberId": luis, "permissions": ["USERS_MANAGE"]}})
    escalation = await portal.member.data(
        INVITE,
        {
            "input": {
                "accountId": gid("Account", portal.parent.id),
                "email": "x@example.com",
                "permissions": ["INVOICES_PAY"],
            }
        },
    )
    assert [e["code"] for e in escalation["inviteUser"]["userErrors"]] == ["PERMISSION_NOT_HELD"]


SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { accepted userErrors { field code message } }
}
"""


async def test_an_invitation_only_portal_refuses_sign_up_but_lets_the_invited_in(
    portal: Portal,
    settings: Any,
    database: Database,
    mail_worker: MailWorker,
    smtp_server: SmtpServer,
) -> None:
    """SIGNUP_ENABLED=false: the B2B portal, where people arrive by invitation."""
    invited = await _invite(portal, "rosa@example.com", ["CASES_VIEW"])
    assert invited["userErrors"] == []
    await mail_worker.drain()
    token = link_token(smtp_server.received[0].text, "accept-invitation")
    closed = create_app(settings.model_copy(update={"signup_enabled": False}), database)
    try:
        async with http_client(closed) as http:
            anyone = GraphQLClient(http)
            new = {
                "email": "otra@example.com",
                "password": PASSWORD,
                "firstName": "O",
                "lastName": "P",
            }
            for language, message in (
                ("es", "El registro está desactivado. Pide una invitación."),
                ("en", "Sign-up is disabled. Ask for an invitation."),
            ):
                refused = await anyone.data(
                    SIGN_UP, {"input": new}, headers={"Accept-Language": language}
                )
                assert refused["signUp"] == {
                    "accepted": False,
                    "userErrors": [{"field": None, "code": "SIGNUP_DISABLED", "message": message}],
                }
            accepted = await anyone.data(
                ACCEPT,
                {
                    "input": {
                        "token": token,
                        "password": PASSWORD,
                        "firstName": "Rosa",
                        "lastName": "Díaz",
                    }
                },
            )
            assert accepted["acceptInvitation"]["userErrors"] == []
            assert await viewer_email(anyone) == "rosa@example.com"
    finally:
        await closed.state.close_clients()
    async with database.session() as session:
        assert await user_by_email(session, "otra@example.com") is None
    await mail_worker.drain()
    # No verification link for the refused sign-up.
    assert all("otra@example.com" not in m.recipients for m in smtp_server.received)
