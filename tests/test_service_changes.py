"""requestServiceChange: a SERVICES case linked to the service, shown on it,
one open at a time, with its activity, its email and every userError."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text, update

from clientzone.config import Settings
from clientzone.core.credentials import CredentialsUnreadable, unseal
from clientzone.db import Database
from clientzone.importers.billing import import_billing
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


REVEAL = """
mutation($input: ServiceInput!) {
  revealServiceCredentials(input: $input) {
    credentials { username password }
    userErrors { field code message }
  }
}
"""
RESET = """
mutation($input: ServiceInput!) {
  resetServiceCredentials(input: $input) {
    changeRequest { kind caseNumber status }
    userErrors { field code message }
  }
}
"""
SECRET = "Zq8-very-secret-panel-password"


def _service_line(external_id: str, **extra: Any) -> str:
    return json.dumps(
        {
            "type": "service",
            "externalId": external_id,
            "account": "MX-300",
            "name": f"Hosting {external_id}",
            "kind": "HOSTING",
            "recurringAmount": "299.00",
            **extra,
        }
    )


async def test_imported_credentials_are_sealed_and_revealed_with_activity(
    desk: Desk, settings: Settings
) -> None:
    credentials = {"username": "esperanza", "password": SECRET}
    report = await import_billing(
        desk.database,
        [_service_line("s-1", credentials=credentials)],
        credentials_key=settings.credentials_key(),
    )
    assert report.errors == []
    async with desk.database.session() as session:
        service = (
            await session.execute(select(Service).where(Service.external_id == "s-1"))
        ).scalar_one()
        raw = (
            await session.execute(
                text("SELECT credentials_sealed FROM services WHERE external_id = 's-1'")
            )
        ).scalar_one()
    assert SECRET not in raw
    assert "esperanza" not in raw
    listed = await desk.client.data(
        "{ account { services(first: 5) { nodes { name hasCredentials } } } }"
    )
    assert {s["name"]: s["hasCredentials"] for s in listed["account"]["services"]["nodes"]} == {
        "Hosting Pro": False,
        "Hosting s-1": True,
    }
    variables = {"input": {"serviceId": gid("Service", service.id)}}
    for _ in range(2):
        data = await desk.client.data(REVEAL, variables)
        assert data["revealServiceCredentials"] == {
            "credentials": {"username": "esperanza", "password": SECRET},
            "userErrors": [],
        }
    async with desk.database.session() as session:
        entries = list((await session.execute(select(ActivityEntry))).scalars())
    assert [(e.action, e.target) for e in entries] == [
        (ActivityAction.SERVICE_CREDENTIALS_REVEALED, "Hosting s-1")
    ] * 2
    # sealed with another key: not readable, never junk
    other = settings.model_copy(update={"service_credentials_key": "k" * 40})
    assert other.credentials_key() != settings.credentials_key()
    with pytest.raises(CredentialsUnreadable):
        unseal(other.credentials_key(), raw)


async def test_a_service_without_credentials_has_none_to_reveal(desk: Desk) -> None:
    variables = {"input": {"serviceId": gid("Service", desk.service.id)}}
    data = await desk.client.data(REVEAL, variables, headers={"Accept-Language": "es"})
    assert data["revealServiceCredentials"] == {
        "credentials": None,
        "userErrors": [
            {
                "field": "serviceId",
                "code": "NO_CREDENTIALS",
                "message": "No guardamos credenciales de este servicio.",
            }
        ],
    }


async def test_bad_credentials_on_a_service_line_are_bad_lines(
    desk: Desk, settings: Settings
) -> None:
    key = settings.credentials_key()
    good = {"username": "u", "password": "p"}
    lines = [
        _service_line("b-1", credentials="u:p"),
        _service_line("b-2", credentials={"username": "u"}),
        _service_line("b-3", credentials={"username": " ", "password": "p"}),
        _service_line("b-4", credentials={"username": "u", "password": "p" * 201}),
    ]
    report = await import_billing(desk.database, lines, credentials_key=key)
    assert report.errors == [
        (1, "credentials must be an object with username and password"),
        (2, "credentials.password is missing, not a text or longer than 200 characters"),
        (3, "username is missing or not a text"),
        (4, "credentials.password is missing, not a text or longer than 200 characters"),
    ]
    report = await import_billing(desk.database, [_service_line("b-5", credentials=good)])
    assert report.errors == [(1, "credentials cannot be stored: the import was given no key")]


async def test_new_credentials_are_asked_for_once_at_a_time(desk: Desk) -> None:
    variables = {"input": {"serviceId": gid("Service", desk.service.id)}}
    first = (await desk.client.data(RESET, variables))["resetServiceCredentials"]
    assert first["userErrors"] == []
    again = (await desk.client.data(RESET, variables, headers={"Accept-Language": "en"}))[
        "resetServiceCredentials"
    ]
    number = first["changeRequest"]["caseNumber"]
    assert again == {
        "changeRequest": None,
        "userErrors": [
            {
                "field": "serviceId",
                "code": "ALREADY_REQUESTED",
                "message": f"There is already an open request for this service (case {number}).",
            }
        ],
    }
    # the same asked as a change kind is the same request
    same = await desk.client.data(REQUEST, _input(desk, "NEW_CREDENTIALS"))
    assert [e["code"] for e in same["requestServiceChange"]["userErrors"]] == ["ALREADY_REQUESTED"]
    # a change of plan is another matter: not blocked by it, and the service
    # shows the change request first
    change = await desk.client.data(REQUEST, _input(desk, "RENEW"))
    assert change["requestServiceChange"]["userErrors"] == []
    async with desk.database.session() as session:
        cases = list((await session.execute(select(Case).order_by(Case.number))).scalars())
        activity = [e.action for e in (await session.execute(select(ActivityEntry))).scalars()]
    assert [(c.subject, c.fields) for c in cases] == [
        ("Nuevas credenciales para Hosting Pro", {"kind": "NEW_CREDENTIALS"}),
        ("Renovar Hosting Pro", {"kind": "RENEW"}),
    ]
    assert sorted(activity) == sorted(
        [
            ActivityAction.SERVICE_CREDENTIALS_REQUESTED,
            ActivityAction.SERVICE_CHANGE_REQUESTED,
        ]
    )
    services = (await desk.client.data(SERVICES))["account"]["services"]["nodes"]
    assert services[0]["openChangeRequest"]["kind"] == "RENEW"


def test_every_activity_action_fits_its_column() -> None:
    # StrEnumType stores VARCHAR(32): PostgreSQL refuses a longer name.
    assert max(len(action.value) for action in ActivityAction) <= 32
