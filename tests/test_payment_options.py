"""The portal's payment rules: every combination of document type, balance and limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database
from clientzone.models.ledger import MovementKind, post_movement
from clientzone.resolvers.payment_options import PaymentRule, decide
from tests.helpers import (
    GraphQLClient,
    http_client,
    issue_token,
    make_account,
    make_invoice,
    make_membership,
    make_user,
)

R = PaymentRule
LIMIT = 50_000_00
# balance (minor units) -> name
BALANCES = {
    -100: "in favour",
    0: "zero",
    1: "tiny",
    LIMIT - 1: "just below",
    LIMIT: "at limit",
    LIMIT + 1: "above",
}


def expected(balance: int, limit: int | None, allows: bool | None) -> tuple[list[R], list[R]]:
    online: list[R] = []
    if allows is None:
        online.append(R.NO_INVOICE)
    elif not allows:
        online.append(R.DOCUMENT_TYPE_NOT_PAYABLE_ONLINE)
    if balance <= 0:
        online.append(R.NO_BALANCE_DUE)
    if limit is None:
        online.append(R.NO_LIMIT_FOR_CURRENCY)
    elif balance >= limit:
        online.append(R.BALANCE_NOT_BELOW_LIMIT)
    advance_ok = balance <= 0 or (limit is not None and balance > limit)
    return online, ([] if advance_ok else [R.BALANCE_DUE_WITHIN_LIMIT])


@pytest.mark.parametrize(
    "allows", [True, False, None], ids=["payable", "not-payable", "no-invoice"]
)
@pytest.mark.parametrize("limit", [LIMIT, None], ids=["limit", "no-limit"])
@pytest.mark.parametrize("balance", list(BALANCES), ids=list(BALANCES.values()))
def test_every_combination(balance: int, limit: int | None, allows: bool | None) -> None:
    online, advance = decide(balance_minor=balance, limit_minor=limit, latest_allows_online=allows)
    assert (online, advance) == expected(balance, limit, allows)
    # The two headline rules, said plainly:
    assert (not online) == (allows is True and limit is not None and 0 < balance < limit)
    assert (not advance) == (balance <= 0 or (limit is not None and balance > limit))


QUERY = """
{ account { paymentOptions {
    balance { amount } onlinePaymentLimit { amount currency } latestDocumentType
    onlinePayment { available reasons explanations }
    payInAdvance { available reasons }
} } }
"""


async def _client(app: Any, database: Database, balance: int, document_type: str | None) -> Any:
    user = await make_user(database)
    account = await make_account(database)
    await make_membership(database, user, account)
    if document_type:
        today = datetime.now(UTC).date()
        await make_invoice(
            database,
            account,
            "F-1",
            issued_on=today - timedelta(days=40),
            document_type="CFDI_INGRESO",
        )
        await make_invoice(database, account, "F-2", issued_on=today, document_type=document_type)
    if balance:
        async with database.transaction() as session:
            await post_movement(
                session,
                account_id=account.id,
                kind=MovementKind.ADJUSTMENT,
                amount_minor=balance,
                currency="MXN",
                reference="A-1",
            )
    return await issue_token(database, user)


async def test_payment_options_over_http(settings: Settings, database: Database) -> None:
    app = create_app(
        settings.model_copy(update={"payment_online_limits": {"MXN": Decimal(50_000)}}), database
    )
    token = await _client(app, database, 1_250_00, "CFDI_INGRESO")
    async with http_client(app) as http:
        data = await GraphQLClient(http, token).data(QUERY)
    options = data["account"]["paymentOptions"]
    assert options["balance"] == {"amount": "1250.00"}
    assert options["onlinePaymentLimit"] == {"amount": "50000.00", "currency": "MXN"}
    assert options["latestDocumentType"] == "CFDI_INGRESO"
    assert options["onlinePayment"] == {"available": True, "reasons": [], "explanations": []}
    assert options["payInAdvance"] == {"available": False, "reasons": ["BALANCE_DUE_WITHIN_LIMIT"]}
    # The most recent invoice decides: a credit note on top refuses online payment.
    token = await _client(app, database, 1_250_00, "NOTA_CREDITO")
    async with http_client(app) as http:
        data = await GraphQLClient(http, token).data(QUERY, headers={"Accept-Language": "en"})
    online = data["account"]["paymentOptions"]["onlinePayment"]
    assert online == {
        "available": False,
        "reasons": ["DOCUMENT_TYPE_NOT_PAYABLE_ONLINE"],
        "explanations": ["Your latest invoice's document type cannot be paid online."],
    }
