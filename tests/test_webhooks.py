"""Outbound webhooks: endpoints managed over GraphQL (secret shown once),
events written with the change, signed per Standard Webhooks, delivered by
the worker to a real local receiver, retried, DEAD, redelivered; private
addresses refused."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from sqlalchemy import select, update
from standardwebhooks import Webhook

from clientzone.config import ConfigError, Environment, MailSender, Settings, load_settings
from clientzone.db import Database
from clientzone.models.base import utcnow
from clientzone.models.mail import EmailMessage
from clientzone.models.memberships import Permission, Role
from clientzone.models.staff import StaffRole
from clientzone.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint, emit
from clientzone.webhooks import signing
from clientzone.webhooks.worker import WebhookWorker, disable
from tests.helpers import (
    NEW_USER_FIELDS,
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_membership,
    make_staff,
    make_user,
)
from tests.test_payments import Shop, _event, _start, open_shop

CREATE = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    secret webhookEndpoint { id url eventTypes enabled } userErrors { field code message }
  }
}
"""
UPDATE = """
mutation($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) {
    webhookEndpoint { url eventTypes enabled } userErrors { field code }
  }
}
"""
ROTATE = """
mutation($input: WebhookEndpointInput!) {
  rotateWebhookSecret(input: $input) { secret userErrors { code } }
}
"""
DELETE = """
mutation($input: WebhookEndpointInput!) {
  deleteWebhookEndpoint(input: $input) { deletedEndpointId userErrors { code } }
}
"""
LOG = """
{ account { webhookEndpoints { totalCount nodes { id url eventTypes enabled
  deliveries(first: 10) { totalCount nodes { id eventId eventType status attempts
  lastStatusCode lastError responsePrefix payload } } } } } }
"""
REDELIVER = """
mutation($input: RedeliverWebhookInput!) {
  redeliverWebhook(input: $input) { delivery { status attempts } userErrors { code } }
}
"""
REDELIVER_RANGE = """
mutation($input: RedeliverWebhooksInput!) {
  redeliverWebhooks(input: $input) { queued userErrors { field code } }
}
"""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 answering with the queued behaviours
    (a status code, or "slow": no answer before the test ends, so the client
    gives up whatever the machine's load)."""

    port: int = 0
    answers: list[int | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    test_over = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            answer = state.answers.pop(0) if state.answers else 200
            if answer == "slow":
                test_over.wait(timeout=60)
                answer = 200
            else:
                state.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            self.send_response(int(answer))
            self.end_headers()
            self.wfile.write(b"ok" if answer == 200 else b"broken " * 100)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    test_over.set()
    server.shutdown()
    server.server_close()


@dataclass
class Hooks:
    shop: Shop
    owner: GraphQLClient
    database: Database

    def worker(self) -> WebhookWorker:
        return WebhookWorker(self.database, self.shop.settings)

    async def create(self, url: str, types: list[str]) -> dict[str, Any]:
        data = await self.owner.data(CREATE, {"input": {"url": url, "eventTypes": types}})
        result: dict[str, Any] = data["createWebhookEndpoint"]
        return result

    async def log(self) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = (await self.owner.data(LOG))["account"]["webhookEndpoints"][
            "nodes"
        ]
        return nodes

    async def emit(self, event_type: str = "case.created") -> None:
        async with self.database.transaction() as session:
            await emit(session, self.shop.account.id, event_type, {"caseId": "c1"})

    async def due_now(self) -> None:
        """Time passes: every waiting delivery is due."""
        async with self.database.transaction() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.FAILED)  # type: ignore[arg-type]
                .values(next_attempt_at=utcnow())
            )


async def _hooks(settings: Settings, database: Database, **overrides: Any) -> AsyncIterator[Hooks]:
    values = {
        "webhook_allow_private_addresses": True,
        "webhook_timeout_seconds": 5.0,  # room for a loaded machine
        "webhook_max_attempts": 3,
        **overrides,
    }
    async with open_shop(settings, database, **values) as shop:
        owner = await make_user(database, "integrador@example.com")
        await make_membership(database, owner, shop.account, Role.OWNER)
        token = await issue_token(database, owner)
        headers = {"X-Account-Id": gid("Account", shop.account.id)}
        async with http_client(shop.app, headers=headers) as http:
            yield Hooks(shop, GraphQLClient(http, token), database)


