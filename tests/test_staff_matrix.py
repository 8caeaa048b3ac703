"""The staff permission matrix, discovered from the schema.

Every `staff...` mutation and every field of `Query.staff` declares the least
staff role that may use it (auth.staff.RequiresStaffRole); a mutation named
`staff...` without it fails here. Then each one is tried anonymously
(UNAUTHENTICATED), as a customer who owns an account (FORBIDDEN), as each
staff role (allowed from the declared role up, else FORBIDDEN naming it), and
as a staff session that has not proved its second factor (FORBIDDEN with
SECOND_FACTOR, except where enrolling or verifying it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from clientzone.auth.staff import RequiresStaffRole, roles_from
from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.announcements import Announcement, AudienceKind
from clientzone.models.base import utcnow
from clientzone.models.staff import StaffRole
from clientzone.schema import build_schema
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_case,
    make_membership,
    make_staff,
    make_user,
)


def staff_fields() -> dict[str, RequiresStaffRole]:
    """`Type.field` -> its staff declaration, for every field carrying one."""
    schema = build_schema()._schema
    found: dict[str, RequiresStaffRole] = {}
    for type_name in ("Query", "StaffQuery", "Mutation"):
        for name, field in schema.type_map[type_name].fields.items():  # type: ignore[attr-defined]
            for extension in field.extensions["strawberry-definition"].extensions:
                if isinstance(extension, RequiresStaffRole):
                    found[f"{type_name}.{name}"] = extension
    return found


def staff_declared() -> set[str]:
    """Mutations declared staff-only."""
    return {n.split(".")[1] for n in staff_fields() if n.startswith("Mutation.")}


@dataclass
class World:
    database: Database
    account: Account
    case_id: str
    anonymous: GraphQLClient
    customer: GraphQLClient
    roles: dict[StaffRole, GraphQLClient]
    unverified: GraphQLClient


@pytest.fixture
async def world(app: Any, database: Database) -> AsyncIterator[World]:
    account = await make_account(database, number="MX-5000")
    owner = await make_user(database, "owner@example.com", password=PASSWORD)
    await make_membership(database, owner, account)
    customer_token = await issue_token(database, owner)
    tokens = {role: (await make_staff(database, role))[1] for role in StaffRole}
    _, unverified = await make_staff(database, StaffRole.ADMIN, verified=False)
    case = await make_case(database, account)
    async with http_client(app) as http:
        yield World(
            database=database,
            account=account,
            case_id=gid("Case", case.id),
            anonymous=GraphQLClient(http),
            customer=GraphQLClient(http, customer_token),
            roles={role: GraphQLClient(http, token) for role, token in tokens.items()},
            unverified=GraphQLClient(http, unverified),
        )


Variables = Callable[[World], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    document: str
    variables: Variables | None = None

    async def run(self, client: GraphQLClient, world: World) -> dict[str, Any]:
        variables = await self.variables(world) if self.variables else {}
        return await client.execute(self.document, variables)


def _staff_query(selection: str, variables: Variables | None = None, args: str = "") -> Case:
    return Case(f"query{args} {{ staff {{ {selection} }} }}", variables)


def _mutation(
    name: str, value: dict[str, Any], on_case: bool = False, input_type: str | None = None
) -> Case:
    input_type = input_type or f"{name[0].upper()}{name[1:]}Input"
    document = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}"

    async def variables(world: World) -> dict[str, Any]:
        return {"input": {**value, "caseId": world.case_id} if on_case else value}

    return Case(document, variables)


async def _account(world: World) -> dict[str, Any]:
    return {"id": gid("Account", world.account.id)}


async def _case(world: World) -> dict[str, Any]:
    return {"id": world.case_id}


async def _input(world: World, **extra: Any) -> dict[str, Any]:
    return {"input": {"accountId": gid("Account", world.account.id), **extra}}


async def _withdrawn_announcement(world: World) -> dict[str, Any]:
    """An announcement already withdrawn: withdrawing it again is a userError."""
    now = utcnow()
    row = Announcement(
        title_es="Matriz",
        body_es="Matriz",
        html_es="<p>Matriz</p>",
        audience=AudienceKind.ALL,
        visible_from=now,
        withdrawn_at=now,
    )
    async with world.database.session() as session, session.begin():
        session.add(row)
    return {"input": {"announcementId": gid("Announcement", row.id)}}


CASES: dict[str, Case] = {
    "Query.staff": _staff_query("__typename"),
    "StaffQuery.me": _staff_query("me { role }"),
    "StaffQuery.account": _staff_query(
        'account(id: $id, reason: "matrix") { number }', _account, "($id: ID!)"
    ),
    "StaffQuery.auditLog": _staff_query("auditLog { totalCount }"),
    "StaffQuery.cases": _staff_query("cases { totalCount }"),
    "StaffQuery.case": _staff_query("case(id: $id) { number }", _case, "($id: ID!)"),
    "Mutation.staffCommentCase": _mutation("staffCommentCase", {"body": "Hola"}, on_case=True),
    # A string where the file goes reads as an empty file: FILE_EMPTY.
    "Mutation.staffAddCaseAttachment": _mutation(
        "staffAddCaseAttachment", {"file": "x"}, on_case=True
    ),
    "Mutation.staffSetCaseStatus": _mutation(
        "staffSetCaseStatus", {"status": "IN_PROGRESS"}, on_case=True
    ),
    "Mutation.staffAssignCase": _mutation("staffAssignCase", {}, on_case=True),
    "Mutation.staffDisableLogin": _mutation(
        "staffDisableLogin", {"email": "nadie@example.com"}, input_type="StaffLoginStatusInput"
    ),
    "Mutation.staffEnableLogin": _mutation(
        "staffEnableLogin", {"email": "nadie@example.com"}, input_type="StaffLoginStatusInput"
    ),
    "Mutation.staffSendPasswordReset": _mutation(
        "staffSendPasswordReset", {"email": "nadie@example.com"}, input_type="StaffLoginInput"
    ),
    "Mutation.staffResendVerification": _mutation(
        "staffResendVerification", {"email": "nadie@example.com"}, input_type="StaffLoginInput"
    ),
    "Mutation.staffClearLoginBlock": _mutation(
        "staffClearLoginBlock", {"email": "nadie@example.com"}, input_type="StaffLoginInput"
    ),
    "Mutation.staffVerifySecurityPin": Case(
        "mutation($input: StaffVerifySecurityPinInput!) { staffVerifySecurityPin(input: $input) "
        "{ __typename } }",
        lambda w: _input(w, pin=""),
    ),
    "Mutation.staffSendFirstInvitation": Case(
        "mutation($input: StaffSendFirstInvitationInput!) { staffSendFirstInvitation("
        "input: $input) { __typename } }",
        lambda w: _input(w, email="x"),
    ),
    "StaffQuery.customers": _staff_query('customers(search: "MX-5000") { totalCount }'),
    "StaffQuery.transfers": _staff_query("transfers { totalCount }"),
    # Inputs each allowed role gets a userError for (nothing changes).
    "Mutation.staffConfirmTransfer": _mutation(
        "staffConfirmTransfer", {"paymentId": gid("Payment", uuid.UUID(int=0)), "note": "x" * 501}
    ),
    "Mutation.staffRejectTransfer": _mutation(
        "staffRejectTransfer", {"paymentId": gid("Payment", uuid.UUID(int=0)), "reason": " "}
    ),
    "Mutation.staffRefundPayment": _mutation(
        "staffRefundPayment", {"paymentId": gid("Payment", uuid.UUID(int=0)), "reason": ""}
    ),
    "Mutation.staffSetOnlinePaymentLimit": Case(
        "mutation($input: StaffSetOnlinePaymentLimitInput!) { staffSetOnlinePaymentLimit("
        "input: $input) { __typename } }",
        lambda w: _input(w, limit="-1", reason="matrix"),
    ),
    "StaffQuery.announcements": _staff_query("announcements { totalCount }"),
    "Mutation.staffPublishAnnouncement": _mutation(
        "staffPublishAnnouncement", {"titleEs": "", "bodyEs": "matrix"}
    ),
    "Mutation.staffWithdrawAnnouncement": Case(
        "mutation($input: StaffWithdrawAnnouncementInput!) { staffWithdrawAnnouncement("
        "input: $input) { __typename } }",
        _withdrawn_announcement,
    ),
    "Mutation.staffSetDocumentTypeOnlinePayment": _mutation(
        "staffSetDocumentTypeOnlinePayment",
        {"code": "NOPE", "allowsOnlinePayment": True, "reason": "matrix"},
    ),
    "StaffQuery.undeliveredEmails": _staff_query("undeliveredEmails { totalCount }"),
    "Mutation.staffRetryEmail": _mutation(
        "staffRetryEmail", {"emailId": gid("EmailMessage", uuid.UUID(int=0)), "reason": " "}
    ),
    "StaffQuery.emailChangeRequests": _staff_query("emailChangeRequests { totalCount }"),
    "Mutation.staffApproveEmailChange": _mutation(
        "staffApproveEmailChange",
        {"id": gid("EmailChangeRequest", uuid.UUID(int=0)), "reason": "x" * 501},
    ),
    "Mutation.staffRejectEmailChange": _mutation(
        "staffRejectEmailChange", {"id": gid("EmailChangeRequest", uuid.UUID(int=0)), "reason": " "}
    ),
    "Mutation.staffLinkAccount": _mutation(
        "staffLinkAccount",
        {
            "accountId": gid("Account", uuid.UUID(int=0)),
            "parentId": gid("Account", uuid.UUID(int=1)),
            "reason": "",
        },
    ),
    "Mutation.staffUnlinkAccount": _mutation(
        "staffUnlinkAccount", {"accountId": gid("Account", uuid.UUID(int=0)), "reason": ""}
    ),
    "Mutation.staffEnrolSecondFactor": _mutation(
        "staffEnrolSecondFactor", {"currentPassword": PASSWORD}
    ),
    "Mutation.staffConfirmSecondFactor": _mutation("staffConfirmSecondFactor", {"code": "1"}),
    "Mutation.staffVerifySecondFactor": _mutation("staffVerifySecondFactor", {"code": "1"}),
}


def _codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (e["extensions"]["code"], e["extensions"].get("permission")) for e in body.get("errors", [])
    ]


def test_every_staff_field_is_declared_and_covered() -> None:
    schema = build_schema()._schema
    mutations = set(schema.type_map["Mutation"].fields)  # type: ignore[attr-defined]
    assert {m for m in mutations if m.startswith("staff")} == staff_declared()
    staff_query = set(schema.type_map["StaffQuery"].fields)  # type: ignore[attr-defined]
    declared = set(staff_fields())
    assert {f"StaffQuery.{name}" for name in staff_query} <= declared
    assert set(CASES) == declared


@pytest.mark.parametrize("name", sorted(CASES))
async def test_staff_role_is_enforced(world: World, name: str) -> None:
    case = CASES[name]
    declaration = staff_fields()[name]
    least = declaration.least
    assert _codes(await case.run(world.anonymous, world)) == [("UNAUTHENTICATED", None)]
    # A customer is stopped at the first staff field on the path (the namespace).
    first = staff_fields()["Query.staff"].least if name.startswith("StaffQuery.") else least
    assert _codes(await case.run(world.customer, world)) == [("FORBIDDEN", first.value)]
    allowed = roles_from(least)
    for role, client in world.roles.items():
        body = await case.run(client, world)
        expected = [] if role in allowed else [("FORBIDDEN", least.value)]
        assert _codes(body) == expected, (role, body)
    body = await case.run(world.unverified, world)
    expected = [] if declaration.before_second_factor else [("FORBIDDEN", "SECOND_FACTOR")]
    # The namespace itself is open before the second factor; its fields decide.
    if name.startswith("StaffQuery.") and not declaration.before_second_factor:
        expected = [("FORBIDDEN", "SECOND_FACTOR")]
    assert _codes(body) == expected, body
