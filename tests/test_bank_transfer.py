"""Bank transfer details: the company's accounts in the customer's currency
(CLABE, CBU and alias, IBAN; checked when the service starts) and the
reference to quote."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from clientzone.config import Settings
from clientzone.core import validators
from clientzone.db import Database
from tests.test_payments import open_shop

ACCOUNTS = [
    {"currency": "MXN", "bank": "BBVA", "holder": "Empresa SA", "clabe": "032 180 000118359719"},
    {
        "currency": "ARS",
        "bank": "Galicia",
        "holder": "Empresa SRL",
        "cbu": "2850590940090418135201",
        "alias": "empresa.pagos",
    },
    {
        "currency": "EUR",
        "bank": "CaixaBank",
        "holder": "Empresa SL",
        "iban": "ES91 2100 0418 4502 0005 1332",
        "bic": "CAIXESBBXXX",
    },
]
QUERY = """{ account { number paymentOptions { bankTransfer { reference
  accounts { currency bank holder clabe cbu alias iban bic } } } } }"""


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (validators.clabe, "032180000118359719", "032180000118359718"),
        (validators.cbu, "2850590940090418135201", "2850590940090418135202"),
        (validators.iban, "ES9121000418450200051332", "ES9121000418450200051333"),
    ],
)
def test_bank_numbers_are_checked(check: object, good: str, bad: str) -> None:
    assert check(good) == good  # type: ignore[operator]
    assert check(bad) is None  # type: ignore[operator]
    assert check("12") is None  # type: ignore[operator]


def test_bank_accounts_come_from_the_environment_and_are_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANK_ACCOUNTS", json.dumps(ACCOUNTS))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert [a.clabe or a.cbu or a.iban for a in settings.bank_accounts] == [
        "032180000118359719",
        "2850590940090418135201",
        "ES9121000418450200051332",
    ]
    wrong = [{**ACCOUNTS[0], "clabe": "032180000118359718"}]
    monkeypatch.setenv("BANK_ACCOUNTS", json.dumps(wrong))
    with pytest.raises(ValidationError, match="not a valid CLABE"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("BANK_ACCOUNTS", json.dumps([{**ACCOUNTS[2], "iban": None}]))
    with pytest.raises(ValidationError, match="needs its IBAN"):
        Settings(_env_file=None)  # type: ignore[call-arg]


async def test_the_account_sees_the_accounts_in_its_currency_and_its_reference(
    settings: Settings, database: Database
) -> None:
    configured = Settings.model_validate({**settings.model_dump(), "bank_accounts": ACCOUNTS})
    async with open_shop(configured, database) as shop:
        account = (await shop.client.data(QUERY))["account"]
    transfer = account["paymentOptions"]["bankTransfer"]
    assert transfer["accounts"] == [
        {
            "currency": "MXN",
            "bank": "BBVA",
            "holder": "Empresa SA",
            "clabe": "032180000118359719",
            "cbu": None,
            "alias": None,
            "iban": None,
            "bic": None,
        }
    ]
    number, _, check = transfer["reference"].rpartition("-")
    assert number == account["number"]
    assert len(check) == 2


async def test_without_accounts_the_list_is_empty(settings: Settings, database: Database) -> None:
    async with open_shop(settings, database) as shop:
        transfer = (await shop.client.data(QUERY))["account"]["paymentOptions"]["bankTransfer"]
    assert transfer["accounts"] == []
