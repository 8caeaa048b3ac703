"""Global IDs and node(id:): another account's object is NOT_FOUND, like a missing one."""

from __future__ import annotations

import base64
import uuid

import pytest

from clientzone.models.base import new_id
from tests.conftest import Portal
from tests.helpers import gid

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on Account { number name }
    ... on User { email }
  }
}
"""
ACCOUNT = "query Account($id: ID) { account(id: $id) { id number } }"


async def test_node_returns_an_account_the_viewer_reaches(portal: Portal) -> None:
    account_id = gid("Account", portal.parent.id)
    data = await portal.owner.data(NODE, {"id": account_id})
    assert data["node"] == {
        "__typename": "Account",
        "id": account_id,
        "number": "MX-1000",
        "name": "Ferretería La Esperanza",
    }


async def test_node_returns_the_viewer_themselves(portal: Portal) -> None:
    user_id = gid("User", portal.owner_user.id)
    data = await portal.owner.data(NODE, {"id": user_id})
    assert data["node"]["email"] == "ana@example.com"


def _not_found_variants(portal: Portal) -> dict[str, str]:
    return {
        "another account": gid("Account", portal.foreign.id),
        "missing account": gid("Account", new_id()),
        "another user": gid("User", portal.member_user.id),
        "unknown type": gid("Invoice", portal.parent.id),
        "garbage": "not-an-id",
        "bare uuid": str(portal.parent.id),
    }


@pytest.mark.parametrize(
    "variant",
    ["another account", "missing account", "another user", "unknown type", "garbage", "bare uuid"],
)
async def test_what_the_viewer_cannot_see_is_not_found_exactly_like_a_missing_node(
    portal: Portal, variant: str
) -> None:
    body = await portal.owner.execute(NODE, {"id": _not_found_variants(portal)[variant]})
    missing = await portal.owner.execute(NODE, {"id": gid("Account", new_id())})
    assert body == missing
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


async def test_account_by_id_follows_the_same_rule(portal: Portal) -> None:
    mine = await portal.owner.data(ACCOUNT, {"id": gid("Account", portal.other.id)})
    theirs = await portal.owner.execute(ACCOUNT, {"id": gid("Account", portal.foreign.id)})
    assert mine["account"]["number"] == "AR-2000"
    assert theirs["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


async def test_ids_are_opaque_and_not_derived_from_row_numbers(portal: Portal) -> None:
    data = await portal.owner.data("{ viewer { memberships { nodes { account { id } } } } }")
    ids = [m["account"]["id"] for m in data["viewer"]["memberships"]["nodes"]]
    decoded = [base64.urlsafe_b64decode(i + "=" * (-len(i) % 4)).decode() for i in ids]
    assert all(d.startswith("Account:") for d in decoded)
    # 128-bit identifiers with random bits: neighbours are not guessable.
    values = [uuid.UUID(hex=d.split(":")[1]) for d in decoded]
    assert len({v.int & ((1 << 62) - 1) for v in values}) == len(values)
    assert all(v.int > 10**30 for v in values)


async def test_node_requires_a_viewer(portal: Portal) -> None:
    body = await portal.anonymous.execute(NODE, {"id": gid("Account", portal.parent.id)})
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
