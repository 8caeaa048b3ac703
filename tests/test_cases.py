"""Support cases over HTTP: opening one with its validation (es, en), comments,
attachments, closing, lists and filters, notifications, internal notes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlmodel import col

from clientzone import support_desk
from clientzone.config import Settings
from clientzone.db import Database, StatementCounter
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.cases import CaseStatus
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.mail import EmailMessage
from clientzone.models.memberships import Membership, Permission, Role
from clientzone.models.orders import Order, OrderStatus
from clientzone.models.staff import StaffRole
from clientzone.models.users import User
from tests.helpers import (
    NEW_USER_FIELDS,
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    login,
    make_account,
    make_invoice,
    make_membership,
    make_staff,
    make_user,
)
from tests.smtp_server import SmtpServer

CATEGORIES = """
{ caseCategories { id code name subcategories { id code name requiresInvoice
  fields { key label kind required maxLength minimum maximum } } } }
"""
CREATE = """
mutation($input: CreateCaseInput!) {
  createCase(input: $input) {
    case { id number status subject description fields { key label value }
           category { code } subcategory { code } invoice { number } createdBy
           attachments(first: 5) { totalCount nodes { filename contentType size sha256 url } } }
    userErrors { field code message }
  }
}
"""
COMMENT = """
mutation($input: AddCaseCommentInput!) {
  addCaseComment(input: $input) {
    comment { body authorName authorKind }
    case { status comments(first: 10) { totalCount nodes { body } } }
    userErrors { field code message }
  }
}
"""
CLOSE = """
mutation($input: CloseCaseInput!) {
  closeCase(input: $input) { case { status closedAt } userErrors { field code message } }
}
"""
ATTACH = """
mutation($input: AddCaseAttachmentInput!) {
  addCaseAttachment(input: $input) {
    attachment { filename contentType size url }
    case { attachments(first: 10) { totalCount } }
    userErrors { field code message }
  }
}
"""
LIST = """
query($filter: CaseFilterInput) {
  account { cases(first: 20, filter: $filter) { totalCount nodes { number subject status } } }
}
"""
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Desk:
    app: Any
    http: httpx.AsyncClient
    database: Database
    settings: Settings
    account: Account
    user: User
    client: GraphQLClient
    subcategories: dict[str, dict[str, Any]]
    categories: dict[str, str]

    def new_case(self, code: str = "DATABASE_UPDATE", **values: Any) -> dict[str, Any]:
        sub = self.subcategories[code]
        return {
            "categoryId": self.categories[sub["category"]],
            "subcategoryId": sub["id"],
            "subject": "Alta de un nuevo usuario",
            "description": "Por favor den de alta a nuestra nueva compradora.",
            **({"fields": NEW_USER_FIELDS} if code == "DATABASE_UPDATE" else {}),
            **values,
        }

    async def create(self, code: str = "DATABASE_UPDATE", **values: Any) -> dict[str, Any]:
        payload: dict[str, Any] = (
            await self.client.data(CREATE, {"input": self.new_case(code, **values)})
        )["createCase"]
        return payload


@pytest.fixture
async def desk(app: Any, database: Database, settings: Settings) -> AsyncIterator[Desk]:
    user = await make_user(
        database, "compras@ferreteria.example.com", first_name="Luisa", password=PASSWORD
    )
    account = await make_account(database, number="MX-7000", email="admin@ferreteria.example.com")
    await make_membership(database, user, account)
    token = await issue_token(database, user)
    async with http_client(app) as http:
        client = GraphQLClient(http, token)
        found = (await client.data(CATEGORIES))["caseCategories"]
        categories = {c["code"]: c["id"] for c in found}
        subcategories = {
            s["code"]: {**s, "category": c["code"]} for c in found for s in c["subcategories"]
        }
        yield Desk(app, http, database, settings, account, user, client, subcategories, categories)


async def test_the_categories_are_seeded_with_their_extra_fields(desk: Desk) -> None:
    assert list(desk.categories) == ["OTHER_REQUESTS", "CLAIMS"]
    assert [code for code, s in desk.subcategories.items() if s["category"] == "CLAIMS"] == [
        "INVOICE_CLAIM",
        "SERVICE_CLAIM",
        "PRODUCT_CLAIM",
    ]
    assert desk.subcategories["INVOICE_CLAIM"]["requiresInvoice"] is True
    assert [f["key"] for f in desk.subcategories["TRAINING"]["fields"]] == [
        "siteName",
        "address",
        "city",
        "attendees",
    ]
    assert desk.subcategories["DOCUMENT_REQUEST"]["fields"][0]["required"] is True
    english = await desk.client.data(CATEGORIES, headers={"Accept-Language": "en"})
    names = {c["code"]: c["name"] for c in english["caseCategories"]}
    assert names == {"OTHER_REQUESTS": "Other requests", "CLAIMS": "Claims"}


async def test_opening_a_case_gives_it_the_next_number(desk: Desk) -> None:
    first = await desk.create()
    second = await desk.create(
        "DOCUMENT_REQUEST", fields=[{"key": "documentType", "value": "CFDI"}]
    )
    assert first["userErrors"] == second["userErrors"] == []
    case = second["case"]
    assert case["status"] == "NEW"
    assert (case["category"]["code"], case["subcategory"]["code"]) == (
        "OTHER_REQUESTS",
        "DOCUMENT_REQUEST",
    )
    assert case["fields"] == [
        {"key": "documentType", "label": "Tipo de documento", "value": "CFDI"}
    ]
    assert case["createdBy"].startswith("Luisa")
    one = int(first["case"]["number"].removeprefix("CS-"))
    assert case["number"] == f"CS-{one + 1:06d}"
    assert len(case["number"]) == 9


@pytest.mark.parametrize(
    ("locale", "subject", "description"),
    [
        (
            "es",
            "El asunto admite como máximo 255 caracteres (tiene 256).",
            "La descripción admite como máximo 32000 caracteres (tiene 32001). "
            "Acórtala o adjunta el texto como archivo.",
        ),
        (
            "en",
            "The subject can have at most 255 characters (it has 256).",
            "The description can have at most 32000 characters (it has 32001). "
            "Shorten it or attach the text as a file.",
        ),
    ],
)
async def test_too_long_subject_and_description_say_the_limit(
    desk: Desk, locale: str, subject: str, description: str
) -> None:
    body = await desk.client.data(
        CREATE,
        {"input": desk.new_case(subject="a" * 256, description="b" * 32_001)},
        headers={"Accept-Language": locale},
    )
    assert body["createCase"] == {
        "case": None,
        "userErrors": [
            {"field": "subject", "code": "TOO_LONG", "message": subject},
            {"field": "description", "code": "TOO_LONG", "message": description},
        ],
    }
    at_limit = await desk.create(subject="a" * 255, description="b" * 32_000)
    assert at_limit["userErrors"] == []


async def test_every_missing_field_is_its_own_error(desk: Desk) -> None:
    body = await desk.client.data(
        CREATE,
        {
            "input": desk.new_case(
                "TRAINING",
                subject="  ",
                description="",
                fields=[
                    {"key": "siteName", "value": "Obra Norte"},
                    {"key": "city", "value": "c" * 121},
                    {"key": "attendees", "value": "900"},
                    {"key": "color", "value": "rojo"},
                ],
            )
        },
        headers={"Accept-Language": "en"},
    )
    errors = body["createCase"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("subject", "REQUIRED"),
        ("description", "REQUIRED"),
        ("fields.color", "UNKNOWN_FIELD"),
        ("fields.address", "REQUIRED"),
        ("fields.city", "TOO_LONG"),
        ("fields.attendees", "INVALID_VALUE"),
    ]
    messages = {e["field"]: e["message"] for e in errors}
    assert messages["fields.address"] == "The field \u201cAddress\u201d is required."
    assert messages["fields.city"] == "The field \u201cCity\u201d can have at most 120 characters."
    assert messages["fields.attendees"] == (
        "The field \u201cNumber of people\u201d must be a number from 1 to 500."
    )
    assert body["createCase"]["case"] is None
    assert (await desk.client.data(LIST))["account"]["cases"]["totalCount"] == 0


async def test_category_and_subcategory_must_match(desk: Desk) -> None:
    body = await desk.client.data(
        CREATE,
        {
            "input": {
                **desk.new_case("INVOICE_CLAIM"),
                "categoryId": desk.categories["OTHER_REQUESTS"],
            }
        },
    )
    assert [(e["field"], e["code"]) for e in body["createCase"]["userErrors"]] == [
        ("subcategoryId", "INVALID_CATEGORY")
    ]
    unknown = await desk.client.data(
        CREATE, {"input": {**desk.new_case(), "categoryId": gid("CaseCategory", desk.user.id)}}
    )
    assert [(e["field"], e["code"]) for e in unknown["createCase"]["userErrors"]] == [
        ("categoryId", "INVALID_CATEGORY")
    ]


async def test_an_invoice_claim_needs_an_invoice_of_this_account(desk: Desk) -> None:
    missing = await desk.create("INVOICE_CLAIM")
    assert [(e["field"], e["code"], e["message"]) for e in missing["userErrors"]] == [
        ("invoiceId", "REQUIRED", "Indica la factura que reclamas.")
    ]
    other = await make_account(desk.database, number="MX-7999")
    foreign = await make_invoice(desk.database, other, "F-900", issued_on=utcnow().date())
    refused = await desk.create("INVOICE_CLAIM", invoiceId=gid("Invoice", foreign.id))
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("invoiceId", "NOT_FOUND")]
    nonsense = await desk.create("INVOICE_CLAIM", invoiceId="not-an-id")
    assert nonsense["userErrors"] == refused["userErrors"]
    own = await make_invoice(desk.database, desk.account, "F-100", issued_on=utcnow().date())
    created = await desk.create("INVOICE_CLAIM", invoiceId=gid("Invoice", own.id))
    assert created["userErrors"] == []
    assert created["case"]["invoice"] == {"number": "F-100"}


async def test_an_order_must_be_of_this_account(desk: Desk) -> None:
    other = await make_account(desk.database, number="MX-7998")
    async with desk.database.transaction() as session:
        order = Order(
            account_id=other.id,
            number="P-1",
            ordered_on=utcnow().date(),
            status=OrderStatus.DELIVERED,
            currency="MXN",
            total_minor=100,
        )
        session.add(order)
    refused = await desk.create(
        "SERVICE_CLAIM",
        orderId=gid("Order", order.id),
        fields=[{"key": "problem", "value": "entrega tardía"}],
    )
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("orderId", "NOT_FOUND")]


async def test_a_case_without_invoice_view_shows_no_invoice(desk: Desk) -> None:
    own = await make_invoice(desk.database, desk.account, "F-101", issued_on=utcnow().date())
    created = await desk.create("INVOICE_CLAIM", invoiceId=gid("Invoice", own.id))
    support = await make_user(desk.database, "soporte@ferreteria.example.com")
    await make_membership(
        desk.database, support, desk.account, Role.MEMBER, [Permission.CASES_VIEW]
    )
    client = GraphQLClient(desk.http, await issue_token(desk.database, support))
    found = await client.data(
        "query($id: ID!) { node(id: $id) { ... on Case { number invoice { number } } } }",
        {"id": created["case"]["id"]},
    )
    assert found["node"] == {"number": created["case"]["number"], "invoice": None}


async def test_comments_move_a_waiting_case_back_to_in_progress(desk: Desk) -> None:
    case = (await desk.create())["case"]
    number = int(case["number"].removeprefix("CS-"))
    await support_desk.set_status(
        desk.database,
        desk.settings,
        None,
        number=number,
        status=CaseStatus.WAITING_ON_CUSTOMER,
        author="Soporte",
    )
    replied = await desk.client.data(COMMENT, {"input": {"caseId": case["id"], "body": " Listo "}})
    assert replied["addCaseComment"] == {
        "comment": {"body": "Listo", "authorName": "Luisa García", "authorKind": "CUSTOMER"},
        "case": {
            "status": "IN_PROGRESS",
            "comments": {"totalCount": 1, "nodes": [{"body": "Listo"}]},
        },
        "userErrors": [],
    }
    await support_desk.set_status(
        desk.database, desk.settings, None, number=number, status=CaseStatus.RESOLVED, author="S"
    )
    reopened = await desk.client.data(COMMENT, {"input": {"caseId": case["id"], "body": "Otra"}})
    assert reopened["addCaseComment"]["case"]["status"] == "IN_PROGRESS"


async def test_comment_validation(desk: Desk) -> None:
    case = (await desk.create())["case"]
    empty = await desk.client.data(COMMENT, {"input": {"caseId": case["id"], "body": "  "}})
    long = await desk.client.data(
        COMMENT,
        {"input": {"caseId": case["id"], "body": "x" * 32_001}},
        headers={"Accept-Language": "en"},
    )
    assert empty["addCaseComment"]["userErrors"] == [
        {"field": "body", "code": "REQUIRED", "message": "Este campo es obligatorio."}
    ]
    assert long["addCaseComment"]["userErrors"] == [
        {
            "field": "body",
            "code": "TOO_LONG",
            "message": "The comment can have at most 32000 characters (it has 32001).",
        }
    ]


async def test_a_closed_case_takes_nothing_more(desk: Desk) -> None:
    case = (await desk.create())["case"]
    closed = await desk.client.data(CLOSE, {"input": {"caseId": case["id"]}})
    assert closed["closeCase"]["case"]["status"] == "CLOSED"
    assert closed["closeCase"]["case"]["closedAt"]
    again = await desk.client.data(CLOSE, {"input": {"caseId": case["id"]}})
    comment = await desk.client.data(COMMENT, {"input": {"caseId": case["id"], "body": "Hola"}})
    expected = [
        {
            "field": "caseId",
            "code": "CASE_CLOSED",
            "message": f"El caso {case['number']} está cerrado; "
            "abre uno nuevo si necesitas algo más.",
        }
    ]
    assert again["closeCase"] == {"case": None, "userErrors": expected}
    assert comment["addCaseComment"]["userErrors"] == expected
    response = await desk.client.upload(
        ATTACH,
        {"input": {"caseId": case["id"], "file": None}},
        {"variables.input.file": ("constancia.pdf", PDF, "application/pdf")},
    )
    assert response["data"]["addCaseAttachment"]["userErrors"] == expected


ALL = list(CaseStatus)


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("new", ALL)
async def test_every_status_transition(desk: Desk, current: CaseStatus, new: CaseStatus) -> None:
    """Support moves a case only along the allowed transitions; CLOSED is final."""
    allowed = {
        CaseStatus.NEW: {"IN_PROGRESS", "WAITING_ON_CUSTOMER", "RESOLVED", "CLOSED"},
        CaseStatus.IN_PROGRESS: {"WAITING_ON_CUSTOMER", "RESOLVED", "CLOSED"},
        CaseStatus.WAITING_ON_CUSTOMER: {"IN_PROGRESS", "RESOLVED", "CLOSED"},
        CaseStatus.RESOLVED: {"IN_PROGRESS", "CLOSED"},
        CaseStatus.CLOSED: set(),
    }
    case = (await desk.create())["case"]
    number = int(case["number"].removeprefix("CS-"))
    path = {
        CaseStatus.NEW: [],
        CaseStatus.IN_PROGRESS: [CaseStatus.IN_PROGRESS],
        CaseStatus.WAITING_ON_CUSTOMER: [CaseStatus.WAITING_ON_CUSTOMER],
        CaseStatus.RESOLVED: [CaseStatus.RESOLVED],
        CaseStatus.CLOSED: [CaseStatus.CLOSED],
    }[current]
    for step in path:
        await support_desk.set_status(
            desk.database, desk.settings, None, number=number, status=step, author="S"
        )
    if new.value in allowed[current]:
        await support_desk.set_status(
            desk.database, desk.settings, None, number=number, status=new, author="S"
        )
        shown = await desk.client.data(LIST)
        assert shown["account"]["cases"]["nodes"][0]["status"] == new.value
    else:
        with pytest.raises(support_desk.DeskError, match="cannot go from"):
            await support_desk.set_status(
                desk.database, desk.settings, None, number=number, status=new, author="S"
            )
        shown = await desk.client.data(LIST)
        assert shown["account"]["cases"]["nodes"][0]["status"] == current.value


async def test_lists_filter_by_number_category_status_dates_and_words(desk: Desk) -> None:
    first = (await desk.create(subject="Actualizar RFC"))["case"]
    second = (
        await desk.create(
            "PRODUCT_CLAIM",
            subject="Cemento fraguado",
            description="El lote llegó húmedo",
            fields=[{"key": "product", "value": "Cemento gris"}],
        )
    )["case"]
    await desk.client.data(CLOSE, {"input": {"caseId": first["id"]}})

    async def numbers(**flt: Any) -> list[str]:
        found = (await desk.client.data(LIST, {"filter": flt}))["account"]["cases"]
        assert found["totalCount"] == len(found["nodes"])
        return [n["number"] for n in found["nodes"]]

    assert await numbers() == [second["number"], first["number"]]  # newest first
    assert await numbers(number=first["number"]) == [first["number"]]
    assert await numbers(number=first["number"].removeprefix("CS-").lstrip("0")) == [
        first["number"]
    ]
    assert await numbers(number="CS-ABC") == []
    assert await numbers(categoryId=desk.categories["CLAIMS"]) == [second["number"]]
    assert await numbers(subcategoryId=desk.subcategories["DATABASE_UPDATE"]["id"]) == [
        first["number"]
    ]
    assert await numbers(status="CLOSED") == [first["number"]]
    today = utcnow().date()
    assert await numbers(createdFrom=str(today), createdTo=str(today)) == [
        second["number"],
        first["number"],
    ]
    assert await numbers(createdFrom=str(today + timedelta(days=1))) == []
    assert await numbers(createdTo=str(today - timedelta(days=1))) == []
    assert await numbers(search="HÚMEDO") == [second["number"]]
    assert await numbers(search="rfc") == [first["number"]]


async def test_attachments_are_checked_by_content_and_served_by_signed_link(
    desk: Desk,
) -> None:
    response = await desk.client.upload(
        CREATE,
        {"input": desk.new_case(attachments=[None, None])},
        {
            "variables.input.attachments.0": ("constancia.pdf", PDF, "application/pdf"),
            "variables.input.attachments.1": ("foto.png", PNG, "image/png"),
        },
    )
    payload = response["data"]["createCase"]
    assert payload["userErrors"] == []
    files = payload["case"]["attachments"]
    assert files["totalCount"] == 2
    assert [(f["contentType"], f["size"]) for f in files["nodes"]] == [
        ("application/pdf", len(PDF)),
        ("image/png", len(PNG)),
    ]
    download = await desk.http.get(files["nodes"][0]["url"].removeprefix("http://127.0.0.1:8000"))
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_a_forged_content_type_is_refused(desk: Desk) -> None:
    case = (await desk.create())["case"]
    executable = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
    response = await desk.client.upload(
        ATTACH,
        {"input": {"caseId": case["id"], "file": None}},
        {"variables.input.file": ("factura.pdf", executable, "application/pdf")},
    )
    errors = response["data"]["addCaseAttachment"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("file", "FILE_TYPE_NOT_ALLOWED")]
    assert "application/pdf" in errors[0]["message"]
    listed = await desk.client.data(
        "query($id: ID!) { node(id: $id) { ... on Case { attachments { totalCount } } } }",
        {"id": case["id"]},
    )
    assert listed["node"]["attachments"]["totalCount"] == 0


async def test_size_limits_per_file_and_per_case(
    app: Any, database: Database, settings: Settings, desk: Desk
) -> None:
    small = settings.model_copy(
        update={"case_attachment_max_bytes": 2_000, "case_attachments_max_total_bytes": 3_000}
    )
    from clientzone.app import create_app

    limited = create_app(small, database)
    async with http_client(limited) as http:
        desk.http = http
        desk.client = GraphQLClient(http, desk.client.token)
        big = PDF + b"0" * 2_000
        refused = await desk.client.upload(
            CREATE,
            {"input": desk.new_case(attachments=[None])},
            {"variables.input.attachments.0": ("grande.pdf", big, "application/pdf")},
        )
        errors = refused["data"]["createCase"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [("attachments.0", "FILE_TOO_LARGE")]
        assert "0.002 MB" in errors[0]["message"]
        case = (await desk.create())["case"]
        file = PDF + b"0" * 1_500
        for expected in ([], ["FILES_TOO_LARGE"]):
            response = await desk.client.upload(
                ATTACH,
                {"input": {"caseId": case["id"], "file": None}},
                {"variables.input.file": ("parte.pdf", file, "application/pdf")},
            )
            codes = [e["code"] for e in response["data"]["addCaseAttachment"]["userErrors"]]
            assert codes == expected
    await limited.state.close_clients()


async def test_a_multipart_upload_with_the_session_cookie_needs_the_csrf_header(
    desk: Desk,
) -> None:
    case = (await desk.create())["case"]
    operations = json.dumps(
        {"query": ATTACH, "variables": {"input": {"caseId": case["id"], "file": None}}}
    )
    parts = {
        "operations": (None, operations),
        "map": (None, json.dumps({"0": ["variables.input.file"]})),
        "0": ("constancia.pdf", PDF, "application/pdf"),
    }
    async with http_client(desk.app) as browser:
        await login(GraphQLClient(browser), desk.user.email)
        refused = await browser.post("/graphql", files=parts)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN", "reason": "CSRF"}
        accepted = await browser.post("/graphql", files=parts, headers={"X-CSRF-Protection": "1"})
        assert accepted.json()["data"]["addCaseAttachment"]["userErrors"] == []


async def test_notifications_go_to_support_contacts_and_the_creator(
    desk: Desk, mail_worker: MailWorker, smtp_server: SmtpServer
) -> None:
    async with desk.database.transaction() as session:
        for email, categories in (
            ("soporte@ferreteria.example.com", {EmailCategory.SUPPORT}),
            ("facturas@ferreteria.example.com", {EmailCategory.INVOICES}),
        ):
            session.add(
                Contact(
                    account_id=desk.account.id,
                    first_name="C",
                    email=email,
                    categories=frozenset(categories),
                )
            )
    case = (await desk.create(subject="Cambio de RFC"))["case"]
    number = int(case["number"].removeprefix("CS-"))
    await support_desk.comment(
        desk.database,
        desk.settings,
        None,
        number=number,
        body="Nota interna",
        author="Eva",
        internal=True,
    )
    await support_desk.comment(
        desk.database,
        desk.settings,
        None,
        number=number,
        body="¿Nos envías la constancia?",
        author="Eva",
    )
    await support_desk.set_status(
        desk.database,
        desk.settings,
        None,
        number=number,
        status=CaseStatus.WAITING_ON_CUSTOMER,
        author="Eva",
    )
    await desk.client.data(COMMENT, {"input": {"caseId": case["id"], "body": "Adjunta"}})
    await mail_worker.drain()
    by_subject: dict[str, list[str]] = {}
    for message in smtp_server.received:
        by_subject.setdefault(str(message.message["subject"]), []).extend(message.recipients)
    everyone = [
        "admin@ferreteria.example.com",
        "compras@ferreteria.example.com",
        "soporte@ferreteria.example.com",
    ]
    assert {subject: sorted(to) for subject, to in by_subject.items()} == {
        f"Caso {case['number']} recibido: Cambio de RFC": everyone,
        f"Caso {case['number']}: nueva respuesta de soporte": everyone,
        f"Caso {case['number']}: esperando tu respuesta": everyone,
        # The customer's answer moved it back: a status change like any other.
        f"Caso {case['number']}: en curso": everyone,
    }
    answer = next(m for m in smtp_server.received if "respuesta de soporte" in m.message["subject"])
    assert "¿Nos envías la constancia?" in answer.text
    assert "Nota interna" not in "".join(m.text for m in smtp_server.received)


async def test_internal_notes_never_reach_customers(desk: Desk) -> None:
    case = (await desk.create())["case"]
    number = int(case["number"].removeprefix("CS-"))
    note = await support_desk.comment(
        desk.database,
        desk.settings,
        None,
        number=number,
        body="Cliente moroso",
        author="Eva",
        internal=True,
    )
    public = await support_desk.comment(
        desk.database, desk.settings, None, number=number, body="Lo revisamos", author="Eva"
    )
    seen = await desk.client.data(
        """query($id: ID!) { node(id: $id) { ... on Case {
             comments(first: 10) { totalCount nodes { id body authorKind } }
             last: comments(last: 10) { nodes { body } } } } }""",
        {"id": case["id"]},
    )
    assert seen["node"]["comments"] == {
        "totalCount": 1,
        "nodes": [
            {"id": gid("CaseComment", public.id), "body": "Lo revisamos", "authorKind": "STAFF"}
        ],
    }
    assert seen["node"]["last"]["nodes"] == [{"body": "Lo revisamos"}]
    listed = await desk.client.data(
        "{ account { cases(first: 5) { nodes { "
        "comments(first: 5) { totalCount nodes { body } } } } } }"
    )
    assert listed["account"]["cases"]["nodes"][0]["comments"] == {
        "totalCount": 1,
        "nodes": [{"body": "Lo revisamos"}],
    }
    codes = await desk.client.error_codes(
        "query($id: ID!) { node(id: $id) { id } }", {"id": gid("CaseComment", note.id)}
    )
    assert codes == ["NOT_FOUND"]
    activity = await desk.client.data(
        "{ account { activity(first: 20) { nodes { action target } } } }"
    )
    assert [a["action"] for a in activity["account"]["activity"]["nodes"]] == [
        "CASE_COMMENTED",
        "CASE_CREATED",
    ]


async def test_another_accounts_case_is_not_found(desk: Desk) -> None:
    case = (await desk.create())["case"]
    stranger = await make_user(desk.database, "otro@example.com")
    other = await make_account(desk.database, number="AR-1")
    await make_membership(desk.database, stranger, other)
    client = GraphQLClient(desk.http, await issue_token(desk.database, stranger))
    for document, variables in (
        ("query($id: ID!) { node(id: $id) { id } }", {"id": case["id"]}),
        (COMMENT, {"input": {"caseId": case["id"], "body": "hola"}}),
        (CLOSE, {"input": {"caseId": case["id"]}}),
    ):
        assert await client.error_codes(document, variables) == ["NOT_FOUND"]
    assert (await client.data(LIST))["account"]["cases"]["totalCount"] == 0


async def test_a_case_list_with_comments_takes_a_fixed_number_of_statements(
    desk: Desk,
    sql_statements: Callable[[], AbstractContextManager[StatementCounter]],
) -> None:
    query = """
    {
      account {
        cases(first: 50) {
          nodes {
            number category { name } subcategory { name } createdBy
            comments(first: 10) { totalCount nodes { body authorName } }
            attachments(first: 5) { totalCount nodes { filename } }
          }
        }
      }
    }
    """

    async def count() -> int:
        with sql_statements() as counted:
            await desk.client.data(query)
        return counted.count

    async def add_cases(n: int) -> None:
        for _ in range(n):
            case = (await desk.create())["case"]
            number = int(case["number"].removeprefix("CS-"))
            for body in ("Primero", "Segundo"):
                await support_desk.comment(
                    desk.database, desk.settings, None, number=number, body=body, author="Eva"
                )

    await add_cases(2)
    few = await count()
    await add_cases(20)
    data = await desk.client.data(query)
    assert len(data["account"]["cases"]["nodes"]) == 22
    assert data["account"]["cases"]["nodes"][0]["comments"]["totalCount"] == 2
    many = await count()
    # grant, account, cases page, categories, subcategories, creators,
    # comments page, comment counts, attachments page, attachment counts
    assert (few, many) == (10, 10)


async def test_attachments_can_live_in_a_directory_named_by_their_hash(
    database: Database, settings: Settings, desk: Desk, tmp_path: Path
) -> None:
    from clientzone.app import create_app

    stored = settings.model_copy(update={"case_attachments_dir": tmp_path / "files"})
    app = create_app(stored, database)
    async with http_client(app) as http:
        client = GraphQLClient(http, desk.client.token)
        case = (await client.data(CREATE, {"input": desk.new_case()}))["createCase"]["case"]
        response = await client.upload(
            ATTACH,
            {"input": {"caseId": case["id"], "file": None}},
            {"variables.input.file": ("plano.png", PNG, "image/png")},
        )
        attachment = response["data"]["addCaseAttachment"]["attachment"]
        sha256 = hashlib.sha256(PNG).hexdigest()
        assert (tmp_path / "files" / sha256[:2] / sha256).read_bytes() == PNG
        download = await http.get(attachment["url"].removeprefix("http://127.0.0.1:8000"))
        assert download.content == PNG
        assert download.headers["content-type"] == "image/png"
    await app.state.close_clients()


async def test_a_download_link_checks_who_and_what_again(desk: Desk) -> None:
    response = await desk.client.upload(
        CREATE,
        {"input": desk.new_case(attachments=[None])},
        {"variables.input.attachments.0": ("nota.txt", b"Hola, soporte\n", "text/plain")},
    )
    case = response["data"]["createCase"]["case"]
    path = case["attachments"]["nodes"][0]["url"].removeprefix("http://127.0.0.1:8000")
    assert case["attachments"]["nodes"][0]["contentType"] == "text/plain"
    text = await desk.http.get(path)
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    # Someone who may not see cases any more: refused; a forged token: not found.
    async with desk.database.transaction() as session:
        await session.execute(
            update(Membership)
            .where(Membership.user_id == desk.user.id)  # type: ignore[arg-type]
            .values(role=Role.MEMBER, permissions=frozenset({Permission.CASES_CREATE}))
        )
    assert (await desk.http.get(path)).status_code == 403
    assert (await desk.http.get(path[:-3] + "abc")).status_code == 404


async def test_only_ascii_digits_are_numbers(desk: Desk) -> None:
    fields = [
        {"key": "siteName", "value": "Obra"},
        {"key": "address", "value": "Calle 1"},
        {"key": "city", "value": "León"},
    ]
    for odd in ("²", "１２", "-3"):
        body = await desk.create("TRAINING", fields=[*fields, {"key": "attendees", "value": odd}])
        assert [(e["field"], e["code"]) for e in body["userErrors"]] == [
            ("fields.attendees", "INVALID_VALUE")
        ]
    listed = await desk.client.data(LIST, {"filter": {"number": "²"}})
    assert listed["account"]["cases"]["totalCount"] == 0


async def test_writing_to_a_case_does_not_show_it_without_cases_view(desk: Desk) -> None:
    case = (await desk.create())["case"]
    writer = await make_user(desk.database, "escribe@ferreteria.example.com")
    await make_membership(
        desk.database, writer, desk.account, Role.MEMBER, [Permission.CASES_CREATE]
    )
    client = GraphQLClient(desk.http, await issue_token(desk.database, writer))
    commented = await client.data(COMMENT, {"input": {"caseId": case["id"], "body": "Hola"}})
    assert commented["addCaseComment"]["comment"]["body"] == "Hola"
    assert commented["addCaseComment"]["case"] is None
    closed = await client.data(CLOSE, {"input": {"caseId": case["id"]}})
    assert closed["closeCase"] == {"case": None, "userErrors": []}


async def test_odd_input_is_a_user_error_not_a_failure(desk: Desk) -> None:
    case = (await desk.create())["case"]
    as_text = await desk.client.data(ATTACH, {"input": {"caseId": case["id"], "file": "hola"}})
    assert [e["code"] for e in as_text["addCaseAttachment"]["userErrors"]] == ["FILE_EMPTY"]
    created = await desk.client.data(CREATE, {"input": desk.new_case(attachments=["x"])})
    assert [e["field"] for e in created["createCase"]["userErrors"]] == ["attachments.0"]
    far = await desk.client.error_codes(LIST, {"filter": {"createdTo": "9999-12-31"}})
    assert far == ["BAD_USER_INPUT"]
    last_day = await desk.client.data(LIST, {"filter": {"createdTo": "2199-12-31"}})
    assert last_day["account"]["cases"]["totalCount"] == 1


async def test_closing_and_commenting_at_once_never_reopens_a_case(desk: Desk) -> None:
    """The case is locked by each change (SQLite has no row locks: a write first)."""
    for _ in range(5):
        case = (await desk.create())["case"]
        number = int(case["number"].removeprefix("CS-"))
        await support_desk.set_status(
            desk.database,
            desk.settings,
            None,
            number=number,
            status=CaseStatus.WAITING_ON_CUSTOMER,
            author="S",
        )
        await asyncio.gather(
            desk.client.data(CLOSE, {"input": {"caseId": case["id"]}}),
            desk.client.data(COMMENT, {"input": {"caseId": case["id"], "body": "Listo"}}),
        )
        found = await desk.client.data(
            "query($id: ID!) { node(id: $id) { ... on Case { status closedAt } } }",
            {"id": case["id"]},
        )
        assert found["node"]["status"] == "CLOSED"
        assert found["node"]["closedAt"]


# --- a database update: the new user's details ------------------------------

STAFF_CASE = """
query($id: ID!) {
  staff { case(id: $id) { number subcategory { code } fields { key label value } } }
}
"""


async def test_a_database_update_asks_for_the_new_users_details(desk: Desk) -> None:
    spanish = desk.subcategories["DATABASE_UPDATE"]["fields"]
    english = (await desk.client.data(CATEGORIES, headers={"Accept-Language": "en"}))[
        "caseCategories"
    ][0]["subcategories"][0]["fields"]
    assert [(f["key"], f["label"], f["kind"], f["required"]) for f in spanish] == [
        ("fullName", "Nombre completo", "TEXT", True),
        ("email", "Correo electrónico", "EMAIL", True),
        ("phone", "Teléfono", "PHONE", True),
        ("position", "Puesto", "TEXT", True),
    ]
    assert [f["label"] for f in english] == ["Full name", "Email", "Phone", "Position"]
    assert [f["maxLength"] for f in english] == [200, 254, 30, 120]


async def test_a_database_update_keeps_the_details_and_shows_them_to_staff_and_by_email(
    desk: Desk,
) -> None:
    async with desk.database.transaction() as session:
        session.add(
            Contact(
                account_id=desk.account.id,
                first_name="Soporte",
                email="soporte@ferreteria.example.com",
                categories=frozenset({EmailCategory.SUPPORT}),
            )
        )
        # A phone without its country code is read in the account's country.
        account = await session.get(Account, desk.account.id)
        assert account is not None
        account.country = "MX"
    given = [*NEW_USER_FIELDS[:2], {"key": "phone", "value": "55 1234 5678"}, NEW_USER_FIELDS[3]]
    created = (
        await desk.client.data(
            CREATE, {"input": desk.new_case(fields=given)}, headers={"Accept-Language": "en"}
        )
    )["createCase"]
    assert created["userErrors"] == []
    stored = [
        {"key": "fullName", "label": "Full name", "value": "Rosa Díaz"},
        {"key": "email", "label": "Email", "value": "rosa.diaz@ferreteria.example.com"},
        {"key": "phone", "label": "Phone", "value": "+525512345678"},
        {"key": "position", "label": "Position", "value": "Compras"},
    ]
    assert created["case"]["fields"] == stored

    _, staff_token = await make_staff(desk.database, StaffRole.SUPPORT_AGENT)
    staff = GraphQLClient(desk.http, staff_token)
    seen = (await staff.data(STAFF_CASE, {"id": created["case"]["id"]}))["staff"]["case"]
    assert seen["subcategory"] == {"code": "DATABASE_UPDATE"}
    assert seen["fields"] == [
        {**f, "label": label}
        for f, label in zip(
            stored, ["Nombre completo", "Correo electrónico", "Teléfono", "Puesto"], strict=True
        )
    ]

    async with desk.database.session() as session:
        [message] = (
            (
                await session.execute(
                    select(EmailMessage).where(col(EmailMessage.template) == "case_created")
                )
            )
            .scalars()
            .all()
        )
    assert "soporte@ferreteria.example.com" in message.recipients
    for line in (
        "- Nombre completo: Rosa Díaz",
        "- Correo electrónico: rosa.diaz@ferreteria.example.com",
        "- Teléfono: +525512345678",
        "- Puesto: Compras",
    ):
        assert line in message.text_body
    assert '<td style="padding: 2px 0;">+525512345678</td>' in message.html_body


@pytest.mark.parametrize("locale", ["es", "en"])
async def test_a_database_update_without_good_details_is_refused_field_by_field(
    desk: Desk, locale: str
) -> None:
    async def errors(fields: list[dict[str, str]]) -> list[tuple[str, str, str]]:
        body = await desk.client.data(
            CREATE,
            {"input": desk.new_case(fields=fields)},
            headers={"Accept-Language": locale},
        )
        assert body["createCase"]["case"] is None
        return [(e["field"], e["code"], e["message"]) for e in body["createCase"]["userErrors"]]

    english = locale == "en"
    assert [(f, c) for f, c, _ in await errors([])] == [
        ("fields.fullName", "REQUIRED"),
        ("fields.email", "REQUIRED"),
        ("fields.phone", "REQUIRED"),
        ("fields.position", "REQUIRED"),
    ]
    [(_, _, message), *_] = await errors([])
    assert message == (
        "The field \u201cFull name\u201d is required."
        if english
        else "El campo «Nombre completo» es obligatorio."
    )
    bad = [
        {"key": "fullName", "value": "x" * 201},
        {"key": "email", "value": "rosa@"},
        {"key": "phone", "value": "12"},
        {"key": "position", "value": "  "},
        {"key": "position", "value": "Compras"},
        {"key": "manager", "value": "Luis"},
    ]
    found = await errors(bad)
    assert [(f, c) for f, c, _ in found] == [
        ("fields.position", "DUPLICATE_FIELD"),
        ("fields.manager", "UNKNOWN_FIELD"),
        ("fields.fullName", "TOO_LONG"),
        ("fields.email", "INVALID_EMAIL"),
        ("fields.phone", "INVALID_PHONE"),
        ("fields.position", "REQUIRED"),
    ]
    messages = {code: message for _, code, message in found}
    assert messages["INVALID_EMAIL"] == (
        "The field \u201cEmail\u201d must be a valid email, like name@company.com."
        if english
        else "El campo «Correo electrónico» debe ser un email válido, como nombre@empresa.com."
    )
    assert ("\u201cPhone\u201d" if english else "«Teléfono»") in messages["INVALID_PHONE"]
    assert ("\u201cmanager\u201d" if english else "«manager»") in messages["UNKNOWN_FIELD"]
    assert (await desk.client.data(LIST))["account"]["cases"]["totalCount"] == 0


FIELD_TEXT = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\ud800",
            "💥" * 300,
            "a" * 5000,
            "+52 55 1234 5678",
            "rosa@example.com",
            "rosa@@example",
            "0",
            "+999999999999999999999",
        ]
    ),
    st.text(max_size=40),
)
FIELD_KEYS = st.one_of(
    st.sampled_from(["fullName", "email", "phone", "position"]), st.text(max_size=300)
)


async def test_generated_database_update_fields_never_fail_the_server(desk: Desk) -> None:
    loop = asyncio.get_running_loop()

    async def send(fields: list[dict[str, str]]) -> None:
        # Escaped JSON: lone surrogates travel as \ud800, as a client may send them.
        document = {"query": CREATE, "variables": {"input": desk.new_case(fields=fields)}}
        response = await desk.http.post(
            "/graphql",
            content=json.dumps(document).encode(),
            headers=desk.client.headers({"Content-Type": "application/json"}),
        )
        assert response.status_code < 500, (fields, response.text)
        body = response.json()
        codes = {e["extensions"]["code"] for e in body.get("errors", [])}
        assert codes <= {"BAD_USER_INPUT"}, (fields, body)  # NUL, lone surrogates
        if codes:
            return
        payload = body["data"]["createCase"]
        if payload["case"] is not None:
            assert payload["userErrors"] == []
            assert [f["key"] for f in payload["case"]["fields"]] == [
                "fullName",
                "email",
                "phone",
                "position",
            ]

    @hypothesis_settings(
        max_examples=int(os.environ.get("GENERATED_EXAMPLES", "6")) * 5,
        deadline=None,
        derandomize=os.environ.get("GENERATED_RANDOM") is None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(
        fields=st.lists(st.fixed_dictionaries({"key": FIELD_KEYS, "value": FIELD_TEXT}), max_size=6)
    )
    def check(fields: list[dict[str, str]]) -> None:
        asyncio.run_coroutine_threadsafe(send(fields), loop).result(timeout=120)

    await asyncio.to_thread(check)
