"""Test helpers: a GraphQL client over HTTP and builders for rows."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import httpx
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from clientzone.auth.passwords import HASHER
from clientzone.config import Settings
from clientzone.core.ids import encode_global_id
from clientzone.db import Database
from clientzone.mailers.outbox import notify_account
from clientzone.models.accounts import Account
from clientzone.models.base import utcnow
from clientzone.models.contacts import EmailCategory
from clientzone.models.invoices import Invoice, InvoiceLine, InvoiceStatus
from clientzone.models.memberships import Membership, Permission, Role
from clientzone.models.sessions import SessionKind, create_session
from clientzone.models.users import Locale, User, normalize_email

BASE_URL = "http://clientzone.test"


@asynccontextmanager
async def http_client(app: ASGIApp, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, **kwargs) as client:
        yield client


class GraphQLClient:
    """Posts GraphQL documents as a portal front end would."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    async def post(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.http.post(
            "/graphql",
            json={"query": document, "variables": variables or {}},
            headers=self.headers(headers),
        )

    async def execute(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.post(document, variables, headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        body = await self.execute(document, variables, headers)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def upload(
        self,
        document: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A GraphQL multipart request (files by variable path: name, bytes, declared type)."""
        parts: dict[str, Any] = {
            "operations": (None, json.dumps({"query": document, "variables": variables})),
            "map": (None, json.dumps({str(i): [path] for i, path in enumerate(files)})),
        }
        for i, (name, content, declared) in enumerate(files.values()):
            parts[str(i)] = (name, content, declared)
        response = await self.http.post("/graphql", files=parts, headers=self.headers(headers))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def error_codes(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> list[str]:
        body = await self.execute(document, variables, headers)
        return [error["extensions"]["code"] for error in body.get("errors", [])]


def gid(type_name: str, row_id: uuid.UUID) -> str:
    return encode_global_id(type_name, row_id)


_counter = iter(range(1, 1_000_000))


@functools.cache
def _hashed(password: str) -> str:
    """One argon2 hash per password for the whole run: hashing is slow on purpose."""
    return HASHER.hash(password)


async def make_user(
    database: Database,
    email: str | None = None,
    *,
    first_name: str = "Ana",
    last_name: str = "García",
    password: str | None = None,
    verified: bool = True,
    locale: Locale = Locale.ES,
) -> User:
    user = User(
        email=normalize_email(email or f"user{next(_counter)}@example.com"),
        first_name=first_name,
        last_name=last_name,
        locale=locale,
        password_hash=_hashed(password) if password else None,
        email_verified_at=utcnow() if verified else None,
    )
    async with database.session() as session, session.begin():
        session.add(user)
    return user


async def make_account(
    database: Database,
    *,
    number: str | None = None,
    name: str = "Ferretería La Esperanza",
    currency: str = "MXN",
    parent: Account | None = None,
    **profile: Any,
) -> Account:
    account = Account(
        number=number or f"T-{next(_counter):06d}",
        name=name,
        currency=currency,
        parent_id=parent.id if parent else None,
        **profile,
    )
    async with database.session() as session, session.begin():
        session.add(account)
    return account


async def make_membership(
    database: Database,
    user: User,
    account: Account,
    role: Role = Role.OWNER,
    permissions: Iterable[Permission] = (),
) -> Membership:
    membership = Membership(
        user_id=user.id,
        account_id=account.id,
        account_number=account.number,
        role=role,
        permissions=frozenset(permissions),
    )
    async with database.session() as session, session.begin():
        session.add(membership)
    return membership


async def issue_token(
    database: Database, user: User, *, days: int = 1, second_factor: bool = False
) -> str:
    """A bearer token for `user`; `second_factor`: its session proved it (staff)."""
    async with database.session() as session, session.begin():
        token, auth_session = await create_session(
            session, user_id=user.id, kind=SessionKind.TOKEN, lifetime=timedelta(days=days)
        )
        if second_factor:
            auth_session.second_factor_at = utcnow()
    return token


async def queue_account_notices(
    database: Database, settings: Settings, account: Account, count: int
) -> None:
    """`count` GENERAL notices for `account` in the outbox, in one transaction."""
    async with database.session() as session, session.begin():
        for i in range(count):
            await notify_account(
                session,
                settings,
                account=account,
                category=EmailCategory.GENERAL,
                template="account_notice",
                title=f"Aviso {i}",
                body="Texto del aviso.",
            )


PASSWORD = "tortuga-naranja-bicicleta-47"  # accepted by the password policy

LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) {
    user { email }
    session { id kind current }
    token
    userErrors { field code message }
  }
}
"""

VIEWER_EMAIL = "{ viewer { user { email } } }"


async def login(
    client: GraphQLClient,
    email: str,
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
    **flags: bool,
) -> httpx.Response:
    """Post the login mutation; the response keeps its Set-Cookie header."""
    return await client.post(
        LOGIN, {"input": {"email": email, "password": password, **flags}}, headers
    )


async def viewer_email(client: GraphQLClient) -> str | None:
    viewer = (await client.data(VIEWER_EMAIL))["viewer"]
    return None if viewer is None else str(viewer["user"]["email"])


def link_token(text: str, path: str) -> str:
    """The token of the first `<path>?token=...` link in an email's text."""
    match = re.search(rf"/{path}\?token=([A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)


def six_digit_code(text: str) -> str:
    match = re.search(r"^\s+(\d{6})\s*$", text, re.MULTILINE)
    assert match, text
    return match.group(1)


async def make_invoice(
    database: Database,
    account: Account,
    number: str,
    *,
    issued_on: date,
    due_days: int = 30,
    lines: Iterable[tuple[str, int, int, int]] = (("Cemento gris 50 kg", 10_000, 18_900, 1600),),
    status: InvoiceStatus = InvoiceStatus.OPEN,
    paid: bool = False,
    document_type: str = "CFDI_INGRESO",
) -> Invoice:
    """An invoice with lines (description, quantity in thousandths, unit price, tax bp)."""
    invoice = Invoice(
        account_id=account.id,
        number=number,
        document_type=document_type,
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=due_days),
        currency=account.currency,
        subtotal_minor=0,
        tax_minor=0,
        total_minor=0,
        status=status,
    )
    rows = []
    for position, (description, quantity_milli, unit_price, tax_bp) in enumerate(lines, 1):
        subtotal = quantity_milli * unit_price // 1000
        tax = subtotal * tax_bp // 10_000
        rows.append(
            InvoiceLine(
                invoice_id=invoice.id,
                position=position,
                description=description,
                quantity_milli=quantity_milli,
                unit_price_minor=unit_price,
                tax_rate_bp=tax_bp,
                subtotal_minor=subtotal,
                tax_minor=tax,
                total_minor=subtotal + tax,
            )
        )
        invoice.subtotal_minor += subtotal
        invoice.tax_minor += tax
    invoice.total_minor = invoice.subtotal_minor + invoice.tax_minor
    invoice.paid_minor = invoice.total_minor if paid else 0
    async with database.session() as session, session.begin():
        session.add(invoice)
        await session.flush()
        session.add_all(rows)
    return invoice


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


async def make_staff(
    database: Database,
    role: Any,
    email: str | None = None,
    *,
    enrolled: bool = True,
    verified: bool = True,
) -> tuple[User, str]:
    """A staff login with `role` (a StaffRole) and a bearer token; `enrolled`:
    TOTP on (secret TOTP_SECRET); `verified`: the token's session proved it."""
    from clientzone.models.staff import StaffMember

    user = await make_user(
        database, email or f"staff{next(_counter)}@example.com", password=PASSWORD
    )
    async with database.session() as session, session.begin():
        row = await session.get(User, user.id)
        assert row is not None
        row.is_staff = True
        session.add(
            StaffMember(
                user_id=user.id,
                role=role,
                totp_secret=TOTP_SECRET if enrolled else None,
                totp_confirmed_at=utcnow() if enrolled else None,
            )
        )
        token, auth_session = await create_session(
            session, user_id=user.id, kind=SessionKind.TOKEN, lifetime=timedelta(hours=8)
        )
        if verified:
            auth_session.second_factor_at = utcnow()
    user.is_staff = True
    return user, token


# What createCase needs for a DATABASE_UPDATE: the new user's details.
NEW_USER_FIELDS = [
    {"key": "fullName", "value": "Rosa Díaz"},
    {"key": "email", "value": "Rosa.Diaz@Ferreteria.example.com"},
    {"key": "phone", "value": "+52 55 1234 5678"},
    {"key": "position", "value": "Compras"},
]


async def make_case(
    database: Database, account: Account, subject: str = "Cambio de datos", **values: Any
) -> Any:
    """A NEW case (DATABASE_UPDATE) for `account`."""
    from sqlalchemy import select
    from sqlmodel import col

    from clientzone.models.cases import Case, CaseSubcategory, next_case_number

    async with database.transaction() as session:
        subcategory = (
            await session.execute(
                select(CaseSubcategory).where(col(CaseSubcategory.code) == "DATABASE_UPDATE")
            )
        ).scalar_one()
        row = Case(
            account_id=account.id,
            number=await next_case_number(session),
            category_id=subcategory.category_id,
            subcategory_id=subcategory.id,
            subject=subject,
            description="Nuevo domicilio",
            **values,
        )
        session.add(row)
    return row


async def make_api_client(
    database: Database,
    account: Account,
    permissions: Iterable[Permission] = (),
    *,
    name: str = "ERP",
    created_by: User | None = None,
    include_linked_accounts: bool = False,
) -> str:
    """An API client of the account; returns its key."""
    from clientzone.models.api_clients import create_client

    async with database.transaction() as session:
        key, _row = await create_client(
            session,
            account_id=account.id,
            name=name,
            permissions=frozenset(permissions),
            created_by=created_by.id if created_by else None,
            expires_at=None,
            include_linked_accounts=include_linked_accounts,
        )
    return key


async def until_sessions_cached(app: Any, within: float = 5.0) -> None:
    """Wait until the app's session cache serves. On PostgreSQL it does once its
    LISTEN connection is up (later on a busy machine); until then every request
    also reads its session, one statement more than the counts tests pin."""
    sessions = app.state.sessions
    for _ in range(int(within / 0.01)):
        if sessions is None or sessions.live:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the session cache did not start listening within {within} s")


async def open_socket(server: str, token: str) -> ClientConnection:
    """A graphql-transport-ws connection to a running server, signed in with a
    bearer token and acknowledged."""
    socket = await connect(
        server.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
    )
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    return socket


async def closed_with(socket: ClientConnection, within: float = 10.0) -> int | None:
    """The close code the server ends `socket` with, reading until it does."""
    try:
        async with asyncio.timeout(within):
            while True:
                await socket.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
