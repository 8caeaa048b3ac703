"""updatePersonalDetails: the mutation conventions (payload, userErrors, one transaction)."""

from __future__ import annotations

import pytest

from tests.conftest import Portal

UPDATE = """
mutation Update($input: UpdatePersonalDetailsInput!) {
  updatePersonalDetails(input: $input) {
    user { firstName lastName locale }
    userErrors { field code message }
  }
}
"""
ME = "{ viewer { user { firstName lastName locale } } }"


async def test_changes_the_viewers_own_details(portal: Portal) -> None:
    data = await portal.owner.data(
        UPDATE, {"input": {"firstName": "  Ana María ", "lastName": "García Ruiz", "locale": "EN"}}
    )
    payload = data["updatePersonalDetails"]
    assert payload["userErrors"] == []
    assert payload["user"] == {"firstName": "Ana María", "lastName": "García Ruiz", "locale": "EN"}
    assert (await portal.owner.data(ME))["viewer"]["user"] == payload["user"]


async def test_absent_fields_stay_unchanged(portal: Portal) -> None:
    data = await portal.owner.data(UPDATE, {"input": {"locale": "EN"}})
    assert data["updatePersonalDetails"]["user"] == {
        "firstName": "Ana",
        "lastName": "García",
        "locale": "EN",
    }


@pytest.mark.parametrize(
    ("language", "required", "too_long"),
    [
        ("es", "Este campo es obligatorio.", "Máximo 100 caracteres."),
        ("en", "This field is required.", "At most 100 characters."),
    ],
)
async def test_each_bad_field_is_a_localized_user_error_and_nothing_is_written(
    portal: Portal, language: str, required: str, too_long: str
) -> None:
    data = await portal.owner.data(
        UPDATE,
        {"input": {"firstName": "   ", "lastName": "x" * 101, "locale": "EN"}},
        headers={"Accept-Language": language},
    )
    payload = data["updatePersonalDetails"]
    assert payload["user"] is None
    assert payload["userErrors"] == [
        {"field": "firstName", "code": "REQUIRED", "message": required},
        {"field": "lastName", "code": "TOO_LONG", "message": too_long},
    ]
    assert (await portal.owner.data(ME))["viewer"]["user"] == {
        "firstName": "Ana",
        "lastName": "García",
        "locale": "ES",
    }


async def test_the_users_locale_is_used_when_no_language_is_asked_for(portal: Portal) -> None:
    await portal.owner.data(UPDATE, {"input": {"locale": "EN"}})
    data = await portal.owner.data(UPDATE, {"input": {"firstName": ""}})
    assert data["updatePersonalDetails"]["userErrors"][0]["message"] == "This field is required."


async def test_an_unknown_locale_is_refused_by_the_schema(portal: Portal) -> None:
    body = await portal.owner.execute(UPDATE, {"input": {"locale": "FR"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_requires_a_signed_in_person(portal: Portal) -> None:
    body = await portal.anonymous.execute(UPDATE, {"input": {"firstName": "Mallory"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
