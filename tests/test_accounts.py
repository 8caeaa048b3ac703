"""Accounts, memberships, linked accounts and the active account."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, update
from sqlmodel import col

from clientzone.db import Database
from clientzone.models.memberships import Membership, Permission, Role
from tests.conftest import Portal
from tests.helpers import (
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_membership,
    make_user,
)

MEMBERSHIPS = """
{
  viewer {
    memberships {
      totalCount
      nodes { role inherited permissions account { number parent { number } } }
    }
  }
}
"""
ACTIVE = "{ viewer { activeAccount { number } permissions } account { number } }"
PROFILE = """
{
  account {
    number name status currency createdAt
    profile {
      companyName email phone taxId hasSecurityPin locale
      address { street neighborhood city state postalCode country }
    }
  }
}
"""
LINKED = "query L($id: ID) { account(id: $id) { linkedAccounts { totalCount nodes { number } } } }"


async def test_owner_reaches_linked_accounts_of_an_owned_parent_as_inherited_owner(
    portal: Portal,
) -> None:
    data = await portal.owner.data(MEMBERSHIPS)
    memberships = data["viewer"]["memberships"]
    assert memberships["totalCount"] == 4
    summary = [
        (
            m["account"]["number"],
            m["role"],
            m["inherited"],
            (m["account"]["parent"] or {}).get("number"),
        )
        for m in memberships["nodes"]
    ]
    assert summary == [
        ("AR-2000", "OWNER", False, None),
        ("MX-1000", "OWNER", False, None),
        ("MX-1001", "OWNER", True, "MX-1000"),
        ("MX-1002", "OWNER", True, "MX-1000"),
    ]
    assert len(memberships["nodes"][0]["permissions"]) == len(Permission)


async def test_a_member_sees_only_the_granted_account_and_permissions(portal: Portal) -> None:
    data = await portal.member.data(MEMBERSHIPS)
    assert data["viewer"]["memberships"]["nodes"] == [
        {
            "role": "MEMBER",
            "inherited": False,
            "permissions": ["INVOICES_PAY", "INVOICES_VIEW"],
            "account": {"number": "MX-1000", "parent": None},
        }
    ]
    linked = await portal.member.data(LINKED)
    assert linked["account"]["linkedAccounts"] == {"totalCount": 0, "nodes": []}
    child = await portal.member.execute(LINKED, {"id": gid("Account", portal.linked[0].id)})
    assert child["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def user_by_email_of(database: object, email: str) -> object:
    from clientzone.models.users import user_by_email

    async with database.session() as session:  # type: ignore[attr-defined]
        return await user_by_email(session, email)


async def test_parent_is_null_when_the_viewer_does_not_reach_it(
    portal: Portal, database: object
) -> None:
    from clientzone.models.memberships import Role
    from tests.helpers import make_membership

    # the stranger owns a branch but has nothing in its parent
    stranger = await user_by_email_of(database, "eve@example.com")
    await make_membership(database, stranger, portal.linked[1], Role.OWNER)  # type: ignore[arg-type]
    data = await portal.stranger.data(
        "query A($id: ID) { account(id: $id) { number parent { number } } }",
        {"id": gid("Account", portal.linked[1].id)},
    )
    assert data["account"] == {"number": "MX-1002", "parent": None}


async def test_active_account_defaults_to_the_first_membership(portal: Portal) -> None:
    data = await portal.owner.data(ACTIVE)
    assert data["viewer"]["activeAccount"] == {"number": "AR-2000"}
    assert data["account"] == {"number": "AR-2000"}
    member = await portal.member.data(ACTIVE)
    assert member["viewer"]["permissions"] == ["INVOICES_PAY", "INVOICES_VIEW"]


async def test_active_account_comes_from_the_x_account_id_header(portal: Portal) -> None:
    header = {"X-Account-Id": gid("Account", portal.linked[0].id)}
    data = await portal.owner.data(ACTIVE, headers=header)
    assert data["viewer"]["activeAccount"] == {"number": "MX-1001"}
    assert data["account"] == {"number": "MX-1001"}


async def test_a_header_naming_an_unreachable_account_is_not_found(portal: Portal) -> None:
    for value in (gid("Account", portal.foreign.id), "garbage"):
        body = await portal.owner.execute(ACTIVE, headers={"X-Account-Id": value})
        assert {e["extensions"]["code"] for e in body["errors"]} == {"NOT_FOUND"}


async def test_profile_fields(portal: Portal, database: object) -> None:
    from tests.helpers import make_account, make_membership, make_user

    user = await make_user(database, "owner@example.com")  # type: ignore[arg-type]
    account = await make_account(
        database,  # type: ignore[arg-type]
        number="MX-9000",
        name="Tlapalería Don Pepe",
        company_name="Tlapalería Don Pepe S.A. de C.V.",
        email="pepe@example.com",
        phone="+525512345678",
        tax_id="TDP010101AB1",
        street="Calle 5 de Mayo 12",
        neighborhood="Centro",
        city="Puebla",
        state="Puebla",
        postal_code="72000",
        country="MX",
    )
    await make_membership(database, user, account)  # type: ignore[arg-type]
    portal.anonymous.token = await _token(database, user)
    data = await portal.anonymous.data(PROFILE)
    account_data = data["account"]
    assert account_data["status"] == "ACTIVE"
    assert account_data["currency"] == "MXN"
    assert account_data["createdAt"].endswith("+00:00")
    assert account_data["profile"] == {
        "companyName": "Tlapalería Don Pepe S.A. de C.V.",
        "email": "pepe@example.com",
        "phone": "+525512345678",
        "taxId": "TDP010101AB1",
        "hasSecurityPin": False,
        "locale": "ES",
        "address": {
            "street": "Calle 5 de Mayo 12",
            "neighborhood": "Centro",
            "city": "Puebla",
            "state": "Puebla",
            "postalCode": "72000",
            "country": "MX",
        },
    }


async def _token(database: object, user: object) -> str:
    from tests.helpers import issue_token

    return await issue_token(database, user)  # type: ignore[arg-type]


async def test_memberships_page_by_cursor_both_ways(portal: Portal) -> None:
    query = """
    query M($first: Int, $after: String, $last: Int, $before: String) {
      viewer { memberships(first: $first, after: $after, last: $last, before: $before) {
        nodes { account { number } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } }
    }
    """

    async def page(**arguments: object) -> tuple[list[str], dict[str, object]]:
        data = await portal.owner.data(query, arguments)
        connection = data["viewer"]["memberships"]
        return [n["account"]["number"] for n in connection["nodes"]], connection["pageInfo"]

    first, info = await page(first=2)
    second, info2 = await page(first=2, after=info["endCursor"])
    back, info3 = await page(last=1, before=info2["startCursor"])
    assert first == ["AR-2000", "MX-1000"]
    assert second == ["MX-1001", "MX-1002"]
    assert (info2["hasPreviousPage"], info2["hasNextPage"]) == (True, False)
    assert back == ["MX-1000"]
    assert info3["hasPreviousPage"] is True


async def test_membership_changes_apply_on_the_members_next_request(
    portal: Portal, database: Database
) -> None:
    """Nothing about access is cached in the session: the next request sees it."""
    before = await portal.member.data(ACTIVE)
    assert before["viewer"]["permissions"] == ["INVOICES_PAY", "INVOICES_VIEW"]
    async with database.session() as session, session.begin():
        await session.execute(
            update(Membership)
            .where(col(Membership.user_id) == portal.member_user.id)
            .values(permissions=frozenset({Permission.CASES_VIEW}))
        )
    after = await portal.member.data(ACTIVE)
    assert after["viewer"]["permissions"] == ["CASES_VIEW"]
    async with database.session() as session, session.begin():
        await session.execute(
            delete(Membership).where(col(Membership.user_id) == portal.member_user.id)
        )
    gone = await portal.member.data(ACTIVE)
    assert gone == {"viewer": {"activeAccount": None, "permissions": []}, "account": None}


SWITCH = """
mutation($id: ID!) { switchAccount(input: {accountId: $id}) { account { number } } }
"""


async def test_switch_account_is_remembered_by_the_session_and_the_header_wins(
    portal: Portal,
) -> None:
    assert (await portal.owner.data(ACTIVE))["viewer"]["activeAccount"] == {"number": "AR-2000"}
    switched = await portal.owner.data(SWITCH, {"id": gid("Account", portal.linked[0].id)})
    assert switched["switchAccount"]["account"] == {"number": "MX-1001"}
    after = await portal.owner.data(ACTIVE)
    assert after["viewer"]["activeAccount"] == {"number": "MX-1001"}
    assert after["account"] == {"number": "MX-1001"}
    header = {"X-Account-Id": gid("Account", portal.parent.id)}
    assert (await portal.owner.data(ACTIVE, headers=header))["account"] == {"number": "MX-1000"}
    # Out of reach: as if it did not exist, and the choice stays.
    assert await portal.owner.error_codes(SWITCH, {"id": gid("Account", portal.foreign.id)}) == [
        "NOT_FOUND"
    ]
    assert await portal.owner.error_codes(SWITCH, {"id": "garbage"}) == ["NOT_FOUND"]
    assert (await portal.owner.data(ACTIVE))["account"] == {"number": "MX-1001"}


async def test_activity_filters_by_action_and_dates(portal: Portal, database: Database) -> None:
    from datetime import timedelta

    from clientzone.models.activity import ActivityAction, ActivityEntry, ActorKind
    from clientzone.models.base import utcnow

    now = utcnow()
    async with database.session() as session, session.begin():
        for days, action in (
            (10, ActivityAction.CONTACT_CREATED),
            (5, ActivityAction.MEMBER_REMOVED),
            (1, ActivityAction.CONTACT_DELETED),
        ):
            created_at = now - timedelta(days=days)
            session.add(
                ActivityEntry(
                    # Ids order the history: time-ordered as of created_at
                    # (three rows made in one millisecond would tie).
                    id=uuid.UUID(int=(int(created_at.timestamp() * 1000) << 80) | 7 << 76),
                    account_id=portal.parent.id,
                    actor_kind=ActorKind.SYSTEM,
                    actor_label="system",
                    action=action,
                    created_at=created_at,
                )
            )
    query = """
    query($id: ID, $filter: ActivityFilterInput) {
      account(id: $id) { activity(filter: $filter) { totalCount nodes { action } } }
    }
    """
    account = gid("Account", portal.parent.id)

    async def actions(**filter_: object) -> list[str]:
        data = await portal.owner.data(query, {"id": account, "filter": filter_})
        return [n["action"] for n in data["account"]["activity"]["nodes"]]

    assert await actions(actions=["CONTACT_CREATED", "CONTACT_DELETED"]) == [
        "CONTACT_DELETED",
        "CONTACT_CREATED",
    ]
    since = (now - timedelta(days=6)).isoformat()
    until = (now - timedelta(days=2)).isoformat()
    assert await actions(**{"from": since, "to": until}) == ["MEMBER_REMOVED"]
    member = await portal.member.execute(query, {"id": account})
    assert member["errors"][0]["extensions"] == {"code": "FORBIDDEN", "permission": "ACTIVITY_VIEW"}


async def test_an_owner_who_is_also_a_member_elsewhere_sees_both_accounts(
    app: object, database: Database
) -> None:
    # given: the owner of one account and a plain member of another, unlinked one

    user = await make_user(database, "dueña@example.com")
    own = await make_account(database, number="MX-8000")
    other = await make_account(database, number="MX-8001")
    await make_membership(database, user, own)
    await make_membership(database, user, other, Role.MEMBER, [Permission.INVOICES_VIEW])
    async with http_client(app) as http:  # type: ignore[arg-type]
        data = await GraphQLClient(http, await issue_token(database, user)).data(
            "{ viewer { memberships { totalCount nodes { role account { number } } } } }"
        )
    assert data["viewer"]["memberships"] == {
        "totalCount": 2,
        "nodes": [
            {"role": "OWNER", "account": {"number": "MX-8000"}},
            {"role": "MEMBER", "account": {"number": "MX-8001"}},
        ],
    }


async def test_a_membership_in_a_linked_account_of_an_owned_parent_counts_once(
    app: object, database: Database
) -> None:
    # given: the owner of a parent, also a plain member of its linked account
    user = await make_user(database, "madre@example.com")
    before = await make_account(database, number="MX-8099")
    parent = await make_account(database, number="MX-8100")
    child = await make_account(database, number="MX-8101", parent=parent)
    await make_membership(database, user, before)
    await make_membership(database, user, parent)
    await make_membership(database, user, child, Role.MEMBER, [Permission.INVOICES_VIEW])
    query = """
    query($last: Int, $before: String) { viewer { memberships(last: $last, before: $before) {
      totalCount nodes { role inherited account { number } } pageInfo { startCursor }
    } } }
    """
    async with http_client(app) as http:  # type: ignore[arg-type]
        client = GraphQLClient(http, await issue_token(database, user))
        last = (await client.data(query, {"last": 2}))["viewer"]["memberships"]
        start = last["pageInfo"]["startCursor"]
        earlier = (await client.data(query, {"last": 2, "before": start}))["viewer"]["memberships"]
    # then: the linked account once, as inherited owner, in number order both ways
    assert last["totalCount"] == 3
    assert [(n["account"]["number"], n["role"], n["inherited"]) for n in last["nodes"]] == [
        ("MX-8100", "OWNER", False),
        ("MX-8101", "OWNER", True),
    ]
    assert [n["account"]["number"] for n in earlier["nodes"]] == ["MX-8099"]
