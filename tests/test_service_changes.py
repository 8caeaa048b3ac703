"""requestServiceChange: a SERVICES case linked to the service, shown on it,
one open at a time, with its activity, its email and every userError."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from clientzone.db import Database
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, ActivityEntry
from clientzone.models.cases import Case, CaseCategory, CaseStatus, CaseSubcategory
from clientzone.models.mail import EmailMessage
from clientzone.models.memberships import Permission, Role
from clientzone.models.orders import BillingCycle, Service, ServiceKind, ServiceStatus
from tests.helpers import (
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_membership,
    make_user,
)

REQUEST = """
mutation($input: RequestServiceChangeInput!) {
  requestServiceChange(input: $input) {
    changeRequest { kind caseNumber status }
    userErrors { field code message }
  }
}
"""
SERVICES = (
    "{ account { services(first: 5) { nodes { name openChangeRequest { kind caseNumber } } } } }"
)


@dataclass
class Desk:
    database: Database
    account: Account
    service: Service
    client: GraphQLClient


async def _service(database: Database, account: Account, name: str = "Hosting Pro") -> Service:
    service = Service(
        account_id=account.id,
        name=name,
        kind=ServiceKind.HOSTING,
        status=ServiceStatus.ACTIVE,
        billing_cycle=BillingCycle.MONTHLY,
        currency=account.currency,
        recurring_minor=29900,
    )
    async with database.session() as session, session.begin():
        session.add(service)
    return service


@pytest.fixture
async def desk(app: Any, database: Database) -> AsyncIterator[Desk]:
    account = await make_account(database, number="MX-300", email="cuenta@example.com")
    user = await make_user(database, "tecnico@example.com")
    permissions = [Permission.SERVICES_MANAGE, Permission.SERVICES_VIEW, Permission.CASES_VIEW]
    await make_membership(database, user, account, Role.MEMBER, permissions)
    service = await _service(database, account)
    async with http_client(app) as http:
        yield Desk(
            database, account, service, GraphQLClient(http, await issue_token(database, user))
        )


def _input(desk: Desk, kind: str, note: str | None = None) -> dict[str, Any]:
    return {"input": {"serviceId": gid("Service", desk.service.id), "kind": kind, "note": note}}


async def test_a_request_is_a_services_case_shown_on_the_service(desk: Desk) -> None:
    data = await desk.client.data(REQUEST, _input(desk, "UPGRADE", " Necesitamos 50 GB "))
    payload = data["requestServiceChange"]
    assert payload["userErrors"] == []
    request = payload["changeRequest"]
    assert request["kind"] == "UPGRADE"
    assert request["status"] == "NEW"
    services = (await desk.client.data(SERVICES))["account"]["services"]["nodes"]
    assert services == [
        {
            "name": "Hosting Pro",
            "openChangeRequest": {"kind": "UPGRADE", "caseNumber": request["caseNumber"]},
        }
    ]
    async with desk.database.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        category = await session.get(CaseCategory, case.category_id)
        subcategory = await session.get(CaseSubcategory, case.subcategory_id)
        activity = (await session.execute(select(ActivityEntry))).scalar_one()
        email = (await session.execute(select(EmailMessage))).scalar_one()
    assert case.service_id == desk.service.id
    assert (case.subject, case.description) == ("Ampliar Hosting Pro", "Necesitamos 50 GB")
    assert category is not None
    assert subcategory is not None
    assert (category.code, subcategory.code) == ("SERVICES", "SERVICE_CHANGE")
    assert activity.action is ActivityAction.SERVICE_CHANGE_REQUESTED
    assert activity.target == f"Hosting Pro (UPGRADE, {case.display_number})"
    assert email.template == "case_created"
    assert sorted(email.recipients) == ["cuenta@example.com", "tecnico@example.com"]


async def _errors(desk: Desk, kind: str, note: str | None, locale: str = "en") -> list[Any]:
    data = await desk.client.data(
        REQUEST, _input(desk, kind, note), headers={"Accept-Language": locale}
    )
    assert data["requestServiceChange"]["changeRequest"] is None
    return [
        (e["field"], e["code"], e["message"]) for e in data["requestServiceChange"]["userErrors"]
    ]


async def test_bad_input_and_a_second_open_request_are_user_errors(desk: Desk) -> None:
    assert await _errors(desk, "CANCEL", None) == [
        ("note", "REQUIRED", "Tell us why you want to cancel it.")
    ]
    assert await _errors(desk, "RENEW", "  ", "es") == [
        ("note", "REQUIRED", "Este campo es obligatorio.")
    ]
    assert await _errors(desk, "DOWNGRADE", "x" * 2001) == [
        ("note", "TOO_LONG", "At most 2000 characters.")
    ]
    first = await desk.client.data(REQUEST, _input(desk, "CANCEL", "Cerramos la tienda"))
    number = first["requestServiceChange"]["changeRequest"]["caseNumber"]
    assert await _errors(desk, "RENEW", None) == [
        (
            "serviceId",
            "ALREADY_REQUESTED",
            f"There is already an open request for this service (case {number}).",
        )
    ]
    # once the staff settle it, a new request can be made
    async with desk.database.session() as session, session.begin():
        await session.execute(update(Case).values(status=CaseStatus.RESOLVED))
    again = await desk.client.data(REQUEST, _input(desk, "RENEW"))
    assert again["requestServiceChange"]["userErrors"] == []
    async with desk.database.session() as session:
        assert len(list((await session.execute(select(Case))).scalars())) == 2


async def test_a_service_of_another_account_is_not_found(app: Any, desk: Desk) -> None:
    other = await make_account(desk.database, number="MX-301")
    service = await _service(desk.database, other, "Ajeno")
    variables = {"input": {"serviceId": gid("Service", service.id), "kind": "RENEW"}}
    assert await desk.client.error_codes(REQUEST, variables) == ["NOT_FOUND"]