@pytest.fixture
async def hooks(settings: Settings, database: Database) -> AsyncIterator[Hooks]:
    async for value in _hooks(settings, database):
        yield value


@pytest.fixture
async def guarded(settings: Settings, database: Database) -> AsyncIterator[Hooks]:
    """Private addresses refused, as in production."""
    async for value in _hooks(settings, database, webhook_allow_private_addresses=False):
        yield value


async def test_endpoints_are_managed_and_the_secret_shown_once(hooks: Hooks) -> None:
    created = await hooks.create("https://partner.example.com/hooks", ["payment.succeeded"])
    assert created["userErrors"] == []
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    endpoint_id = created["webhookEndpoint"]["id"]
    [listed] = await hooks.log()
    assert listed["url"] == "https://partner.example.com/hooks"
    assert secret not in json.dumps(listed)
    updated = await hooks.owner.data(
        UPDATE,
        {
            "input": {
                "endpointId": endpoint_id,
                "url": "https://partner.example.com/v2",
                "eventTypes": ["case.updated", "payment.refunded"],
                "enabled": False,
            }
        },
    )
    assert updated["updateWebhookEndpoint"] == {
        "webhookEndpoint": {
            "url": "https://partner.example.com/v2",
            "eventTypes": ["payment.refunded", "case.updated"],
            "enabled": False,
        },
        "userErrors": [],
    }
    rotated = await hooks.owner.data(ROTATE, {"input": {"endpointId": endpoint_id}})
    new_secret = rotated["rotateWebhookSecret"]["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != secret
    deleted = await hooks.owner.data(DELETE, {"input": {"endpointId": endpoint_id}})
    assert deleted["deleteWebhookEndpoint"]["deletedEndpointId"] == endpoint_id
    assert await hooks.log() == []


async def test_bad_input_is_a_user_error(hooks: Hooks) -> None:
    cases = [
        ("", ["case.created"], ("url", "REQUIRED")),
        ("ftp://partner.example.com/", ["case.created"], ("url", "INVALID_URL")),
        ("https://user:pw@partner.example.com/", ["case.created"], ("url", "INVALID_URL")),
        ("not a url", ["case.created"], ("url", "INVALID_URL")),
        ("https://partner.example.com/", [], ("eventTypes", "REQUIRED")),
        ("https://partner.example.com/", ["case.deleted"], ("eventTypes", "UNKNOWN_EVENT_TYPE")),
    ]
    for url, types, expected in cases:
        created = await hooks.create(url, types)
        assert created["secret"] is None
        [error] = created["userErrors"]
        assert (error["field"], error["code"]) == expected, url
        assert error["message"]
    for i in range(10):
        assert (await hooks.create(f"https://p{i}.example.com/", ["case.created"]))["secret"]
    too_many = await hooks.create("https://p10.example.com/", ["case.created"])
    assert [e["code"] for e in too_many["userErrors"]] == ["TOO_MANY_ENDPOINTS"]
    endpoint_id = (await hooks.log())[0]["id"]
    bad_update = await hooks.owner.data(
        UPDATE, {"input": {"endpointId": endpoint_id, "url": "gopher://x", "eventTypes": ["x"]}}
    )
    assert bad_update["updateWebhookEndpoint"]["userErrors"] == [
        {"field": "url", "code": "INVALID_URL"},
        {"field": "eventTypes", "code": "UNKNOWN_EVENT_TYPE"},
    ]
    now = utcnow().isoformat()
    bad_range = await hooks.owner.data(
        REDELIVER_RANGE, {"input": {"endpointId": endpoint_id, "from": now, "to": now}}
    )
    assert bad_range["redeliverWebhooks"]["userErrors"] == [
        {"field": "from", "code": "INVALID_RANGE"}
    ]


async def test_production_requires_https(settings: Settings, database: Database) -> None:
    production = {
        "environment": Environment.PRODUCTION,
        "mail_sender": MailSender.OFF,
        "webhook_allow_private_addresses": False,
    }
    async for hooks in _hooks(settings, database, **production):
        created = await hooks.create("http://partner.example.com/", ["case.created"])
        assert [(e["field"], e["code"]) for e in created["userErrors"]] == [
            ("url", "HTTPS_REQUIRED")
        ]


async def test_subscribed_events_arrive_signed(hooks: Hooks, receiver: Receiver) -> None:
    paid = await hooks.create(receiver.url("/paid"), ["payment.succeeded"])
    await hooks.create(receiver.url("/refunds"), ["payment.refunded"])
    started = await _start(hooks.shop, amount="116.00")
    body = _event(hooks.shop, started["payment"]["id"], "approved", 11_600, "evt-1")
    from clientzone.payments import providers

    response = await hooks.shop.http.post(
        "/webhooks/payments/sandbox",
        content=body,
        headers={"X-Signature": providers.signature(hooks.shop.settings, body)},
    )
    assert response.status_code == 200, response.text
    assert await hooks.worker().drain() == 1
    [request] = receiver.received
    assert request.path == "/paid"
    event = Webhook(paid["secret"]).verify(request.body, request.headers)
    assert event["type"] == "payment.succeeded"
    assert event["version"] == 1
    assert event["data"]["paymentId"] == started["payment"]["id"]
    assert event["data"]["amount"] == "116.00"
    assert event["data"]["invoicesPaid"] == ["F-1"]
    assert event["id"] == request.headers["webhook-id"]
    assert request.headers["webhook-id"].startswith("msg_")
    expected = signing.signature(
        paid["secret"],
        request.headers["webhook-id"],
        int(request.headers["webhook-timestamp"]),
        request.body,
    )
    assert request.headers["webhook-signature"] == expected
    [paid_log, refunds_log] = sorted(await hooks.log(), key=lambda e: e["url"])
    assert [d["status"] for d in paid_log["deliveries"]["nodes"]] == ["DELIVERED"]
    assert refunds_log["deliveries"]["totalCount"] == 0
    refund = _event(hooks.shop, started["payment"]["id"], "refunded", 11_600, "evt-2")
    await hooks.shop.http.post(
        "/webhooks/payments/sandbox",
        content=refund,
        headers={"X-Signature": providers.signature(hooks.shop.settings, refund)},
    )
    assert await hooks.worker().drain() == 1
    assert receiver.received[-1].path == "/refunds"
    assert json.loads(receiver.received[-1].body)["data"]["refundedNow"] == "116.00"


async def test_failures_are_retried_then_dead_then_redelivered(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.create(receiver.url(), ["case.created"])
    await hooks.emit()
    receiver.answers = [500, "slow", 503]
    worker = hooks.worker()
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0  # not due yet: about a minute later
    [delivery] = (await hooks.log())[0]["deliveries"]["nodes"]
    assert delivery["status"] == "FAILED"
    assert (delivery["attempts"], delivery["lastStatusCode"]) == (1, 500)
    assert len(delivery["responsePrefix"]) == 200
    await hooks.due_now()
    assert await worker.run_once() == 1
    [delivery] = (await hooks.log())[0]["deliveries"]["nodes"]
    assert (delivery["status"], delivery["lastError"]) == ("FAILED", "timed out")
    await hooks.due_now()
    assert await worker.run_once() == 1
    [delivery] = (await hooks.log())[0]["deliveries"]["nodes"]
    assert (delivery["status"], delivery["attempts"]) == ("DEAD", 3)
    await hooks.due_now()
    assert await worker.run_once() == 0
    again = await hooks.owner.data(REDELIVER, {"input": {"deliveryId": delivery["id"]}})
    assert again["redeliverWebhook"]["delivery"] == {"status": "PENDING", "attempts": 0}
    assert await worker.run_once() == 1
    [delivery] = (await hooks.log())[0]["deliveries"]["nodes"]
    assert delivery["status"] == "DELIVERED"
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert ids == {delivery["eventId"]}  # one event id across attempts and redelivery


async def test_redelivering_a_time_range(hooks: Hooks, receiver: Receiver) -> None:
    created = await hooks.create(receiver.url(), ["case.created"])
    endpoint_id = created["webhookEndpoint"]["id"]
    await hooks.emit()
    await hooks.emit()
    receiver.answers = [500, 500]
    worker = hooks.worker()
    await worker.run_once()
    start = (utcnow() - timedelta(hours=1)).isoformat()
    end = (utcnow() + timedelta(seconds=1)).isoformat()
    queued = await hooks.owner.data(
        REDELIVER_RANGE, {"input": {"endpointId": endpoint_id, "from": start, "to": end}}
    )
    assert queued["redeliverWebhooks"] == {"queued": 2, "userErrors": []}
    assert await worker.run_once() == 2
    statuses = [d["status"] for d in (await hooks.log())[0]["deliveries"]["nodes"]]
    assert statuses == ["DELIVERED", "DELIVERED"]


async def test_private_addresses_are_refused(guarded: Hooks, receiver: Receiver) -> None:
    for url in (receiver.url(), "http://10.1.2.3/hook", "http://169.254.169.254/latest"):
        await guarded.create(url, ["case.created"])
    await guarded.emit()
    assert await guarded.worker().run_once() == 3
    assert receiver.received == []
    for endpoint in await guarded.log():
        [delivery] = endpoint["deliveries"]["nodes"]
        assert delivery["status"] == "FAILED"
        assert delivery["lastError"].startswith("address refused"), delivery["lastError"]


async def test_disabling_an_endpoint_tells_the_owners(hooks: Hooks) -> None:
    created = await hooks.create("https://partner.example.com/", ["case.created"])
    await hooks.emit()
    async with hooks.database.transaction() as session:
        [endpoint] = (await session.execute(select(WebhookEndpoint))).scalars().all()
        await disable(session, hooks.shop.settings, endpoint, "20 deliveries failed")
    [endpoint_log] = await hooks.log()
    assert endpoint_log["id"] == created["webhookEndpoint"]["id"]
    assert endpoint_log["enabled"] is False
    assert [d["status"] for d in endpoint_log["deliveries"]["nodes"]] == ["DEAD"]
    async with hooks.database.session() as session:
        messages = (await session.execute(select(EmailMessage))).scalars().all()
    [notice] = [m for m in messages if m.template == "webhook_endpoint_disabled"]
    assert notice.recipients == ["integrador@example.com"]
    await hooks.emit()  # nothing queued for a disabled endpoint
    [endpoint_log] = await hooks.log()
    assert endpoint_log["deliveries"]["totalCount"] == 1


async def test_managing_webhooks_needs_integrations_manage(hooks: Hooks) -> None:
    member = await make_user(hooks.database, "solo-facturas@example.com")
    await make_membership(
        hooks.database, member, hooks.shop.account, Role.MEMBER, [Permission.INVOICES_VIEW]
    )
    client = GraphQLClient(hooks.owner.http, await issue_token(hooks.database, member))
    codes = await client.error_codes(
        CREATE, {"input": {"url": "https://partner.example.com/", "eventTypes": ["case.created"]}}
    )
    assert codes == ["FORBIDDEN"]


def test_the_documented_algorithm() -> None:
    """The signature is the one the specification's test vector gives."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


CATEGORIES = "{ caseCategories { id subcategories { id code } } }"
CREATE_CASE = """
mutation($input: CreateCaseInput!) {
  createCase(input: $input) { case { id number } userErrors { code } }
}
"""
STAFF_COMMENT = """mutation($input: StaffCommentCaseInput!) {
  staffCommentCase(input: $input) { userErrors { code } }
}"""
CLOSE_CASE = """
mutation($input: CloseCaseInput!) { closeCase(input: $input) { userErrors { code } } }
"""


async def test_case_events_never_carry_internal_notes(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.create(receiver.url(), ["case.created", "case.updated"])
    categories = (await hooks.owner.data(CATEGORIES))["caseCategories"]
    [(category_id, subcategory_id)] = [
        (c["id"], s["id"])
        for c in categories
        for s in c["subcategories"]
        if s["code"] == "DATABASE_UPDATE"
    ]
    new_case = {
        "categoryId": category_id,
        "subcategoryId": subcategory_id,
        "subject": "Cambio de domicilio fiscal",
        "description": "Nos mudamos.",
        "fields": NEW_USER_FIELDS,
    }
    created = (await hooks.owner.data(CREATE_CASE, {"input": new_case}))["createCase"]
    assert created["userErrors"] == []
    case_id = created["case"]["id"]
    _, staff_token = await make_staff(hooks.database, StaffRole.SUPPORT_AGENT)
    staff = GraphQLClient(hooks.owner.http, staff_token)
    for body, internal in (("SECRETO-INTERNO", True), ("Ya está resuelto", False)):
        answered = await staff.data(
            STAFF_COMMENT, {"input": {"caseId": case_id, "body": body, "internal": internal}}
        )
        assert answered["staffCommentCase"]["userErrors"] == []
    closed = await hooks.owner.data(CLOSE_CASE, {"input": {"caseId": case_id}})
    assert closed["closeCase"]["userErrors"] == []
    assert await hooks.worker().drain() == 3
    events = [json.loads(r.body) for r in receiver.received]
    assert [(e["type"], e["data"].get("change")) for e in events] == [
        ("case.created", None),
        ("case.updated", "comment"),
        ("case.updated", "status"),
    ]
    assert {e["data"]["caseId"] for e in events} == {case_id}
    assert events[1]["data"]["commentBy"] == "STAFF"
    assert events[2]["data"]["status"] == "CLOSED"
    assert all(b"SECRETO-INTERNO" not in r.body for r in receiver.received)


CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } userErrors { code } }
}
"""
UPDATE_CONTACT = """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { userErrors { code } }
}
"""
REMOVE_MEMBER = """
mutation($input: RemoveMemberInput!) {
  removeMember(input: $input) { userErrors { code } }
}
"""


async def test_contact_and_member_events(hooks: Hooks, receiver: Receiver) -> None:
    created = await hooks.owner.data(
        CREATE_CONTACT,
        {"input": {"firstName": "Rosa", "lastName": "Méndez", "email": "rosa@example.com"}},
    )
    contact_id = created["createContact"]["contact"]["id"]
    await hooks.create(receiver.url(), ["contact.updated", "member.removed"])
    updated = await hooks.owner.data(
        UPDATE_CONTACT, {"input": {"contactId": contact_id, "company": "Obras del Norte"}}
    )
    assert updated["updateContact"]["userErrors"] == []
    leaving = await make_user(hooks.database, "se-va@example.com")
    membership = await make_membership(hooks.database, leaving, hooks.shop.account, Role.MEMBER)
    removed = await hooks.owner.data(
        REMOVE_MEMBER, {"input": {"memberId": gid("Member", membership.id)}}
    )
    assert removed["removeMember"]["userErrors"] == []
    assert await hooks.worker().drain() == 2
    contact_event, member_event = (json.loads(r.body) for r in receiver.received)
    assert contact_event["type"] == "contact.updated"
    assert contact_event["data"] == {
        "contactId": contact_id,
        "changes": {"company": "Obras del Norte"},
    }
    assert member_event["type"] == "member.removed"
    assert member_event["data"] == {
        "memberId": gid("Member", membership.id),
        "email": "se-va@example.com",
    }


def test_production_refuses_private_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://clientes.example.com")
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true")
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_PRIVATE_ADDRESSES"):
        load_settings()


async def test_the_billing_import_announces_invoices(hooks: Hooks, receiver: Receiver) -> None:
    from clientzone.importers.billing import import_billing

    await hooks.create(receiver.url(), ["invoice.issued", "invoice.paid"])
    number = hooks.shop.account.number
    invoice = {
        "type": "invoice",
        "externalId": "inv-w1",
        "account": number,
        "number": "W-1",
        "documentType": "CFDI_INGRESO",
        "issuedOn": "2026-01-05",
        "dueOn": "2026-02-04",
        "lines": [{"description": "Cemento", "quantity": "1", "unitPrice": "100.00"}],
    }
    payment = {
        "type": "payment",
        "externalId": "pay-w1",
        "account": number,
        "amount": "100.00",
        "paidOn": "2026-01-20",
        "reference": "SPEI-W1",
        "invoices": ["W-1"],
    }
    report = await import_billing(hooks.database, [json.dumps(invoice), json.dumps(payment)])
    assert report.errors == []
    assert await hooks.worker().drain() == 2
    issued, paid = (json.loads(r.body) for r in receiver.received)
    assert issued["type"] == "invoice.issued"
    assert (issued["data"]["number"], issued["data"]["total"]) == ("W-1", "100.00")
    assert paid["type"] == "invoice.paid"
    assert paid["data"]["invoiceId"] == issued["data"]["invoiceId"]
    assert paid["data"]["reference"] == "SPEI-W1"


async def test_an_endpoint_failing_for_good_is_disabled(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.create(receiver.url(), ["case.created"])
    await hooks.emit()
    async with hooks.database.transaction() as session:
        await session.execute(update(WebhookEndpoint).values(failure_streak=19))
        await session.execute(update(WebhookDelivery).values(attempts=2))  # the last attempt
    receiver.answers = [500]
    assert await hooks.worker().run_once() == 1
    [endpoint] = await hooks.log()
    assert endpoint["enabled"] is False
    assert [d["status"] for d in endpoint["deliveries"]["nodes"]] == ["DEAD"]
    async with hooks.database.session() as session:
        messages = (await session.execute(select(EmailMessage))).scalars().all()
    assert [m.template for m in messages if m.template.startswith("webhook")] == [
        "webhook_endpoint_disabled"
    ]
    enabled = await hooks.owner.data(
        UPDATE, {"input": {"endpointId": endpoint["id"], "enabled": True}}
    )
    assert enabled["updateWebhookEndpoint"]["webhookEndpoint"]["enabled"] is True
    async with hooks.database.session() as session:
        [row] = (await session.execute(select(WebhookEndpoint))).scalars().all()
    assert (row.failure_streak, row.failing_since) == (0, None)


@dataclass
class TlsReceiver:
    """An HTTPS receiver on 127.0.0.1 with a certificate for partner.test
    only, issued by a test CA (in `ca_file`); it notes the SNI names asked."""

    port: int
    ca_file: Path
    server_names: list[str | None] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def tls_receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsReceiver]:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("partner.test").configure_cert(context)
    state = TlsReceiver(port=0, ca_file=ca_file)

    def note_sni(_socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        state.server_names.append(name)

    context.sni_callback = note_sni  # type: ignore[assignment]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append(Received(self.path, headers, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    # The names resolve (for the worker's check) to the receiver's address only.
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("partner.test", "other.test"):
            host = "127.0.0.1"
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


async def test_https_goes_to_the_checked_address_with_the_name_verified(
    settings: Settings, database: Database, tls_receiver: TlsReceiver
) -> None:
    port = tls_receiver.port
    async for hooks in _hooks(settings, database, webhook_ca_file=tls_receiver.ca_file):
        partner = await hooks.create(f"https://partner.test:{port}/hook", ["case.created"])
        other = await hooks.create(f"https://other.test:{port}/hook", ["case.created"])
        await hooks.emit()
        assert await hooks.worker().run_once() == 2
        logs = {e["id"]: e["deliveries"]["nodes"] for e in await hooks.log()}
        [delivered] = logs[partner["webhookEndpoint"]["id"]]
        assert delivered["status"] == "DELIVERED", delivered["lastError"]
        [request] = tls_receiver.received
        assert request.headers["host"] == f"partner.test:{port}"
        Webhook(partner["secret"]).verify(request.body, request.headers)
        # The certificate names partner.test only: the other name is refused.
        [refused] = logs[other["webhookEndpoint"]["id"]]
        assert refused["status"] == "FAILED"
        assert "CERTIFICATE_VERIFY_FAILED" in refused["lastError"], refused["lastError"]
        assert sorted(tls_receiver.server_names, key=str) == ["other.test", "partner.test"]
