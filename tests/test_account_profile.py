"""The account profile (validated per country) and the security PIN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from clientzone.db import Database
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.contacts import Contact, EmailCategory
from tests.conftest import Portal
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_membership,
    make_user,
)
from tests.smtp_server import SmtpServer

UPDATE = """
mutation($input: UpdateAccountProfileInput!) {
  updateAccountProfile(input: $input) {
    account {
      profile {
        companyName phone mobilePhone taxId email locale
        address { street neighborhood city state postalCode country }
      }
    }
    userErrors { field code message }
  }
}
"""
SET_PIN = """
mutation($input: SetSecurityPinInput!) {
  setSecurityPin(input: $input) { account { profile { hasSecurityPin } } userErrors { field code } }
}
"""
ACTIVITY = """
query($filter: ActivityFilterInput) {
  account {
    activity(filter: $filter) {
      nodes { action actor actorKind target ip changes { field before after } }
    }
  }
}
"""


async def _update(
    client: GraphQLClient, account: Account | None = None, **fields: Any
) -> dict[str, Any]:
    headers = {"Accept-Language": fields.pop("language", "es")}
    if account is not None:
        fields["accountId"] = gid("Account", account.id)
    data = await client.data(UPDATE, {"input": fields}, headers)
    payload: dict[str, Any] = data["updateAccountProfile"]
    return payload


def _errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


@pytest.mark.parametrize(
    ("country", "tax_id", "phone", "postal_code", "expected"),
    [
        (
            "MX",
            "gode-561231-gr8",
            "55 1234 5678",
            "06700",
            {"taxId": "GODE561231GR8", "phone": "+525512345678", "postalCode": "06700"},
        ),
        (
            "AR",
            "20123456786",
            "011 4321-5678",
            "C1043AAB",
            {"taxId": "20-12345678-6", "phone": "+541143215678", "postalCode": "C1043AAB"},
        ),
        (
            "ES",
            "x1234567l",
            "912 345 678",
            "28013",
            {"taxId": "X1234567L", "phone": "+34912345678", "postalCode": "28013"},
        ),
    ],
)
async def test_profile_values_are_checked_and_stored_in_their_normal_form(
    portal: Portal,
    country: str,
    tax_id: str,
    phone: str,
    postal_code: str,
    expected: dict[str, str],
) -> None:
    payload = await _update(
        portal.owner,
        portal.parent,
        companyName=" Ferretería La Esperanza SA ",
        phone=phone,
        taxId=tax_id,
        address={"country": country.lower(), "postalCode": postal_code, "city": "Centro"},
    )
    assert payload["userErrors"] == []
    profile = payload["account"]["profile"]
    assert profile["companyName"] == "Ferretería La Esperanza SA"
    assert profile["taxId"] == expected["taxId"]
    assert profile["phone"] == expected["phone"]
    assert profile["address"]["postalCode"] == expected["postalCode"]
    assert profile["address"]["country"] == country


async def test_any_bad_field_changes_nothing_and_each_gets_its_error(
    portal: Portal, database: Database
) -> None:
    before = await _update(
        portal.owner, portal.parent, companyName="Antes SA", address={"country": "MX"}
    )
    assert before["userErrors"] == []
    payload = await _update(
        portal.owner,
        portal.parent,
        language="en",
        companyName="Después SA",
        email="no-es-email",
        phone="12",
        taxId="GODE561231GR9",  # wrong check digit
        address={"postalCode": "6700", "street": "x" * 201},
    )
    assert payload["account"] is None
    assert payload["userErrors"] == [
        {
            "field": "email",
            "code": "INVALID_EMAIL",
            "message": "Enter a valid email, such as name@company.com.",
        },
        {
            "field": "phone",
            "code": "INVALID_PHONE",
            "message": "Enter a valid phone number; from another country, with its code (+52...).",
        },
        {"field": "address.street", "code": "TOO_LONG", "message": "At most 200 characters."},
        {
            "field": "address.postalCode",
            "code": "INVALID_POSTAL_CODE",
            "message": "The postal code is not valid for MX.",
        },
        {"field": "taxId", "code": "INVALID_TAX_ID", "message": "The tax id is not valid for MX."},
    ]
    async with database.session() as session:
        row = (
            await session.execute(select(Account).where(Account.id == portal.parent.id))
        ).scalar_one()
    assert row.company_name == "Antes SA"


@pytest.mark.parametrize(
    ("country", "tax_id"),
    [("AR", "20-12345678-5"), ("ES", "12345678A"), ("ES", "B12345675"), ("MX", "ABC")],
)
async def test_tax_ids_with_a_wrong_check_digit_are_refused(
    portal: Portal, country: str, tax_id: str
) -> None:
    payload = await _update(portal.owner, portal.parent, taxId=tax_id, address={"country": country})
    assert _errors(payload) == [("taxId", "INVALID_TAX_ID")]


async def test_unknown_country_codes_are_refused(portal: Portal) -> None:
    payload = await _update(portal.owner, portal.parent, address={"country": "XX"})
    assert _errors(payload) == [("address.country", "INVALID_COUNTRY")]


async def test_a_change_is_recorded_and_announced_to_the_account(
    portal: Portal, database: Database, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    async with database.session() as session, session.begin():
        session.add(
            Contact(
                account_id=portal.parent.id,
                first_name="Compras",
                email="compras@example.com",
                categories=frozenset({EmailCategory.GENERAL}),
            )
        )
        session.add(
            Contact(
                account_id=portal.parent.id,
                first_name="Facturas",
                email="facturas@example.com",
                categories=frozenset({EmailCategory.INVOICES}),
            )
        )
    payload = await _update(portal.owner, portal.parent, companyName="Nueva SA", locale="EN")
    assert payload["userErrors"] == []
    unchanged = await _update(portal.owner, portal.parent, companyName="Nueva SA")
    assert unchanged["userErrors"] == []
    data = await portal.owner.data(
        ACTIVITY, headers={"User-Agent": "Edge", "X-Account-Id": gid("Account", portal.parent.id)}
    )
    [entry] = data["account"]["activity"]["nodes"]
    assert entry["action"] == "PROFILE_UPDATED"
    assert entry["actor"] == "ana@example.com"
    assert entry["actorKind"] == "USER"
    assert {c["field"]: (c["before"], c["after"]) for c in entry["changes"]} == {
        "company_name": (None, "Nueva SA"),
        "locale": ("es", "en"),
    }
    await mail_worker.drain()
    [notice] = smtp_server.received
    assert notice.recipients == ["compras@example.com"]  # GENERAL only; the account has no email
    assert notice.message["Subject"] == "Details of account MX-1000 updated"
    assert "Company name" in notice.text


async def test_members_need_profile_edit_to_change_but_read_the_profile(portal: Portal) -> None:
    body = await portal.member.execute(
        UPDATE, {"input": {"companyName": "X", "accountId": gid("Account", portal.parent.id)}}
    )
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "permission": "PROFILE_EDIT"}
    read = await portal.member.data("{ account { profile { companyName } } }")
    assert "companyName" in read["account"]["profile"]


@pytest.mark.parametrize(
    ("pin", "code"),
    [
        ("0000", "TRIVIAL_PIN"),
        ("1234", "TRIVIAL_PIN"),
        ("4321", "TRIVIAL_PIN"),
        ("7890", "TRIVIAL_PIN"),
        ("1212", "TRIVIAL_PIN"),
        ("123123", "TRIVIAL_PIN"),
        ("12a4", "INVALID_PIN"),
        ("123", "INVALID_PIN"),
        ("123456789", "INVALID_PIN"),
        ("", "REQUIRED"),
    ],
)
async def test_trivial_or_malformed_pins_are_refused(
    pin_owner: GraphQLClient, pin: str, code: str
) -> None:
    data = await pin_owner.data(SET_PIN, {"input": {"pin": pin, "currentPassword": PASSWORD}})
    assert data["setSecurityPin"]["userErrors"] == [{"field": "pin", "code": code}]


@pytest.fixture
async def pin_owner(app: Any, database: Database) -> AsyncIterator[GraphQLClient]:
    """The owner of MX-7100, signed in with a password."""
    user = await make_user(database, "pin@example.com", password=PASSWORD)
    account = await make_account(database, number="MX-7100", email="pin-cuenta@example.com")
    await make_membership(database, user, account)
    token = await issue_token(database, user)
    async with http_client(app) as http:
        yield GraphQLClient(http, token)


async def test_a_pin_needs_the_password_and_is_stored_hashed(
    pin_owner: GraphQLClient, database: Database
) -> None:
    client = pin_owner
    wrong = await client.data(SET_PIN, {"input": {"pin": "8264", "currentPassword": "x-wrong"}})
    assert wrong["setSecurityPin"]["userErrors"] == [
        {"field": "currentPassword", "code": "INVALID_PASSWORD"}
    ]
    data = await client.data(SET_PIN, {"input": {"pin": "8264", "currentPassword": PASSWORD}})
    assert data["setSecurityPin"] == {
        "account": {"profile": {"hasSecurityPin": True}},
        "userErrors": [],
    }
    async with database.session() as session:
        row = (
            await session.execute(select(Account).where(Account.number == "MX-7100"))
        ).scalar_one()
    assert row.security_pin_hash is not None
    assert row.security_pin_hash.startswith("$argon2id$")
    assert "8264" not in row.security_pin_hash
    activity = await client.data(ACTIVITY, {"filter": {"actions": ["SECURITY_PIN_SET"]}})
    [entry] = activity["account"]["activity"]["nodes"]
    assert entry["changes"] == [{"field": "security_pin", "before": None, "after": None}]
