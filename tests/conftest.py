"""Fixtures: a fresh database per run (SQLite, or PostgreSQL when TEST_DATABASE_URL
is set), migrated with Alembic, emptied after every test; an in-process app and
role-named GraphQL clients over HTTP."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from clientzone import brands
from clientzone.app import create_app
from clientzone.config import Settings, SmtpSecurity, normalize_database_url
from clientzone.db import Database, StatementCounter
from clientzone.mailers.worker import MailWorker
from clientzone.migrate import upgrade
from clientzone.models.accounts import Account
from clientzone.models.memberships import Permission, Role
from clientzone.models.users import User
from tests.helpers import (
    GraphQLClient,
    http_client,
    issue_token,
    make_account,
    make_membership,
    make_user,
    until_sessions_cached,
)
from tests.smtp_server import SmtpServer


def _admin_dsn(url: str) -> str:
    return (
        make_url(normalize_database_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        path: Path = tmp_path_factory.mktemp("db") / "clientzone.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"clientzone_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_admin_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield normalize_database_url(
        make_url(normalize_database_url(server))
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    admin = await asyncpg.connect(_admin_dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, pool_size=5)
    await upgrade(db)
    yield db
    await db.dispose()


SEEDED_TABLES = {"document_types", "case_categories", "case_subcategories"}


# Counts the database keeps with triggers, each checked after every test: the
# rows whose stored count differs from the rows counted.
STORED_COUNTS = [
    (
        "SELECT email FROM users WHERE membership_count <> "
        "(SELECT count(*) FROM memberships WHERE memberships.user_id = users.id)",
        "users.membership_count, migration 0036",
    ),
    (
        "SELECT number FROM accounts WHERE linked_count <> "
        "(SELECT count(*) FROM accounts AS child WHERE child.parent_id = accounts.id)",
        "accounts.linked_count, migration 0037",
    ),
]


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts from migrated, empty tables."""
    yield
    brands.forget()  # the process's copy of the brands emptied too
    if "database" not in request.fixturenames:
        return
    db: Database = request.getfixturevalue("database")
    async with db.engine.connect() as connection:
        for drift_query, kept_by in STORED_COUNTS:
            drift = (await connection.execute(text(drift_query))).all()
            assert not drift, f"stored counts out of step ({kept_by}): {drift}"
    # Reference data seeded by migrations stays.
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in SEEDED_TABLES]
    async with db.engine.begin() as connection:
        if db.is_sqlite:
            # Triggers refusing DELETE (the append-only staff audit log) are
            # set aside while emptying, then made again as they were.
            triggers = (
                await connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                )
            ).all()
            for name, _ in triggers:
                await connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
            for table in reversed(tables):
                for fk in table.foreign_keys:
                    if fk.column.table is table:
                        await connection.execute(table.update().values({fk.parent.name: None}))
                await connection.execute(table.delete())
            for _, sql in triggers:
                await connection.exec_driver_sql(sql)
        else:
            names = ", ".join(f'"{t.name}"' for t in tables)
            await connection.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        cors_origins=["https://portal.example.com"],
        # Tests that need the anti-enumeration floor set it themselves.
        auth_response_floor_ms=0,
        # A session's last-seen time is written at most once an hour, not once a
        # minute: a slow run would otherwise add that write to a request whose
        # statements a test counts. Tests of idleness travel hours in time.
        session_touch_seconds=3600,
    )


@pytest.fixture(autouse=True)
async def _close_built_apps(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    """An app a test builds itself (`create_app(...)` in a test module) is closed
    after the test like the `app` fixture's: otherwise its event bus keeps a
    LISTEN connection (and a NOTIFY pool) for the rest of the run, and a few
    dozen of them use up PostgreSQL's max_connections."""
    built: list[Any] = []
    module = request.module
    if getattr(module, "create_app", None) is create_app:

        def tracked(*args: Any, **kwargs: Any) -> Any:
            application = create_app(*args, **kwargs)
            built.append(application)
            return application

        monkeypatch.setattr(module, "create_app", tracked)
    yield
    for application in built:
        await application.state.close_clients()


@pytest.fixture
async def app(settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    application = create_app(settings, database)
    yield application
    await application.state.close_clients()


@pytest.fixture
async def anonymous(app) -> AsyncIterator[GraphQLClient]:  # type: ignore[no-untyped-def]
    async with http_client(app) as client:
        yield GraphQLClient(client)


@pytest.fixture
def sql_statements(database: Database) -> Callable[[], AbstractContextManager[StatementCounter]]:
    """`with sql_statements() as counted:` ... `counted.count`."""
    return database.count_statements


@dataclass
class Portal:
    """A small world: an owner with a parent account, two linked accounts and a
    second account; a member with a limited set; a stranger with their own."""

    owner: GraphQLClient
    member: GraphQLClient
    stranger: GraphQLClient
    anonymous: GraphQLClient
    owner_user: User
    member_user: User
    parent: Account
    linked: list[Account]
    other: Account
    foreign: Account


@pytest.fixture
async def portal(app: Any, database: Database) -> AsyncIterator[Portal]:
    ana = await make_user(database, "ana@example.com", first_name="Ana", last_name="García")
    luis = await make_user(database, "luis@example.com", first_name="Luis", last_name="Pérez")
    eve = await make_user(database, "eve@example.com", first_name="Eve", last_name="Extraña")
    parent = await make_account(database, number="MX-1000", name="Ferretería La Esperanza")
    linked = [
        await make_account(database, number=f"MX-100{i}", name=f"Sucursal {i}", parent=parent)
        for i in (1, 2)
    ]
    other = await make_account(database, number="AR-2000", name="Río de la Plata", currency="ARS")
    foreign = await make_account(database, number="ES-3000", name="Albaicín", currency="EUR")
    await make_membership(database, ana, parent)
    await make_membership(database, ana, other)
    await make_membership(
        database, luis, parent, Role.MEMBER, [Permission.INVOICES_VIEW, Permission.INVOICES_PAY]
    )
    await make_membership(database, eve, foreign)
    tokens = [await issue_token(database, user) for user in (ana, luis, eve)]
    async with http_client(app) as http:
        clients = [GraphQLClient(http, token) for token in tokens]
        await clients[0].data("query Start { __typename }")
        await until_sessions_cached(app)
        for client in clients:
            # Each session is now in the app's session cache, as a signed-in
            # user's is after their first request: statement counts pinned by
            # the tests are those of a request that reads no session row.
            await client.data("query Warm { __typename }")
        yield Portal(
            owner=clients[0],
            member=clients[1],
            stranger=clients[2],
            anonymous=GraphQLClient(http),
            owner_user=ana,
            member_user=luis,
            parent=parent,
            linked=linked,
            other=other,
            foreign=foreign,
        )


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """Settings that send to the test SMTP server, with quick retries."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_security": SmtpSecurity.NONE,
            "smtp_timeout_seconds": 5.0,
            "mail_max_attempts": 3,
            "mail_from_address": "no-reply@clientzone.example.com",
            "company_name": "Ferretera Central",
        }
    )


@pytest.fixture
def mail_worker(database: Database, mail_settings: Settings) -> MailWorker:
    return MailWorker(database, mail_settings)
