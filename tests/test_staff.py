"""Support staff: adding staff, the TOTP second factor, shorter sessions,
audited access to any account and the staff audit log."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pyotp
from sqlalchemy import select
from sqlmodel import col

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.models.activity import ActivityAction, ActivityEntry
from clientzone.models.mail import EmailMessage
from clientzone.models.sessions import AuthSession
from clientzone.models.staff import StaffAuditRecord, StaffMember, StaffRole
from clientzone.models.users import user_by_email
from clientzone.staff_admin import add_staff
from tests.helpers import (
    BASE_URL,
    PASSWORD,
    GraphQLClient,
    gid,
    http_client,
    issue_token,
    link_token,
    login,
    make_account,
    make_membership,
    make_staff,
    make_user,
)

ME = "{ staff { me { email role secondFactorEnrolled secondFactorVerified } } }"
ENROL = """mutation($input: StaffEnrolSecondFactorInput!) {
  staffEnrolSecondFactor(input: $input) { secret provisioningUri userErrors { field code message } }
}"""
CONFIRM = """mutation($input: StaffConfirmSecondFactorInput!) {
  staffConfirmSecondFactor(input: $input) { recoveryCodes userErrors { field code message } }
}"""
VERIFY = """mutation($input: StaffVerifySecondFactorInput!) {
  staffVerifySecondFactor(input: $input) { verified userErrors { field code message } }
}"""
OPEN = """query($id: ID!, $reason: String!, $case: String) {
  staff { account(id: $id, reason: $reason, caseNumber: $case) {
    number name balance { amount } invoices { totalCount } } }
}"""
AUDIT = """query($filter: StaffAuditFilterInput) {
  staff { auditLog(first: 10, filter: $filter) { totalCount nodes {
    action staffEmail accountId target reason caseNumber ip userAgent } } }
}"""


def _codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["extensions"]["code"], e["extensions"].get("permission")) for e in body["errors"]]


async def _sign_in(http: Any, email: str) -> GraphQLClient:
    response = await login(GraphQLClient(http), email, issueToken=True)
    token = response.json()["data"]["login"]["token"]
    assert token, response.text
    return GraphQLClient(http, token)


async def test_staff_add_creates_the_login_and_emails_a_set_password_link(
    app: Any, database: Database, settings: Settings
) -> None:
    added = await add_staff(database, settings, "Agente@Example.com", StaffRole.SUPPORT_AGENT)
    assert added.created
    assert added.link_sent
    async with database.session() as session:
        user = await user_by_email(session, "agente@example.com")
        assert user is not None
        assert user.is_staff
        assert user.password_hash is None
        member = await session.get(StaffMember, user.id)
        assert member is not None
        assert member.role is StaffRole.SUPPORT_AGENT
        message = (await session.execute(select(EmailMessage))).scalar_one()
    assert message.recipients == ["agente@example.com"]
    token = link_token(message.text_body, "reset-password")
    async with http_client(app) as http:
        client = GraphQLClient(http)
        data = await client.data(
            """mutation($input: ResetPasswordInput!) {
              resetPassword(input: $input) { userErrors { code } } }""",
            {"input": {"token": token, "newPassword": PASSWORD}},
        )
        assert data["resetPassword"]["userErrors"] == []
        staff = await _sign_in(http, "agente@example.com")
        me = (await staff.data(ME))["staff"]["me"]
    assert me == {
        "email": "agente@example.com",
        "role": "SUPPORT_AGENT",
        "secondFactorEnrolled": False,
        "secondFactorVerified": False,
    }
    again = await add_staff(database, settings, "agente@example.com", StaffRole.ADMIN)
    assert not again.created
    async with database.session() as session:
        member = await session.get(StaffMember, user.id)
        assert member is not None
        assert member.role is StaffRole.ADMIN


async def test_a_customer_who_becomes_staff_loses_their_sessions(
    app: Any, database: Database, settings: Settings
) -> None:
    customer = await make_user(database, "cliente@example.com", password=PASSWORD)
    token = await issue_token(database, customer)
    await add_staff(database, settings, "cliente@example.com", StaffRole.BILLING_AGENT)
    async with http_client(app) as http:
        body = await GraphQLClient(http, token).execute("{ viewer { user { email } } }")
    assert body["data"]["viewer"] is None


async def test_staff_sessions_are_short(app: Any, database: Database) -> None:
    user, _ = await make_staff(database, StaffRole.SUPPORT_AGENT, "corta@example.com")
    async with http_client(app) as http:
        response = await login(GraphQLClient(http), "corta@example.com", remember=True)
        assert response.json()["data"]["login"]["userErrors"] == []
    async with database.session() as session:
        rows = (
            (await session.execute(select(AuthSession).where(col(AuthSession.user_id) == user.id)))
            .scalars()
            .all()
        )
    newest = max(rows, key=lambda r: r.created_at)
    assert newest.expires_at - newest.created_at <= timedelta(hours=8)
    assert newest.idle_expires_at is not None


async def test_sign_up_never_makes_staff(app: Any, database: Database) -> None:
    async with http_client(app) as http:
        await GraphQLClient(http).execute(
            """mutation($input: SignUpInput!) { signUp(input: $input) { userErrors { code } } }""",
            {
                "input": {
                    "email": "nuevo@example.com",
                    "password": PASSWORD,
                    "firstName": "Nuevo",
                    "lastName": "Cliente",
                }
            },
        )
    async with database.session() as session:
        user = await user_by_email(session, "nuevo@example.com")
    assert user is None or not user.is_staff


async def test_totp_enrolment_recovery_codes_and_replay(app: Any, database: Database) -> None:
    await make_staff(database, StaffRole.SUPPORT_AGENT, "totp@example.com", enrolled=False)
    account = await make_account(database, number="MX-1")
    async with http_client(app) as http:
        staff = await _sign_in(http, "totp@example.com")
        # Before the second factor only enrolment works.
        body = await staff.execute(OPEN, {"id": gid("Account", account.id), "reason": "x"})
        assert _codes(body) == [("FORBIDDEN", "SECOND_FACTOR")]
        wrong = (await staff.data(ENROL, {"input": {"currentPassword": "nope"}}))[
            "staffEnrolSecondFactor"
        ]
        assert [e["code"] for e in wrong["userErrors"]] == ["INVALID_PASSWORD"]
        not_yet = (await staff.data(CONFIRM, {"input": {"code": "123456"}}))[
            "staffConfirmSecondFactor"
        ]
        assert [e["code"] for e in not_yet["userErrors"]] == ["NOT_ENROLLED"]
        enrolled = (await staff.data(ENROL, {"input": {"currentPassword": PASSWORD}}))[
            "staffEnrolSecondFactor"
        ]
        secret = enrolled["secret"]
        assert enrolled["provisioningUri"].startswith("otpauth://totp/")
        totp = pyotp.TOTP(secret)
        bad = (await staff.data(CONFIRM, {"input": {"code": "000000x"}}))[
            "staffConfirmSecondFactor"
        ]
        assert bad["userErrors"][0]["code"] == "INVALID_CODE"
        assert bad["userErrors"][0]["field"] == "code"
        code = totp.now()
        confirmed = (await staff.data(CONFIRM, {"input": {"code": code}}))[
            "staffConfirmSecondFactor"
        ]
        assert confirmed["userErrors"] == []
        recovery = confirmed["recoveryCodes"]
        assert len(recovery) == 10
        assert len(set(recovery)) == 10
        assert (await staff.data(ME))["staff"]["me"]["secondFactorVerified"] is True
        opened = await staff.data(OPEN, {"id": gid("Account", account.id), "reason": "llamada"})
        assert opened["staff"]["account"]["number"] == "MX-1"
        again = (await staff.data(ENROL, {"input": {"currentPassword": PASSWORD}}))[
            "staffEnrolSecondFactor"
        ]
        assert [e["code"] for e in again["userErrors"]] == ["ALREADY_ENROLLED"]

        # A new session: the same code again is a replay, refused.
        second = await _sign_in(http, "totp@example.com")
        replay = (await second.data(VERIFY, {"input": {"code": code}}))["staffVerifySecondFactor"]
        assert replay == {
            "verified": False,
            "userErrors": [
                {
                    "field": "code",
                    "code": "INVALID_CODE",
                    "message": "El código no es correcto o ya se usó.",
                }
            ],
        }
        body = await second.execute(ME, headers={"Accept-Language": "en"})
        assert body["data"]["staff"]["me"]["secondFactorVerified"] is False
        # The next step's code works once.
        fresh = totp.at(time.time() + 30)
        ok = (await second.data(VERIFY, {"input": {"code": fresh}}))["staffVerifySecondFactor"]
        assert ok == {"verified": True, "userErrors": []}
        assert (await second.data(ME))["staff"]["me"]["secondFactorVerified"] is True

        # A recovery code works once.
        third = await _sign_in(http, "totp@example.com")
        used = (await third.data(VERIFY, {"input": {"recoveryCode": recovery[0].upper()}}))[
            "staffVerifySecondFactor"
        ]
        assert used == {"verified": True, "userErrors": []}
        fourth = await _sign_in(http, "totp@example.com")
        reused = (await fourth.data(VERIFY, {"input": {"recoveryCode": recovery[0]}}))[
            "staffVerifySecondFactor"
        ]
        assert reused["verified"] is False
        assert reused["userErrors"][0]["field"] == "recoveryCode"
        empty = (await fourth.data(VERIFY, {"input": {}}))["staffVerifySecondFactor"]
        assert [e["code"] for e in empty["userErrors"]] == ["REQUIRED"]


async def test_opening_an_account_is_audited_and_the_customer_sees_it(
    app: Any, database: Database
) -> None:
    account = await make_account(database, number="MX-77", name="Cliente")
    owner = await make_user(database, "owner@example.com")
    await make_membership(database, owner, account)
    owner_token = await issue_token(database, owner)
    _, agent_token = await make_staff(database, StaffRole.SUPPORT_AGENT, "agente@example.com")
    _, admin_token = await make_staff(database, StaffRole.ADMIN, "admin@example.com")
    async with http_client(app) as http:
        agent = GraphQLClient(http, agent_token)
        variables = {"id": gid("Account", account.id), "reason": "Llamada", "case": "CS-000001"}
        data = await agent.data(OPEN, variables, headers={"User-Agent": "agente-ua"})
        assert data["staff"]["account"] == {
            "number": "MX-77",
            "name": "Cliente",
            "balance": {"amount": "0.00"},
            "invoices": {"totalCount": 0},
        }
        for bad in ({"reason": "  "}, {"reason": "x" * 501}):
            body = await agent.execute(OPEN, {"id": gid("Account", account.id), **bad})
            assert _codes(body) == [("BAD_USER_INPUT", None)]
        body = await agent.execute(OPEN, {"id": gid("Invoice", account.id), "reason": "x"})
        assert _codes(body) == [("NOT_FOUND", None)]
        # The agent does not keep access: a customer path is still NOT_FOUND.
        body = await agent.execute(
            "query($id: ID!) { account(id: $id) { number } }", {"id": gid("Account", account.id)}
        )
        assert _codes(body) == [("NOT_FOUND", None)]
        # The customer sees that support viewed the account (not who).
        owner_client = GraphQLClient(http, owner_token)
        activity = await owner_client.data(
            "query($id: ID!) { account(id: $id) { activity { nodes { action actorKind actor "
            "target } } } }",
            {"id": gid("Account", account.id)},
        )
        assert activity["account"]["activity"]["nodes"] == [
            {
                "action": "SUPPORT_VIEWED_ACCOUNT",
                "actorKind": "STAFF",
                "actor": "support",
                "target": "case CS-000001",
            }
        ]
        # ADMIN reads the audit log; a support agent may not.
        body = await agent.execute(AUDIT)
        assert _codes(body) == [("FORBIDDEN", "ADMIN")]
        admin = GraphQLClient(http, admin_token)
        log = (await admin.data(AUDIT, {"filter": {"accountId": gid("Account", account.id)}}))[
            "staff"
        ]["auditLog"]
        assert log["totalCount"] == 1
        assert log["nodes"][0] == {
            "action": "ACCOUNT_VIEWED",
            "staffEmail": "agente@example.com",
            "accountId": gid("Account", account.id),
            "target": "MX-77",
            "reason": "Llamada",
            "caseNumber": "CS-000001",
            "ip": log["nodes"][0]["ip"],
            "userAgent": "agente-ua",
        }
        body = await admin.execute(AUDIT, {"filter": {"accountId": "nonsense"}})
        assert _codes(body) == [("NOT_FOUND", None)]
    async with database.session() as session:
        records = (await session.execute(select(StaffAuditRecord))).scalars().all()
        entries = (await session.execute(select(ActivityEntry))).scalars().all()
    assert len(records) == 1
    assert [e.action for e in entries] == [ActivityAction.SUPPORT_VIEWED_ACCOUNT]


async def test_a_disabled_staff_member_is_refused(app: Any, database: Database) -> None:
    user, token = await make_staff(database, StaffRole.ADMIN)
    async with database.session() as session, session.begin():
        member = await session.get(StaffMember, user.id)
        assert member is not None
        member.disabled = True
    async with http_client(app) as http:
        body = await GraphQLClient(http, token).execute(ME)
    assert _codes(body) == [("FORBIDDEN", "SUPPORT_AGENT")]


SEARCH = """query($search: String!, $after: String) {
  staff { customers(search: $search, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id number name } } }
}"""


async def test_customer_search_by_every_kind(app: Any, database: Database) -> None:
    mx = await make_account(
        database,
        number="MX-1001",
        name="Ferretería La Esperanza",
        country="MX",
        email="compras@esperanza.mx",
        tax_id="GODE561231GR8",
        phone="+525512345678",
    )
    ar = await make_account(
        database,
        number="AR-2001",
        name="Materiales del Sur",
        country="AR",
        tax_id="20-12345678-6",
        mobile_phone="+5491123456789",
    )
    await make_account(database, number="ES-3001", name="Construcciones Esperanza SL")
    login_user = await make_user(database, "dueno@example.com")
    await make_membership(database, login_user, ar)
    async with database.session() as session, session.begin():
        from clientzone.models.contacts import Contact

        session.add(
            Contact(
                account_id=mx.id, first_name="Rosa", email="rosa@example.com", phone="+34612345678"
            )
        )
    _, token = await make_staff(database, StaffRole.SUPPORT_AGENT)
    async with http_client(app) as http:
        staff = GraphQLClient(http, token)

        async def numbers(search: str) -> list[str]:
            data = await staff.data(SEARCH, {"search": search})
            return [n["number"] for n in data["staff"]["customers"]["nodes"]]

        assert await numbers("mx-1001") == ["MX-1001"]
        assert await numbers("Compras@Esperanza.MX") == ["MX-1001"]
        assert await numbers("rosa@example.com") == ["MX-1001"]
        assert await numbers("dueno@example.com") == ["AR-2001"]
        assert await numbers("gode561231gr8") == ["MX-1001"]
        assert await numbers("20123456786") == ["AR-2001"]
        assert await numbers("+52 55 1234 5678") == ["MX-1001"]
        assert await numbers("55 1234 5678") == ["MX-1001"]
        assert await numbers("+34 612 345 678") == ["MX-1001"]
        assert await numbers("materiales") == ["AR-2001"]
        assert await numbers("") == []
        assert await numbers("%") == []
        assert await staff.error_codes(SEARCH, {"search": "\x00"}) == ["BAD_USER_INPUT"]
        first = (await staff.data(SEARCH, {"search": "esperanza"}))["staff"]["customers"]
        assert first["totalCount"] == 2
        assert [n["number"] for n in first["nodes"]] == ["ES-3001", "MX-1001"]
        assert first["nodes"][1]["id"] == gid("Account", mx.id)
        after = first["pageInfo"]["endCursor"]
        rest = await staff.data(SEARCH, {"search": "esperanza", "after": after})
        assert rest["staff"]["customers"]["nodes"] == []


DESK = """query($filter: StaffCaseFilterInput) {
  staff { cases(first: 10, filter: $filter) { totalCount nodes {
    id number status account { number } assignee { email } } } }
}"""
STAFF_CASE = """query($id: ID!) {
  staff { case(id: $id) { number status comments { nodes { body internal authorKind } } } }
}"""
COMMENT = """mutation($input: StaffCommentCaseInput!) {
  staffCommentCase(input: $input) { case { number } userErrors { field code message } }
}"""
STATUS = """mutation($input: StaffSetCaseStatusInput!) {
  staffSetCaseStatus(input: $input) { case { status } userErrors { field code message } }
}"""
ASSIGN = """mutation($input: StaffAssignCaseInput!) {
  staffAssignCase(input: $input) { case { assignee { email } } userErrors { field code } }
}"""
CUSTOMER_CASE = """query($id: ID!) {
  node(id: $id) { ... on Case { status comments { nodes { body authorKind } } } }
}"""


async def test_the_case_desk(app: Any, database: Database) -> None:
    from sqlalchemy import update

    from clientzone.models.cases import Case as CaseRow
    from tests.helpers import make_case

    account = await make_account(database, number="MX-8")
    owner = await make_user(database, "owner@example.com")
    await make_membership(database, owner, account)
    owner_token = await issue_token(database, owner)
    older = await make_case(database, account, "Factura duplicada")
    newer = await make_case(database, account, "Cambio de domicilio")
    done = await make_case(database, account, "Resuelto")
    async with database.transaction() as session:
        await session.execute(
            update(CaseRow).where(CaseRow.id == done.id).values(status="RESOLVED")
        )
    agent, token = await make_staff(database, StaffRole.SUPPORT_AGENT, "agente@example.com")
    customer_login = await make_user(database, "cliente@example.com")
    async with http_client(app) as http:
        staff = GraphQLClient(http, token)
        customer = GraphQLClient(http, owner_token)
        inbox = (await staff.data(DESK))["staff"]["cases"]
        assert [n["number"] for n in inbox["nodes"]] == [older.display_number, newer.display_number]
        assert inbox["nodes"][0]["account"] == {"number": "MX-8"}
        resolved = await staff.data(DESK, {"filter": {"statuses": ["RESOLVED"]}})
        assert resolved["staff"]["cases"]["totalCount"] == 1
        found = await staff.data(DESK, {"filter": {"search": "factura"}})
        assert [n["number"] for n in found["staff"]["cases"]["nodes"]] == [older.display_number]
        by_number = await staff.data(DESK, {"filter": {"search": newer.display_number}})
        assert by_number["staff"]["cases"]["totalCount"] == 1

        older_id = gid("Case", older.id)
        # Assignment: to staff only; the inbox filters by it.
        not_staff = (
            await staff.data(
                ASSIGN,
                {"input": {"caseId": older_id, "assigneeId": gid("User", customer_login.id)}},
            )
        )["staffAssignCase"]
        assert [e["code"] for e in not_staff["userErrors"]] == ["NOT_STAFF"]
        assigned = (
            await staff.data(
                ASSIGN, {"input": {"caseId": older_id, "assigneeId": gid("User", agent.id)}}
            )
        )["staffAssignCase"]
        assert assigned == {"case": {"assignee": {"email": "agente@example.com"}}, "userErrors": []}
        mine = await staff.data(DESK, {"filter": {"assigneeId": gid("User", agent.id)}})
        assert mine["staff"]["cases"]["totalCount"] == 1
        queue = await staff.data(DESK, {"filter": {"unassigned": True}})
        assert [n["number"] for n in queue["staff"]["cases"]["nodes"]] == [newer.display_number]

        # An internal note is never shown to the customer; an answer is.
        note = await staff.data(
            COMMENT, {"input": {"caseId": older_id, "body": "Revisar", "internal": True}}
        )
        assert note["staffCommentCase"]["userErrors"] == []
        answer = await staff.data(COMMENT, {"input": {"caseId": older_id, "body": "Ya está"}})
        assert answer["staffCommentCase"]["userErrors"] == []
        seen = await customer.data(CUSTOMER_CASE, {"id": older_id})
        assert seen["node"]["comments"]["nodes"] == [{"body": "Ya está", "authorKind": "STAFF"}]
        full = (await staff.data(STAFF_CASE, {"id": older_id}))["staff"]["case"]
        assert [(c["body"], c["internal"]) for c in full["comments"]["nodes"]] == [
            ("Revisar", True),
            ("Ya está", False),
        ]
        empty = await staff.data(COMMENT, {"input": {"caseId": older_id, "body": "  "}})
        assert [e["code"] for e in empty["staffCommentCase"]["userErrors"]] == ["REQUIRED"]
        long = await staff.data(COMMENT, {"input": {"caseId": older_id, "body": "x" * 32_001}})
        assert [e["code"] for e in long["staffCommentCase"]["userErrors"]] == ["TOO_LONG"]

        # Status through the transition table; a closed case takes no comment.
        moved = await staff.data(STATUS, {"input": {"caseId": older_id, "status": "CLOSED"}})
        assert moved["staffSetCaseStatus"] == {"case": {"status": "CLOSED"}, "userErrors": []}
        refused = await staff.execute(
            STATUS,
            {"input": {"caseId": older_id, "status": "IN_PROGRESS"}},
            headers={"Accept-Language": "en"},
        )
        assert refused["data"]["staffSetCaseStatus"]["userErrors"] == [
            {
                "field": "status",
                "code": "INVALID_TRANSITION",
                "message": f"Case {older.display_number} cannot go from CLOSED to IN_PROGRESS.",
            }
        ]
        closed = await staff.data(COMMENT, {"input": {"caseId": older_id, "body": "Hola"}})
        assert [e["code"] for e in closed["staffCommentCase"]["userErrors"]] == ["CASE_CLOSED"]
        assert (await customer.data(CUSTOMER_CASE, {"id": older_id}))["node"]["status"] == "CLOSED"
        for document, value in ((COMMENT, {"body": "x"}), (STATUS, {"status": "CLOSED"})):
            codes = await staff.error_codes(
                document, {"input": {"caseId": gid("Account", account.id), **value}}
            )
            assert codes == ["NOT_FOUND"]
    async with database.session() as session:
        actions = [
            r.action.value for r in (await session.execute(select(StaffAuditRecord))).scalars()
        ]
        mails = (await session.execute(select(EmailMessage))).scalars().all()
    assert sorted(actions) == sorted(
        ["CASE_ASSIGNED", "CASE_COMMENTED", "CASE_COMMENTED", "CASE_STATUS_CHANGED"]
    )
    assert all("Revisar" not in m.text_body for m in mails)


LOGIN_ACTION = """mutation {name}($input: {input}!) {{
  {field}(input: $input) {{
    login {{ email status emailVerified }} userErrors {{ field code message }} }}
}}"""


def _login_action(field: str, input_type: str = "StaffLoginInput") -> str:
    name = field[0].upper() + field[1:]
    return LOGIN_ACTION.format(name=name, input=input_type, field=field)


async def test_disabling_a_login_ends_its_sessions_at_once(app: Any, database: Database) -> None:
    customer = await make_user(database, "cliente@example.com", password=PASSWORD)
    token = await issue_token(database, customer)
    admin, admin_token = await make_staff(database, StaffRole.ADMIN, "admin@example.com")
    _, agent_token = await make_staff(database, StaffRole.SUPPORT_AGENT)
    disable = _login_action("staffDisableLogin", "StaffLoginStatusInput")
    enable = _login_action("staffEnableLogin", "StaffLoginStatusInput")
    async with http_client(app) as http:
        client = GraphQLClient(http, token)
        assert (await client.data("{ viewer { user { email } } }"))["viewer"] is not None
        staff = GraphQLClient(http, admin_token)
        agent = GraphQLClient(http, agent_token)
        body = await agent.execute(disable, {"input": {"email": "cliente@example.com"}})
        assert _codes(body) == [("FORBIDDEN", "ADMIN")]
        done = await staff.data(
            disable, {"input": {"email": "Cliente@example.com", "reason": "fraude"}}
        )
        assert done["staffDisableLogin"] == {
            "login": {"email": "cliente@example.com", "status": "DISABLED", "emailVerified": True},
            "userErrors": [],
        }
        # The session cache was told: the very next request is anonymous.
        assert (await client.data("{ viewer { user { email } } }"))["viewer"] is None
        login_body = (await login(GraphQLClient(http), "cliente@example.com")).json()
        assert login_body["data"]["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
        for email, code in (
            ("cliente@example.com", "ALREADY_DISABLED"),
            ("admin@example.com", "NOT_SELF"),
            ("nadie@example.com", "NO_SUCH_LOGIN"),
            ("no es email", "INVALID_EMAIL"),
            ("", "REQUIRED"),
        ):
            again = (await staff.data(disable, {"input": {"email": email}}))["staffDisableLogin"]
            assert [e["code"] for e in again["userErrors"]] == [code], email
            assert again["userErrors"][0]["field"] == "email"
        enabled = await staff.data(enable, {"input": {"email": "cliente@example.com"}})
        assert enabled["staffEnableLogin"]["login"]["status"] == "ACTIVE"
        assert (await login(GraphQLClient(http), "cliente@example.com")).json()["data"]["login"][
            "userErrors"
        ] == []
    async with database.session() as session:
        records = (await session.execute(select(StaffAuditRecord))).scalars().all()
    assert [(r.action.value, r.reason, r.staff_user_id) for r in records] == [
        ("LOGIN_DISABLED", "fraude", admin.id),
        ("LOGIN_ENABLED", None, admin.id),
    ]


async def test_reset_verification_and_login_block(
    app: Any, database: Database, settings: Settings
) -> None:
    await make_user(database, "cliente@example.com", password=PASSWORD)
    await make_user(database, "nuevo@example.com", password=PASSWORD, verified=False)
    _, token = await make_staff(database, StaffRole.SUPPORT_AGENT)
    async with http_client(app) as http:
        staff = GraphQLClient(http, token)
        reset = await staff.data(
            _login_action("staffSendPasswordReset"), {"input": {"email": "cliente@example.com"}}
        )
        assert reset["staffSendPasswordReset"]["userErrors"] == []
        verify = _login_action("staffResendVerification")
        sent = await staff.data(verify, {"input": {"email": "nuevo@example.com"}})
        assert sent["staffResendVerification"]["login"]["emailVerified"] is False
        already = await staff.data(verify, {"input": {"email": "cliente@example.com"}})
        assert [e["code"] for e in already["staffResendVerification"]["userErrors"]] == [
            "ALREADY_VERIFIED"
        ]
        # Locked out after wrong passwords; support lifts the block.
        for _ in range(8):
            await login(GraphQLClient(http), "cliente@example.com", "wrong-password-1")
        blocked = await login(GraphQLClient(http), "cliente@example.com")
        assert [e["extensions"]["code"] for e in blocked.json()["errors"]] == ["RATE_LIMITED"]
        cleared = await staff.data(
            _login_action("staffClearLoginBlock"), {"input": {"email": "cliente@example.com"}}
        )
        assert cleared["staffClearLoginBlock"]["userErrors"] == []
        # From the customer's own address (the address-wide block is gone).
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as elsewhere:
            after = await login(GraphQLClient(elsewhere), "cliente@example.com")
        assert after.json()["data"]["login"]["userErrors"] == []
    async with database.session() as session:
        templates = [m.template for m in (await session.execute(select(EmailMessage))).scalars()]
        actions = [
            r.action.value for r in (await session.execute(select(StaffAuditRecord))).scalars()
        ]
    assert sorted(templates) == ["password_reset", "verify_email"]
    assert actions == ["PASSWORD_RESET_SENT", "VERIFICATION_SENT", "LOGIN_BLOCK_CLEARED"]


PIN = """mutation($input: StaffVerifySecurityPinInput!) {
  staffVerifySecurityPin(input: $input) { matches userErrors { field code } }
}"""


async def test_security_pin_check_is_limited_and_never_reveals_it(
    app: Any, database: Database
) -> None:
    from clientzone.auth.passwords import hash_password

    account = await make_account(
        database, number="MX-9", security_pin_hash=await hash_password("8264")
    )
    no_pin = await make_account(database, number="MX-10")
    _, token = await make_staff(database, StaffRole.SUPPORT_AGENT)
    async with http_client(app) as http:
        staff = GraphQLClient(http, token)
        account_id = gid("Account", account.id)
        right = await staff.data(PIN, {"input": {"accountId": account_id, "pin": "8264"}})
        assert right["staffVerifySecurityPin"] == {"matches": True, "userErrors": []}
        wrong = await staff.data(PIN, {"input": {"accountId": account_id, "pin": "1111"}})
        assert wrong["staffVerifySecurityPin"] == {"matches": False, "userErrors": []}
        none = await staff.data(
            PIN, {"input": {"accountId": gid("Account", no_pin.id), "pin": "1234"}}
        )
        assert none["staffVerifySecurityPin"]["userErrors"] == [
            {"field": "accountId", "code": "NO_PIN"}
        ]
        for _ in range(3):
            await staff.data(PIN, {"input": {"accountId": account_id, "pin": "2222"}})
        limited = await staff.error_codes(PIN, {"input": {"accountId": account_id, "pin": "8264"}})
        assert limited == ["RATE_LIMITED"]
        missing = await staff.error_codes(PIN, {"input": {"accountId": "x", "pin": "8264"}})
        assert missing == ["NOT_FOUND"]
    async with database.session() as session:
        targets = [r.target for r in (await session.execute(select(StaffAuditRecord))).scalars()]
    assert targets[:2] == ["MX-9 match", "MX-9 no match"]
    assert all("8264" not in (t or "") for t in targets)


FIRST = """mutation($input: StaffSendFirstInvitationInput!) {
  staffSendFirstInvitation(input: $input) { sent userErrors { field code } }
}"""


async def test_first_invitation_makes_the_owner(app: Any, database: Database) -> None:
    account = await make_account(database, number="MX-11", name="Importada")
    taken = await make_account(database, number="MX-12")
    someone = await make_user(database, "alguien@example.com")
    await make_membership(database, someone, taken)
    _, token = await make_staff(database, StaffRole.SUPPORT_AGENT)
    async with http_client(app) as http:
        staff = GraphQLClient(http, token)
        account_id = gid("Account", account.id)
        sent = await staff.data(
            FIRST, {"input": {"accountId": account_id, "email": "Dueno@Example.com"}}
        )
        assert sent["staffSendFirstInvitation"] == {"sent": True, "userErrors": []}
        again = await staff.data(
            FIRST, {"input": {"accountId": account_id, "email": "otro@example.com"}}
        )
        assert again["staffSendFirstInvitation"]["userErrors"] == [
            {"field": "accountId", "code": "ALREADY_INVITED"}
        ]
        has_users = await staff.data(
            FIRST, {"input": {"accountId": gid("Account", taken.id), "email": "x@example.com"}}
        )
        assert has_users["staffSendFirstInvitation"]["userErrors"] == [
            {"field": "accountId", "code": "HAS_USERS"}
        ]
        bad = await staff.data(FIRST, {"input": {"accountId": account_id, "email": "nope"}})
        assert [e["code"] for e in bad["staffSendFirstInvitation"]["userErrors"]] == [
            "INVALID_EMAIL",
            "ALREADY_INVITED",
        ]
        async with database.session() as session:
            message = (await session.execute(select(EmailMessage))).scalar_one()
        invitation_token = link_token(message.text_body, "accept-invitation")
        accepted = await GraphQLClient(http).execute(
            """mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) {
              userErrors { code } } }""",
            {
                "input": {
                    "token": invitation_token,
                    "password": PASSWORD,
                    "firstName": "Dueño",
                    "lastName": "Nuevo",
                }
            },
        )
        assert accepted["data"]["acceptInvitation"]["userErrors"] == [], accepted
    async with database.session() as session:
        from clientzone.models.memberships import Membership, Role

        membership = (
            await session.execute(
                select(Membership).where(col(Membership.account_id) == account.id)
            )
        ).scalar_one()
    assert membership.role is Role.OWNER


async def test_the_demo_has_a_staff_login_in_development(
    app: Any, database: Database, settings: Settings
) -> None:
    from clientzone.demo.data import (
        DEMO_PASSWORD,
        DEMO_STAFF_EMAIL,
        DEMO_STAFF_TOTP_SECRET,
        _add_demo_staff,
    )

    async with database.session() as session, session.begin():
        from clientzone.auth.passwords import hash_password

        assert await _add_demo_staff(session, await hash_password(DEMO_PASSWORD)) == 2
    async with http_client(app) as http:
        response = await login(
            GraphQLClient(http), DEMO_STAFF_EMAIL, DEMO_PASSWORD, issueToken=True
        )
        staff = GraphQLClient(http, response.json()["data"]["login"]["token"])
        code = pyotp.TOTP(DEMO_STAFF_TOTP_SECRET).now()
        verified = await staff.data(VERIFY, {"input": {"code": code}})
        assert verified["staffVerifySecondFactor"] == {"verified": True, "userErrors": []}
        assert (await staff.data(ME))["staff"]["me"]["role"] == "ADMIN"
