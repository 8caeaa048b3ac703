"""The billing desk over GraphQL: reported transfers confirmed once (even by
agents racing) or rejected with an email saying why; online payments
refunded; an account's own online-payment limit; the document types' flag.
Every input mistake is a userError and changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.models.ledger import LedgerEntry
from clientzone.models.mail import EmailMessage
from clientzone.models.staff import StaffAuditRecord, StaffRole
from tests.helpers import GraphQLClient, gid, make_staff
from tests.test_payments import STATE, Shop, _report, _start, _webhook, open_shop

QUEUE = """
{ staff { transfers { totalCount nodes { payment { id status amount { amount currency }
  reference } account { number } } } } }
"""
CONFIRM = """
mutation($input: StaffConfirmTransferInput!) {
  staffConfirmTransfer(input: $input) {
    payment { status reference amount { amount } } userErrors { field code message }
  }
}
"""
REJECT = """
mutation($input: StaffRejectTransferInput!) {
  staffRejectTransfer(input: $input) { payment { status } userErrors { field code message } }
}
"""
REFUND = """
mutation($input: StaffRefundPaymentInput!) {
  staffRefundPayment(input: $input) { payment { status } userErrors { field code } }
}
"""
LIMIT = """
mutation($input: StaffSetOnlinePaymentLimitInput!) {
  staffSetOnlinePaymentLimit(input: $input) {
    account { number } onlinePaymentLimit { amount currency } userErrors { field code }
  }
}
"""
DOCUMENT_TYPE = """
mutation($input: StaffSetDocumentTypeOnlinePaymentInput!) {
  staffSetDocumentTypeOnlinePayment(input: $input) {
    documentType { code allowsOnlinePayment } userErrors { field code message }
  }
}
"""
OPTIONS = "{ account { paymentOptions { onlinePayment { available reasons } } } }"


@dataclass
class Desk:
    shop: Shop
    agent: GraphQLClient
    database: Database


@pytest.fixture
async def desk(settings: Settings, database: Database) -> AsyncIterator[Desk]:
    async with open_shop(settings, database) as shop:
        _, token = await make_staff(database, StaffRole.BILLING_AGENT)
        yield Desk(shop, GraphQLClient(shop.http, token), database)


async def _reported(desk: Desk, amount: str = "500.00") -> str:
    reported = await _report(desk.shop, None, amount=amount)
    assert reported["userErrors"] == []
    queue = await desk.agent.data(QUEUE)
    payment_id: str = queue["staff"]["transfers"]["nodes"][-1]["payment"]["id"]
    return payment_id


async def _count(database: Database, statement: Any) -> int:
    async with database.session() as session:
        return int((await session.execute(statement)).scalar_one())


async def test_a_confirmed_transfer_is_posted_once_with_its_receipt(desk: Desk) -> None:
    payment_id = await _reported(desk)
    queue = (await desk.agent.data(QUEUE))["staff"]["transfers"]
    assert queue["totalCount"] == 1
    assert queue["nodes"][0]["account"] == {"number": desk.shop.account.number}
    assert queue["nodes"][0]["payment"]["status"] == "REPORTED"
    before = (await desk.shop.client.data(STATE))["account"]["balance"]["amount"]

    # Five agents confirming at once: one posts it, the others are told it is decided.
    results = await asyncio.gather(
        *(
            desk.agent.data(CONFIRM, {"input": {"paymentId": payment_id, "note": "extracto 3/12"}})
            for _ in range(5)
        )
    )
    payloads = [r["staffConfirmTransfer"] for r in results]
    confirmed = [p for p in payloads if not p["userErrors"]]
    assert len(confirmed) == 1
    # the customer's own reference stays; the whole amount is credited
    assert confirmed[0]["payment"] == {
        "status": "SUCCEEDED",
        "reference": "SPEI 12345",
        "amount": {"amount": "500.00"},
    }
    assert (
        sorted(p["userErrors"][0]["code"] for p in payloads if p["userErrors"])
        == ["ALREADY_DECIDED"] * 4
    )
    state = (await desk.shop.client.data(STATE))["account"]
    assert float(state["balance"]["amount"]) == pytest.approx(float(before) - 500)
    # 116 owed on the oldest invoice (paid), 384 left for the next one
    assert state["invoices"]["nodes"][0]["status"] == "PAID"
    payments = await _count(
        desk.database,
        select(func.count()).where(
            LedgerEntry.account_id == desk.shop.account.id,  # type: ignore[arg-type]
            LedgerEntry.kind == "PAYMENT",  # type: ignore[arg-type]
        ),
    )
    assert payments == 1
    receipts = await _count(
        desk.database,
        select(func.count()).where(EmailMessage.template == "payment_receipt"),  # type: ignore[arg-type]
    )
    assert receipts == 1
    audited = await _count(
        desk.database,
        select(func.count()).where(StaffAuditRecord.action == "TRANSFER_CONFIRMED"),  # type: ignore[arg-type]
    )
    assert audited == 1
    assert (await desk.agent.data(QUEUE))["staff"]["transfers"]["totalCount"] == 0
    # decided: rejecting it now changes nothing
    late = await desk.agent.data(REJECT, {"input": {"paymentId": payment_id, "reason": "no"}})
    assert late["staffRejectTransfer"]["userErrors"][0]["code"] == "ALREADY_DECIDED"


async def test_a_rejected_transfer_tells_the_customer_why(desk: Desk) -> None:
    payment_id = await _reported(desk)
    before = (await desk.shop.client.data(STATE))["account"]["balance"]
    for reason, code in (("   ", "REQUIRED"), ("x" * 501, "TOO_LONG")):
        refused = await desk.agent.data(
            REJECT, {"input": {"paymentId": payment_id, "reason": reason}}
        )
        assert refused["staffRejectTransfer"]["userErrors"][0]["field"] == "reason"
        assert refused["staffRejectTransfer"]["userErrors"][0]["code"] == code
    rejected = await desk.agent.data(
        REJECT,
        {"input": {"paymentId": payment_id, "reason": "No aparece en el extracto del banco."}},
    )
    assert rejected["staffRejectTransfer"] == {"payment": {"status": "FAILED"}, "userErrors": []}
    assert (await desk.shop.client.data(STATE))["account"]["balance"] == before
    async with desk.database.session() as session:
        [message] = (
            (
                await session.execute(
                    select(EmailMessage).where(EmailMessage.template == "transfer_rejected")  # type: ignore[arg-type]
                )
            )
            .scalars()
            .all()
        )
    assert message.recipients == ["pagos@example.com"]
    assert "No aparece en el extracto del banco." in message.text_body
    assert "SPEI 12345" in message.text_body
    again = await desk.agent.data(CONFIRM, {"input": {"paymentId": payment_id}})
    assert again["staffConfirmTransfer"]["userErrors"][0]["code"] == "ALREADY_DECIDED"


async def test_only_reported_transfers_are_confirmed_and_only_settled_online_payments_refunded(
    desk: Desk,
) -> None:
    shop = desk.shop
    started = await _start(shop, invoiceIds=[gid("Invoice", shop.invoices[0].id)])
    online_id = started["payment"]["id"]
    not_transfer = await desk.agent.data(CONFIRM, {"input": {"paymentId": online_id}})
    assert not_transfer["staffConfirmTransfer"]["userErrors"] == [
        {
            "field": "paymentId",
            "code": "NOT_A_TRANSFER",
            "message": "Ese pago no es una transferencia informada.",
        }
    ]
    pending = await desk.agent.data(REFUND, {"input": {"paymentId": online_id, "reason": "x"}})
    assert pending["staffRefundPayment"]["userErrors"] == [
        {"field": "paymentId", "code": "NOT_REFUNDABLE"}
    ]
    unknown = await desk.agent.execute(
        CONFIRM, {"input": {"paymentId": gid("Payment", uuid.UUID(int=0))}}
    )
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    garbage = await desk.agent.execute(CONFIRM, {"input": {"paymentId": "not an id"}})
    assert garbage["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    # approved through the provider, then refunded by billing staff
    assert await _webhook(shop, online_id, 11_600, "evt-1") == "approved"
    paid = (await shop.client.data(STATE))["account"]
    assert paid["invoices"]["nodes"][0]["status"] == "PAID"
    blank = await desk.agent.data(REFUND, {"input": {"paymentId": online_id, "reason": ""}})
    assert blank["staffRefundPayment"]["userErrors"] == [{"field": "reason", "code": "REQUIRED"}]
    refunded = await desk.agent.data(
        REFUND, {"input": {"paymentId": online_id, "reason": "Cobro duplicado"}}
    )
    assert refunded["staffRefundPayment"] == {"payment": {"status": "REFUNDED"}, "userErrors": []}
    after = (await shop.client.data(STATE))["account"]
    assert after["balance"] == {"amount": "696.00"}
    assert after["invoices"]["nodes"][0]["status"] != "PAID"
    async with desk.database.session() as session:
        [notice] = (
            (
                await session.execute(
                    select(EmailMessage).where(EmailMessage.template == "payment_refunded")  # type: ignore[arg-type]
                )
            )
            .scalars()
            .all()
        )
    assert notice.subject.startswith("Devolución del pago PAY-")
    assert "Te devolvimos 116.00 MXN" in notice.text_body
    twice = await desk.agent.data(REFUND, {"input": {"paymentId": online_id, "reason": "x"}})
    assert twice["staffRefundPayment"]["userErrors"][0]["code"] == "NOT_REFUNDABLE"


async def test_an_accounts_own_online_payment_limit(desk: Desk) -> None:
    account_id = gid("Account", desk.shop.account.id)
    # 696 MXN owed: below the currency's 10,000
    options = await desk.shop.client.data(OPTIONS)
    assert options["account"]["paymentOptions"]["onlinePayment"]["available"] is True
    for limit in ("-1", "0", "10.001", "1e12"):
        refused = await desk.agent.data(
            LIMIT, {"input": {"accountId": account_id, "limit": limit, "reason": "x"}}
        )
        assert refused["staffSetOnlinePaymentLimit"]["userErrors"] == [
            {"field": "limit", "code": "INVALID_AMOUNT"}
        ], limit
    no_reason = await desk.agent.data(
        LIMIT, {"input": {"accountId": account_id, "limit": "500", "reason": " "}}
    )
    assert no_reason["staffSetOnlinePaymentLimit"]["userErrors"] == [
        {"field": "reason", "code": "REQUIRED"}
    ]
    options = await desk.shop.client.data(OPTIONS)
    assert options["account"]["paymentOptions"]["onlinePayment"]["available"] is True

    lowered = await desk.agent.data(
        LIMIT, {"input": {"accountId": account_id, "limit": "500.50", "reason": "Riesgo"}}
    )
    assert lowered["staffSetOnlinePaymentLimit"] == {
        "account": {"number": desk.shop.account.number},
        "onlinePaymentLimit": {"amount": "500.50", "currency": "MXN"},
        "userErrors": [],
    }
    online = (await desk.shop.client.data(OPTIONS))["account"]["paymentOptions"]["onlinePayment"]
    assert online == {"available": False, "reasons": ["BALANCE_NOT_BELOW_LIMIT"]}
    back = await desk.agent.data(
        LIMIT, {"input": {"accountId": account_id, "limit": None, "reason": "Revisado"}}
    )
    assert back["staffSetOnlinePaymentLimit"]["onlinePaymentLimit"] is None
    online = (await desk.shop.client.data(OPTIONS))["account"]["paymentOptions"]["onlinePayment"]
    assert online["available"] is True


async def test_a_document_types_online_payment_flag(desk: Desk) -> None:
    code = desk.shop.invoices[-1].document_type
    unknown = await desk.agent.data(
        DOCUMENT_TYPE, {"input": {"code": "NOPE", "allowsOnlinePayment": False, "reason": "x"}}
    )
    assert unknown["staffSetDocumentTypeOnlinePayment"] == {
        "documentType": None,
        "userErrors": [
            {
                "field": "code",
                "code": "NO_SUCH_DOCUMENT_TYPE",
                "message": "No existe ese tipo de documento.",
            }
        ],
    }
    off = await desk.agent.data(
        DOCUMENT_TYPE, {"input": {"code": code, "allowsOnlinePayment": False, "reason": "Norma"}}
    )
    assert off["staffSetDocumentTypeOnlinePayment"] == {
        "documentType": {"code": code, "allowsOnlinePayment": False},
        "userErrors": [],
    }
    online = (await desk.shop.client.data(OPTIONS))["account"]["paymentOptions"]["onlinePayment"]
    assert online == {"available": False, "reasons": ["DOCUMENT_TYPE_NOT_PAYABLE_ONLINE"]}
    await desk.agent.data(
        DOCUMENT_TYPE, {"input": {"code": code, "allowsOnlinePayment": True, "reason": "Norma"}}
    )
    online = (await desk.shop.client.data(OPTIONS))["account"]["paymentOptions"]["onlinePayment"]
    assert online["available"] is True


async def test_the_queue_says_which_transfers_quote_the_accounts_reference(desk: Desk) -> None:
    bank = "{ account { paymentOptions { bankTransfer { reference } } } }"
    expected = (await desk.shop.client.data(bank))["account"]["paymentOptions"]["bankTransfer"][
        "reference"
    ]
    quoted = f"spei {expected.lower().replace('-', ' ')} abril"
    assert (await _report(desk.shop, None, reference=quoted))["userErrors"] == []
    assert (await _report(desk.shop, None, reference="SPEI 12345"))["userErrors"] == []
    wrong_digits = expected[:-1] + ("0" if expected[-1] != "0" else "1")
    assert (await _report(desk.shop, None, reference=wrong_digits))["userErrors"] == []
    document = (
        "{ staff { transfers { nodes { payment { reference } expectedReference "
        "quotesExpectedReference } } } }"
    )
    nodes = (await desk.agent.data(document))["staff"]["transfers"]["nodes"]
    assert [(n["payment"]["reference"], n["quotesExpectedReference"]) for n in nodes] == [
        (quoted, True),
        ("SPEI 12345", False),
        (wrong_digits, False),
    ]
    assert {n["expectedReference"] for n in nodes} == {expected}


async def test_billing_staff_refund_part_of_a_payment_then_the_rest(desk: Desk) -> None:
    shop = desk.shop
    started = await _start(shop, invoiceIds=[gid("Invoice", shop.invoices[0].id)])
    online_id = started["payment"]["id"]
    assert await _webhook(shop, online_id, 11_600, "evt-1") == "approved"
    refund = """
    mutation($input: StaffRefundPaymentInput!) {
      staffRefundPayment(input: $input) {
        payment { status refunded { amount } } userErrors { field code }
      }
    }
    """
    for amount in ("0", "-5", "116.01", "1.001", "1e12"):
        refused = await desk.agent.data(
            refund, {"input": {"paymentId": online_id, "reason": "x", "amount": amount}}
        )
        assert refused["staffRefundPayment"]["userErrors"] == [
            {"field": "amount", "code": "INVALID_AMOUNT"}
        ], amount
    steps = (
        ("40.00", "SUCCEEDED", "40.00", "620.00", "OVERDUE"),
        ("16.00", "SUCCEEDED", "56.00", "636.00", "OVERDUE"),
        (None, "REFUNDED", "116.00", "696.00", "OVERDUE"),
    )
    for amount, status, refunded, balance, invoice in steps:
        done = await desk.agent.data(
            refund, {"input": {"paymentId": online_id, "reason": "Parcial", "amount": amount}}
        )
        assert done["staffRefundPayment"] == {
            "payment": {"status": status, "refunded": {"amount": refunded}},
            "userErrors": [],
        }
        state = (await shop.client.data(STATE))["account"]
        assert state["balance"] == {"amount": balance}
        assert state["invoices"]["nodes"][0]["status"] == invoice
    async with desk.database.session() as session:
        notices = (
            (
                await session.execute(
                    select(EmailMessage.text_body).where(  # type: ignore[call-overload]
                        EmailMessage.template == "payment_refunded"  # type: ignore[arg-type]
                    )
                )
            )
            .scalars()
            .all()
        )
    assert (
        sorted("40.00 MXN" in n or "16.00 MXN" in n or "60.00 MXN" in n for n in notices)
        == [True] * 3
    )
