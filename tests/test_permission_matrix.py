"""The permission matrix, discovered from the schema.

Every field of Account and every mutation either declares its permission
(auth.permissions.RequiresPermission) or is listed below as needing none, and
every account-scoped node type is in resolvers.node.NODE_KINDS: a new field
cannot be added without deciding. Then, for every declared field and every
permission, a member holding only that permission gets FORBIDDEN (naming the
required one) unless it is the required one, and a person of another account
gets NOT_FOUND, through `account(id:)`, `node(id:)` and IDs in inputs alike.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from clientzone.auth.permissions import RequiresPermission
from clientzone.core.tokens import hash_token
from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, ActivityEntry, ActorKind
from clientzone.models.api_clients import ApiClient
from clientzone.models.base import utcnow
from clientzone.models.cases import (
    AuthorKind,
    CaseAttachment,
    CaseComment,
    CaseSubcategory,
    next_case_number,
)
from clientzone.models.cases import Case as SupportCase
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.invitations import INVITATION_LIFETIME, Invitation
from clientzone.models.invoices import Invoice
from clientzone.models.ledger import LedgerEntry, MovementKind, post_movement
from clientzone.models.mail import EmailMessage, EmailStatus
from clientzone.models.memberships import Membership, Permission, Role
from clientzone.models.orders import (
    BillingCycle,
    Order,
    OrderStatus,
    Service,
    ServiceKind,
    ServiceStatus,
)
from clientzone.models.payments import Payment, PaymentKind, PaymentStatus
from clientzone.models.webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    new_secret,
)
from clientzone.resolvers.node import NODE_KINDS
from clientzone.schema import build_schema
from tests.helpers import (
    NEW_USER_FIELDS,
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_api_client,
    make_invoice,
    make_membership,
    make_user,
    queue_account_notices,
)
from tests.test_staff_matrix import staff_declared

# Fields of Account any member reads (the account was already reached).
ACCOUNT_FIELDS_FOR_ANY_MEMBER = {
    "id",
    "number",
    "name",
    "status",
    "currency",
    "createdAt",
    "profile",
    "parent",
    "brand",  # public information, for theming the portal (docs/brands.md)
    "linkedAccounts",
    "announcements",  # news is for everybody working in the account (docs/announcements.md)
}
# Mutations that act on the signed-in person, not on an account.
PERSONAL_MUTATIONS = {
    "updatePersonalDetails",
    "login",
    "logout",
    "revokeSession",
    "signUp",
    "requestEmailVerification",
    "verifyEmail",
    "changeEmail",
    "changePassword",
    "requestPasswordReset",
    "verifyResetCode",
    "resetPassword",
    "claimLegacyAccount",
    "requestAccountUnification",
    "confirmAccountUnification",
    "acceptInvitation",
    "markAnnouncementRead",  # the viewer's own read mark; NOT_FOUND outside their audiences
}


def declared() -> dict[str, Permission | None]:
    """`Type.field` -> declared permission, for every field carrying one."""
    schema = build_schema()._schema
    found: dict[str, Permission | None] = {}
    for type_name in ("Account", "Mutation"):
        for name, field in schema.type_map[type_name].fields.items():  # type: ignore[union-attr]
            definition = field.extensions["strawberry-definition"]
            for extension in definition.extensions:
                if isinstance(extension, RequiresPermission):
                    found[f"{type_name}.{name}"] = extension.permission
    return found


def test_every_account_field_and_mutation_decides_its_permission() -> None:
    schema = build_schema()._schema
    account_fields = set(schema.type_map["Account"].fields)  # type: ignore[union-attr]
    mutations = set(schema.type_map["Mutation"].fields)  # type: ignore[union-attr]
    declared_names = set(declared())
    assert (
        account_fields
        == {n.split(".")[1] for n in declared_names if n.startswith("Account.")}
        | ACCOUNT_FIELDS_FOR_ANY_MEMBER
    )
    # Staff mutations declare a staff role instead (tests/test_staff_matrix.py).
    assert (
        mutations - staff_declared()
        == {n.split(".")[1] for n in declared_names if n.startswith("Mutation.")}
        | PERSONAL_MUTATIONS
    )
    assert set(CASES) == declared_names
    # Subscriptions check their permission on every event; each one has its
    # tests over a real socket (caseUpdated: tests/test_case_updates.py).
    assert set(schema.type_map["Subscription"].fields) == {"caseUpdated"}  # type: ignore[union-attr]
    nodes = {
        name
        for name, t in schema.type_map.items()
        if "Node" in [i.name for i in getattr(t, "interfaces", [])]
    }
    assert nodes - {"Account", "User"} == set(NODE_KINDS)


@dataclass
class World:
    """Account A with an owner, one member per permission holding only it, a
    member to act on, and a stranger who owns account B."""

    database: Database
    http: httpx.AsyncClient
    account: Account
    only: dict[Permission, GraphQLClient]
    stranger: GraphQLClient
    target: Membership
    # API clients: one per permission holding only it, and one of account B.
    client_only: dict[Permission, GraphQLClient]
    stranger_client: GraphQLClient
    # API clients of the account A is linked under (made by its owner): one per
    # permission allowed linked accounts, and one with every permission not allowed.
    linked_only: dict[Permission, GraphQLClient]
    unlinked_client: GraphQLClient

    async def contact(self) -> Contact:
        row = Contact(
            account_id=self.account.id,
            first_name="Rosa",
            email=f"rosa-{uuid.uuid4().hex[:8]}@example.com",
            categories=frozenset({EmailCategory.GENERAL}),
        )
        return await self._add(row)

    async def invitation(self) -> Invitation:
        row = Invitation(
            account_id=self.account.id,
            email=f"nuevo-{uuid.uuid4().hex[:8]}@example.com",
            token_hash=uuid.uuid4().hex,
            expires_at=utcnow() + INVITATION_LIFETIME,
        )
        return await self._add(row)

    async def activity(self) -> ActivityEntry:
        row = ActivityEntry(
            account_id=self.account.id,
            actor_kind=ActorKind.SYSTEM,
            actor_label="system",
            action=ActivityAction.PROFILE_UPDATED,
        )
        return await self._add(row)

    async def movement(self) -> LedgerEntry:
        async with self.database.transaction() as session:
            return await post_movement(
                session,
                account_id=self.account.id,
                kind=MovementKind.INVOICE,
                amount_minor=1_000,
                currency=self.account.currency,
                reference="F-1",
            )

    async def invoice(self) -> Invoice:
        return await make_invoice(
            self.database, self.account, f"F-{uuid.uuid4().hex[:6]}", issued_on=utcnow().date()
        )

    async def order(self) -> Order:
        row = Order(
            account_id=self.account.id,
            number=f"P-{uuid.uuid4().hex[:6]}",
            ordered_on=utcnow().date(),
            status=OrderStatus.PENDING,
            currency=self.account.currency,
            total_minor=100,
        )
        return await self._add(row)

    async def service(self) -> Service:
        row = Service(
            account_id=self.account.id,
            name="Hosting",
            kind=ServiceKind.HOSTING,
            status=ServiceStatus.ACTIVE,
            billing_cycle=BillingCycle.MONTHLY,
            currency=self.account.currency,
            recurring_minor=100,
        )
        return await self._add(row)

    async def payment(self) -> Payment:
        row = Payment(
            account_id=self.account.id,
            kind=PaymentKind.TRANSFER_REPORT,
            status=PaymentStatus.REPORTED,
            amount_minor=100,
            currency=self.account.currency,
        )
        return await self._add(row)

    async def case(self) -> SupportCase:
        async with self.database.transaction() as session:
            subcategory = (
                await session.execute(
                    select(CaseSubcategory).where(CaseSubcategory.code == "DATABASE_UPDATE")
                )
            ).scalar_one()
            row = SupportCase(
                account_id=self.account.id,
                number=await next_case_number(session),
                category_id=subcategory.category_id,
                subcategory_id=subcategory.id,
                subject="Cambio de datos",
                description="Nuevo domicilio",
            )
            session.add(row)
        return row

    async def case_comment(self) -> CaseComment:
        row = CaseComment(
            case_id=(await self.case()).id,
            author_kind=AuthorKind.STAFF,
            author_name="Soporte",
            body="Lo revisamos",
        )
        return await self._add(row)

    async def case_attachment(self) -> CaseAttachment:
        row = CaseAttachment(
            case_id=(await self.case()).id,
            filename="nota.txt",
            content_type="text/plain",
            size=4,
            sha256="0" * 64,
        )
        return await self._add(row)

    async def _add(self, row: Any) -> Any:
        async with self.database.session() as session, session.begin():
            session.add(row)
        return row


@pytest.fixture
async def world(app: Any, database: Database, settings: Any) -> AsyncIterator[World]:
    group = await make_account(database, number="MX-8999", name="Grupo")
    group_owner = await make_user(database, "group@example.com", password=PASSWORD)
    await make_membership(database, group_owner, group)
    account = await make_account(
        database, number="MX-9000", name="Matriz", email="matriz@example.com", parent=group
    )
    other = await make_account(database, number="AR-9100", name="Ajena")
    owner = await make_user(database, "owner@example.com", password=PASSWORD)
    await make_membership(database, owner, account)
    await queue_account_notices(database, settings, account, 1)
    async with database.session() as session, session.begin():
        await session.execute(
            update(EmailMessage).values(status=EmailStatus.SENT, sent_at=utcnow())
        )
    target_user = await make_user(database, "target@example.com", password=PASSWORD)
    target = await make_membership(database, target_user, account, Role.MEMBER)
    tokens: dict[Permission, str] = {}
    for permission in Permission:
        user = await make_user(
            database, f"only-{permission.value.lower()}@example.com", password=PASSWORD
        )
        await make_membership(database, user, account, Role.MEMBER, [permission])
        tokens[permission] = await issue_token(database, user)
    stranger = await make_user(database, "stranger@example.com", password=PASSWORD)
    await make_membership(database, stranger, other)
    stranger_token = await issue_token(database, stranger)
    client_keys = {p: await make_api_client(database, account, [p]) for p in Permission}
    stranger_key = await make_api_client(database, other, list(Permission))
    linked_keys = {
        p: await make_api_client(
            database, group, [p], created_by=group_owner, include_linked_accounts=True
        )
        for p in Permission
    }
    unlinked_key = await make_api_client(database, group, list(Permission), created_by=group_owner)
    async with http_client(app) as http:
        yield World(
            database=database,
            http=http,
            account=account,
            only={p: GraphQLClient(http, t) for p, t in tokens.items()},
            stranger=GraphQLClient(http, stranger_token),
            target=target,
            client_only={p: GraphQLClient(http, k) for p, k in client_keys.items()},
            stranger_client=GraphQLClient(http, stranger_key),
            linked_only={p: GraphQLClient(http, k) for p, k in linked_keys.items()},
            unlinked_client=GraphQLClient(http, unlinked_key),
        )


@dataclass(frozen=True)
class Case:
    document: str
    variables: Callable[[World], Awaitable[dict[str, Any]]]
    # Sent as a multipart request with a small PDF at `variables.input.file`.
    upload: bool = False

    async def run(self, client: GraphQLClient, world: World) -> dict[str, Any]:
        variables = await self.variables(world)
        if not self.upload:
            return await client.execute(self.document, variables)
        pdf = ("nota.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")
        return await client.upload(self.document, variables, {"variables.input.file": pdf})


def _account_list(field: str) -> Case:
    async def variables(world: World) -> dict[str, Any]:
        return {"id": gid("Account", world.account.id)}

    return Case(f"query($id: ID!) {{ account(id: $id) {{ {field} {{ totalCount }} }} }}", variables)


def _mutation(name: str, build: Callable[[World], Awaitable[dict[str, Any]]]) -> Case:
    input_type = f"{name[0].upper()}{name[1:]}Input"
    document = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}"
    return Case(document, lambda world: _wrap(build(world)))


async def _wrap(inner: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    return {"input": await inner}


def _node(make: Callable[[World], Awaitable[Any]], type_name: str) -> Case:
    async def variables(world: World) -> dict[str, Any]:
        row = await make(world)
        return {"id": gid(type_name, row.id)}

    return Case("query($id: ID!) { node(id: $id) { id } }", variables)


async def _on_account(world: World, **extra: Any) -> dict[str, Any]:
    return {"accountId": gid("Account", world.account.id), **extra}


async def _contact(world: World, **extra: Any) -> dict[str, Any]:
    return {"contactId": gid("Contact", (await world.contact()).id), **extra}


async def _invitation(world: World) -> dict[str, Any]:
    return {"invitationId": gid("Invitation", (await world.invitation()).id)}


async def _member(world: World, **extra: Any) -> dict[str, Any]:
    return {"memberId": gid("Member", world.target.id), **extra}


async def _new_case(world: World) -> dict[str, Any]:
    async with world.database.session() as session:
        subcategory = (
            await session.execute(
                select(CaseSubcategory).where(CaseSubcategory.code == "DATABASE_UPDATE")
            )
        ).scalar_one()
    return await _on_account(
        world,
        categoryId=gid("CaseCategory", subcategory.category_id),
        subcategoryId=gid("CaseSubcategory", subcategory.id),
        subject="Cambio de datos",
        description="Nuevo domicilio",
        fields=NEW_USER_FIELDS,
    )


async def _service(world: World, **extra: Any) -> dict[str, Any]:
    return {"serviceId": gid("Service", (await world.service()).id), **extra}


async def _case(world: World, **extra: Any) -> dict[str, Any]:
    return {"caseId": gid("Case", (await world.case()).id), **extra}


async def _api_client(world: World) -> dict[str, Any]:
    key = await make_api_client(world.database, world.account, name="Sync")
    async with world.database.session() as session:
        row = (
            await session.execute(select(ApiClient).where(ApiClient.key_hash == hash_token(key)))
        ).scalar_one()
    return {"apiClientId": gid("ApiClient", row.id)}


async def _webhook_endpoint(world: World) -> WebhookEndpoint:
    async with world.database.transaction() as session:
        row = WebhookEndpoint(
            account_id=world.account.id,
            url="https://partner.example.com/hooks",
            event_types=["case.created"],
            secret=new_secret(),
        )
        session.add(row)
    return row


async def _endpoint(world: World, **extra: Any) -> dict[str, Any]:
    row = await _webhook_endpoint(world)
    return {"endpointId": gid("WebhookEndpoint", row.id), **extra}


async def _delivery(world: World) -> dict[str, Any]:
    endpoint = await _webhook_endpoint(world)
    async with world.database.transaction() as session:
        row = WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id="msg_matrix",
            event_type="case.created",
            payload={"type": "case.created", "data": {}},
            status=DeliveryStatus.DEAD,
        )
        session.add(row)
    return {"deliveryId": gid("WebhookDelivery", row.id)}


async def _target_node(world: World) -> Membership:
    return world.target


CASES: dict[str, Case] = {
    "Account.emails": _account_list("emails"),
    "Account.contacts": _account_list("contacts"),
    "Account.members": _account_list("members"),
    "Account.invitations": _account_list("invitations"),
    "Account.activity": _account_list("activity"),
    "Account.ledger": _account_list("ledger"),
    "Account.invoices": _account_list("invoices"),
    "Account.payments": _account_list("payments"),
    "Account.orders": _account_list("orders"),
    "Account.statement": Case(
        'query($id: ID!) { account(id: $id) { statement(from: "2026-01-01", to: "2026-01-31") '
        "{ closingBalance { amount } } } }",
        _account_list("ledger").variables,
    ),
    "Account.services": _account_list("services"),
    "Account.paymentOptions": Case(
        "query($id: ID!) { account(id: $id) { paymentOptions { balance { amount } } } }",
        _account_list("ledger").variables,
    ),
    "Account.balance": Case(
        "query($id: ID!) { account(id: $id) { balance { amount } } }",
        _account_list("ledger").variables,
    ),
    "Account.consolidatedBalance": Case(
        "query($id: ID!) { account(id: $id) { consolidatedBalance { amount } } }",
        _account_list("ledger").variables,
    ),
    "Account.cases": _account_list("cases"),
    "Account.catalogue": Case(
        "query($id: ID!) { account(id: $id) { catalogue { code } } }",
        _account_list("ledger").variables,
    ),
    "Mutation.requestServiceChange": _mutation(
        "requestServiceChange",
        lambda w: _service(w, kind="CANCEL"),  # without the note CANCEL needs: a userError
    ),
    "Mutation.resetServiceCredentials": Case(
        "mutation($input: ServiceInput!) { resetServiceCredentials(input: $input) { __typename } }",
        lambda w: _wrap(_service(w)),
    ),
    "Mutation.revealServiceCredentials": Case(
        "mutation($input: ServiceInput!) { revealServiceCredentials(input: $input) "
        "{ userErrors { code } } }",
        lambda w: _wrap(_service(w)),
    ),
    "Mutation.createOrder": _mutation(
        "createOrder", lambda w: _on_account(w, lines=[{"productCode": "NONE", "quantity": 1}])
    ),
    "Mutation.createCase": _mutation("createCase", _new_case),
    "Mutation.addCaseComment": _mutation("addCaseComment", lambda w: _case(w, body="Gracias")),
    "Mutation.addCaseAttachment": Case(
        "mutation($input: AddCaseAttachmentInput!) { addCaseAttachment(input: $input) "
        "{ userErrors { code } } }",
        lambda w: _wrap(_case(w, file=None)),
        upload=True,
    ),
    "Mutation.closeCase": _mutation("closeCase", _case),
    "Mutation.switchAccount": _mutation("switchAccount", _on_account),
    "Mutation.startPayment": _mutation("startPayment", lambda w: _on_account(w, amount="10.00")),
    "Mutation.reportPayment": _mutation(
        "reportPayment",
        lambda w: _on_account(w, amount="10.00", paidOn="2026-01-02", reference="SPEI 1"),
    ),
    "Mutation.updateAccountProfile": _mutation(
        "updateAccountProfile", lambda w: _on_account(w, companyName="Matriz SA")
    ),
    "Mutation.setSecurityPin": _mutation(
        "setSecurityPin", lambda w: _on_account(w, pin="8264", currentPassword=PASSWORD)
    ),
    "Mutation.createContact": _mutation(
        "createContact",
        lambda w: _on_account(w, firstName="Rosa", email=f"r{uuid.uuid4().hex[:6]}@example.com"),
    ),
    "Mutation.updateContact": _mutation("updateContact", lambda w: _contact(w, company="Obra")),
    "Mutation.deleteContact": _mutation("deleteContact", _contact),
    "Mutation.inviteUser": _mutation(
        "inviteUser",
        lambda w: _on_account(w, email=f"i{uuid.uuid4().hex[:6]}@example.com", permissions=[]),
    ),
    "Mutation.resendInvitation": Case(
        "mutation($input: InvitationInput!) { resendInvitation(input: $input) { __typename } }",
        lambda w: _wrap(_invitation(w)),
    ),
    "Mutation.revokeInvitation": Case(
        "mutation($input: InvitationInput!) { revokeInvitation(input: $input) { __typename } }",
        lambda w: _wrap(_invitation(w)),
    ),
    "Mutation.updateMemberPermissions": _mutation(
        "updateMemberPermissions", lambda w: _member(w, permissions=[])
    ),
    "Mutation.removeMember": _mutation("removeMember", _member),
    "Mutation.grantContactAccess": _mutation(
        "grantContactAccess", lambda w: _contact(w, permissions=[])
    ),
    "Mutation.setMemberAccess": _mutation("setMemberAccess", lambda w: _member(w, enabled=True)),
    "Account.apiClients": _account_list("apiClients"),
    "Mutation.createApiClient": _mutation(
        "createApiClient", lambda w: _on_account(w, name="ERP", permissions=[])
    ),
    "Mutation.rotateApiClientKey": Case(
        "mutation($input: ApiClientInput!) { rotateApiClientKey(input: $input) { __typename } }",
        lambda w: _wrap(_api_client(w)),
    ),
    "Account.webhookEndpoints": _account_list("webhookEndpoints"),
    "Mutation.createWebhookEndpoint": _mutation(
        "createWebhookEndpoint",
        lambda w: _on_account(w, url="https://partner.example.com/", eventTypes=["case.created"]),
    ),
    "Mutation.updateWebhookEndpoint": _mutation(
        "updateWebhookEndpoint", lambda w: _endpoint(w, enabled=False)
    ),
    "Mutation.deleteWebhookEndpoint": Case(
        "mutation($input: WebhookEndpointInput!) { deleteWebhookEndpoint(input: $input) "
        "{ __typename } }",
        lambda w: _wrap(_endpoint(w)),
    ),
    "Mutation.rotateWebhookSecret": Case(
        "mutation($input: WebhookEndpointInput!) { rotateWebhookSecret(input: $input) "
        "{ __typename } }",
        lambda w: _wrap(_endpoint(w)),
    ),
    "Mutation.redeliverWebhook": _mutation("redeliverWebhook", _delivery),
    "Mutation.redeliverWebhooks": _mutation(
        "redeliverWebhooks",
        lambda w: _endpoint(w, **{"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"}),
    ),
    "Mutation.revokeApiClient": Case(
        "mutation($input: ApiClientInput!) { revokeApiClient(input: $input) { __typename } }",
        lambda w: _wrap(_api_client(w)),
    ),
    "Mutation.transferOwnership": _mutation(
        "transferOwnership", lambda w: _member(w, currentPassword=PASSWORD)
    ),
}
NODE_CASES: dict[str, Case] = {
    "EmailMessage": Case(
        "query($id: ID!) { account(id: $id) { id } }", _account_list("emails").variables
    ),
    "Contact": _node(World.contact, "Contact"),
    "Member": _node(_target_node, "Member"),
    "Invitation": _node(World.invitation, "Invitation"),
    "Activity": _node(World.activity, "Activity"),
    "LedgerEntry": _node(World.movement, "LedgerEntry"),
    "Invoice": _node(World.invoice, "Invoice"),
    "Order": _node(World.order, "Order"),
    "Service": _node(World.service, "Service"),
    "Payment": _node(World.payment, "Payment"),
    "Case": _node(World.case, "Case"),
    "CaseComment": _node(World.case_comment, "CaseComment"),
    "CaseAttachment": _node(World.case_attachment, "CaseAttachment"),
}


def _codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (e["extensions"]["code"], e["extensions"].get("permission")) for e in body.get("errors", [])
    ]


async def _check(world: World, case: Case, required: Permission | None) -> None:
    # A person of another account: as if nothing existed.
    body = await case.run(world.stranger, world)
    assert _codes(body) == [("NOT_FOUND", None)], body
    # Then every permission alone: only the required one (any, when None) passes.
    for permission in sorted(Permission, key=lambda p: p == required):
        body = await case.run(world.only[permission], world)
        if required is None or permission is required:
            assert _codes(body) == [], (permission, body)
        else:
            assert _codes(body) == [("FORBIDDEN", required.value)], (permission, body)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_declared_permission_is_enforced(world: World, name: str) -> None:
    await _check(world, CASES[name], declared()[name])


# What only a person does (confirm a password, pay or write in someone's name,
# choose a session's account, manage people and API clients, download links
# signed for a person): an API client holding the permission is
# UNAUTHENTICATED, never let through.
PERSON_ONLY_FOR_CLIENTS = {
    "Account.statement",
    "Mutation.addCaseAttachment",
    "Mutation.addCaseComment",
    "Mutation.createApiClient",
    "Mutation.createCase",
    "Mutation.createWebhookEndpoint",
    "Mutation.deleteWebhookEndpoint",
    "Mutation.grantContactAccess",
    "Mutation.inviteUser",
    "Mutation.redeliverWebhook",
    "Mutation.redeliverWebhooks",
    "Mutation.removeMember",
    "Mutation.reportPayment",
    "Mutation.resendInvitation",
    "Mutation.revealServiceCredentials",
    "Mutation.revokeApiClient",
    "Mutation.rotateApiClientKey",
    "Mutation.rotateWebhookSecret",
    "Mutation.setMemberAccess",
    "Mutation.setSecurityPin",
    "Mutation.startPayment",
    "Mutation.switchAccount",
    "Mutation.transferOwnership",
    "Mutation.updateMemberPermissions",
    "Mutation.updateWebhookEndpoint",
}


async def _check_clients(world: World, name: str, case: Case, required: Permission | None) -> None:
    """API clients follow the same matrix: only their own account (and the
    accounts linked under it when allowed them), only the permissions granted
    to them."""
    for outsider in (world.stranger_client, world.unlinked_client):
        body = await case.run(outsider, world)
        assert _codes(body) == [("NOT_FOUND", None)], body
    clients = [(p, world.client_only[p]) for p in Permission]
    clients += [(p, world.linked_only[p]) for p in Permission]
    for permission, client in sorted(clients, key=lambda c: c[0] == required):
        body = await case.run(client, world)
        if required is None or permission is required:
            expected = [("UNAUTHENTICATED", None)] if name in PERSON_ONLY_FOR_CLIENTS else []
            assert _codes(body) == expected, (permission, body)
        else:
            assert _codes(body) == [("FORBIDDEN", required.value)], (permission, body)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_api_clients_follow_the_matrix(world: World, name: str) -> None:
    await _check_clients(world, name, CASES[name], declared()[name])


@pytest.mark.parametrize("type_name", sorted(NODE_KINDS))
async def test_node_ids_follow_the_same_matrix(world: World, type_name: str) -> None:
    if type_name == "EmailMessage":
        async with world.database.session() as session:
            message = (
                await session.execute(
                    select(EmailMessage).where(EmailMessage.account_id == world.account.id)
                )
            ).scalar_one()
        case = Case(
            "query($id: ID!) { node(id: $id) { id } }",
            lambda _w: _id_of("EmailMessage", message.id),
        )
    else:
        case = NODE_CASES[type_name]
    await _check(world, case, NODE_KINDS[type_name].permission)


async def _id_of(type_name: str, row_id: uuid.UUID) -> dict[str, Any]:
    return {"id": gid(type_name, row_id)}
