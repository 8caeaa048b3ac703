"""Support attaches documents to a customer's case: checked like a customer's
upload, shown to the customer as support's, audited; bad files are
userErrors that change nothing."""

from __future__ import annotations

import json
from typing import Any

from clientzone.db import Database
from clientzone.models.cases import CaseStatus
from clientzone.models.memberships import Role
from clientzone.models.staff import StaffRole
from tests.helpers import (
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    make_account,
    make_case,
    make_membership,
    make_staff,
    make_user,
)

ATTACH = """
mutation($input: StaffAddCaseAttachmentInput!) {
  staffAddCaseAttachment(input: $input) {
    attachment { filename contentType authorKind } case { number }
    userErrors { field code }
  }
}
"""
CUSTOMER_VIEW = """
query($id: ID!) { node(id: $id) { ... on Case { attachments { nodes { filename authorKind } } } } }
"""
AUDIT = "{ staff { auditLog(first: 5) { nodes { action target } } } }"
PDF = b"%PDF-1.7\n% a credit note\n"


async def _attach(http: Any, token: str, case_gid: str, name: str, content: bytes) -> Any:
    operations = json.dumps(
        {"query": ATTACH, "variables": {"input": {"caseId": case_gid, "file": None}}}
    )
    response = await http.post(
        "/graphql",
        files={
            "operations": (None, operations),
            "map": (None, json.dumps({"0": ["variables.input.file"]})),
            "0": (name, content, "application/octet-stream"),
        },
        headers={"Authorization": f"Bearer {token}", "X-CSRF-Protection": "1"},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["staffAddCaseAttachment"]


async def test_support_attaches_a_document_the_customer_then_sees(
    app: Any, database: Database
) -> None:
    account = await make_account(database, number="MX-7000")
    owner = await make_user(database, "owner@example.com")
    await make_membership(database, owner, account, Role.OWNER)
    case = await make_case(database, account)
    case_gid = gid("Case", case.id)
    _, agent = await make_staff(database, StaffRole.SUPPORT_AGENT)
    _, admin = await make_staff(database, StaffRole.ADMIN)
    async with http_client(app) as http:
        attached = await _attach(http, agent, case_gid, "nota-de-credito.pdf", PDF)
        assert attached == {
            "attachment": {
                "filename": "nota-de-credito.pdf",
                "contentType": "application/pdf",
                "authorKind": "STAFF",
            },
            "case": {"number": case.display_number},
            "userErrors": [],
        }
        for name, content, code in (
            ("vacio.pdf", b"", "FILE_EMPTY"),
            ("programa.exe", b"MZ\x90\x00 not a document", "FILE_TYPE_NOT_ALLOWED"),
        ):
            refused = await _attach(http, agent, case_gid, name, content)
            assert refused["attachment"] is None
            assert refused["userErrors"] == [{"field": "file", "code": code}]
        customer = GraphQLClient(http, await issue_token(database, owner))
        seen = await customer.data(CUSTOMER_VIEW, {"id": case_gid})
        assert seen["node"]["attachments"]["nodes"] == [
            {"filename": "nota-de-credito.pdf", "authorKind": "STAFF"}
        ]
        audit = await GraphQLClient(http, admin).data(AUDIT)
        assert {
            "action": "CASE_ATTACHMENT_ADDED",
            "target": f"{case.display_number} nota-de-credito.pdf",
        } in audit["staff"]["auditLog"]["nodes"]


async def test_a_closed_case_takes_no_more_documents(app: Any, database: Database) -> None:
    account = await make_account(database, number="MX-7001")
    case = await make_case(database, account, status=CaseStatus.CLOSED)
    _, agent = await make_staff(database, StaffRole.SUPPORT_AGENT)
    async with http_client(app) as http:
        refused = await _attach(http, agent, gid("Case", case.id), "a.pdf", PDF)
    assert refused["userErrors"] == [{"field": "caseId", "code": "CASE_CLOSED"}]
