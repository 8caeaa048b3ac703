"""Suspending and restoring a member (setMemberAccess): the membership stays,
the member reaches nothing in that account until restored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clientzone.db import Database
from clientzone.models.memberships import Membership, Permission, Role
from tests.conftest import Portal
from tests.helpers import (
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_membership,
    make_user,
)

SET_ACCESS = """
mutation($input: SetMemberAccessInput!) {
  setMemberAccess(input: $input) {
    member { email status }
    userErrors { field code message }
  }
}
"""
INVOICES = "query($id: ID!) { account(id: $id) { invoices { totalCount } } }"
MEMBERS = "query($id: ID!) { account(id: $id) { members { nodes { email status } } } }"
ACTIVITY = "query($id: ID!) { account(id: $id) { activity { nodes { action target } } } }"


async def _membership(database: Database, portal: Portal) -> Membership:
    async with database.session() as session:
        statement = select(Membership).where(
            Membership.user_id == portal.member_user.id,  # type: ignore[arg-type]
            Membership.account_id == portal.parent.id,  # type: ignore[arg-type]
        )
        return (await session.execute(statement)).scalar_one()


async def _set(client: GraphQLClient, member_id: str, enabled: bool, **headers: str) -> Any:
    variables = {"input": {"memberId": member_id, "enabled": enabled}}
    return (await client.data(SET_ACCESS, variables, headers))["setMemberAccess"]


async def test_a_suspended_member_is_forbidden_until_restored(
    portal: Portal, database: Database
) -> None:
    account = gid("Account", portal.parent.id)
    member_id = gid("Member", (await _membership(database, portal)).id)
    await make_membership(database, portal.member_user, portal.other, Role.MEMBER)
    # The member's session is cached (the fixture warmed it) and has the account active.
    switched = await portal.member.execute(
        "mutation($id: ID!) { switchAccount(input: {accountId: $id}) { account { id } } }",
        {"id": account},
    )
    assert "errors" not in switched
    assert "errors" not in await portal.member.execute(INVOICES, {"id": account})
    suspended = await _set(portal.owner, member_id, False)
    assert suspended == {
        "member": {"email": "luis@example.com", "status": "SUSPENDED"},
        "userErrors": [],
    }
    body = await portal.member.execute(INVOICES, {"id": account}, {"Accept-Language": "en"})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "MEMBER_SUSPENDED"}
    assert error["message"] == (
        "Your access to this account is suspended. Ask whoever manages its users."
    )
    # The active account is forgotten: the session falls back to the first
    # account whose access is on.
    default = await portal.member.data("{ account { number } }")
    assert default == {"account": {"number": "AR-2000"}}
    # Kept in the list, with its status; the owner's other accounts unaffected.
    members = (await portal.owner.data(MEMBERS, {"id": account}))["account"]["members"]
    assert {"email": "luis@example.com", "status": "SUSPENDED"} in members["nodes"]
    # Suspending twice is the same; restoring gives access back at once.
    assert (await _set(portal.owner, member_id, False))["member"]["status"] == "SUSPENDED"
    restored = await _set(portal.owner, member_id, True)
    assert restored["member"]["status"] == "ACTIVE"
    assert "errors" not in await portal.member.execute(INVOICES, {"id": account})
    activity = (await portal.owner.data(ACTIVITY, {"id": account}))["account"]["activity"]
    actions = [(a["action"], a["target"]) for a in activity["nodes"]]
    assert actions[:2] == [
        ("MEMBER_RESTORED", "luis@example.com"),
        ("MEMBER_SUSPENDED", "luis@example.com"),
    ]


async def test_owners_and_oneself_cannot_be_suspended(
    portal: Portal, database: Database, app: Any
) -> None:
    manager = await make_user(database, "gestor@example.com")
    own = await make_membership(
        database, manager, portal.parent, Role.MEMBER, [Permission.USERS_MANAGE]
    )
    async with http_client(app) as http:
        client = GraphQLClient(http, await issue_token(database, manager))
        async with database.session() as session:
            owner_row = (
                await session.execute(
                    select(Membership).where(
                        Membership.user_id == portal.owner_user.id,  # type: ignore[arg-type]
                        Membership.account_id == portal.parent.id,  # type: ignore[arg-type]
                    )
                )
            ).scalar_one()
        owner = await _set(client, gid("Member", owner_row.id), False, **{"Accept-Language": "es"})
        assert owner["member"] is None
        assert [(e["field"], e["code"]) for e in owner["userErrors"]] == [
            ("memberId", "OWNER_PROTECTED")
        ]
        assert owner["userErrors"][0]["message"]
        myself = await _set(client, gid("Member", own.id), False, **{"Accept-Language": "en"})
        assert [(e["field"], e["code"]) for e in myself["userErrors"]] == [
            ("memberId", "CANNOT_CHANGE_SELF")
        ]
        # A manager suspends a plain member.
        member_id = gid("Member", (await _membership(database, portal)).id)
        assert (await _set(client, member_id, False))["member"]["status"] == "SUSPENDED"


async def test_setting_access_needs_users_manage(portal: Portal, database: Database) -> None:
    member_id = gid("Member", (await _membership(database, portal)).id)
    variables = {"input": {"memberId": member_id, "enabled": False}}
    assert await portal.member.error_codes(SET_ACCESS, variables) == ["FORBIDDEN"]
    assert await portal.stranger.error_codes(SET_ACCESS, variables) == ["NOT_FOUND"]
    assert await portal.anonymous.error_codes(SET_ACCESS, variables) == ["UNAUTHENTICATED"]
    unknown = {"input": {"memberId": "nope", "enabled": False}}
    assert await portal.owner.error_codes(SET_ACCESS, unknown) == ["NOT_FOUND"]
