"""Signing in and out over HTTP: cookie and bearer token, sessions, expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from argon2 import PasswordHasher
from sqlalchemy import select

from clientzone.app import create_app
from clientzone.auth.passwords import HASHER
from clientzone.db import Database
from clientzone.models.base import utcnow
from clientzone.models.sessions import AuthSession
from clientzone.models.users import User
from tests.helpers import (
    PASSWORD,
    GraphQLClient,
    http_client,
    login,
    make_user,
    viewer_email,
)

SESSIONS = """
{ viewer { sessions { totalCount nodes { id kind current ip userAgent idleExpiresAt } } } }
"""
EVENTS = "{ viewer { securityEvents { nodes { kind ip userAgent detail } } } }"
LOGOUT = "mutation($e: Boolean!) { logout(input: {everywhere: $e}) { endedSessions } }"
REVOKE = """
mutation($id: ID!) { revokeSession(input: {sessionId: $id}) { revokedSessionId } }
"""


def _payload(response: Any) -> dict[str, Any]:
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["login"]
    return payload


async def test_login_sets_an_http_only_cookie_that_signs_the_browser_in(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        response = await login(browser, "  ANA@example.com ", headers={"User-Agent": "Firefox"})
        payload = _payload(response)
        assert payload["userErrors"] == []
        assert payload["user"] == {"email": "ana@example.com"}
        assert payload["token"] is None
        assert payload["session"]["kind"] == "BROWSER"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("cz_session=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/" in cookie
        assert "Max-Age" not in cookie  # ends with the browser (and idle expiry)
        assert "Secure" not in cookie  # development default; production sets it
        assert await viewer_email(browser) == "ana@example.com"
        sessions = (await browser.data(SESSIONS))["viewer"]["sessions"]
        assert sessions["totalCount"] == 1
        assert sessions["nodes"][0]["current"] is True
        assert sessions["nodes"][0]["userAgent"] == "Firefox"
        assert sessions["nodes"][0]["idleExpiresAt"] is not None


async def test_secure_cookies_when_configured(settings: Any, database: Database) -> None:

    await make_user(database, "ana@example.com", password=PASSWORD)
    app = create_app(settings.model_copy(update={"session_cookie_secure": True}), database)
    async with http_client(app) as http:
        response = await login(GraphQLClient(http), "ana@example.com")
    assert "Secure" in response.headers["set-cookie"]


async def test_remember_keeps_the_cookie_for_thirty_days(app: Any, database: Database) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        response = await login(GraphQLClient(http), "ana@example.com", remember=True)
    assert f"Max-Age={30 * 86400}" in response.headers["set-cookie"]


async def test_issue_token_returns_a_bearer_token_for_servers(app: Any, database: Database) -> None:
    await make_user(database, "partner@example.com", password=PASSWORD)
    async with http_client(app) as http:
        payload = _payload(await login(GraphQLClient(http), "partner@example.com", issueToken=True))
    assert payload["session"]["kind"] == "TOKEN"
    assert len(payload["token"]) >= 43  # 256 random bits
    async with http_client(app) as http:  # no cookie jar shared
        assert await viewer_email(GraphQLClient(http, payload["token"])) == "partner@example.com"


async def test_wrong_password_and_unknown_email_get_byte_identical_answers(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        client = GraphQLClient(http)
        wrong = await login(client, "ana@example.com", "not-the-password-at-all")
        unknown = await login(client, "nadie@example.com", "not-the-password-at-all")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.content == unknown.content
    assert "set-cookie" not in wrong.headers
    errors = _payload(wrong)["userErrors"]
    assert errors == [
        {
            "field": None,
            "code": "INVALID_CREDENTIALS",
            "message": "El email o la contraseña no son correctos.",
        }
    ]


async def test_a_disabled_login_looks_like_a_wrong_password(app: Any, database: Database) -> None:
    user = await make_user(database, "ana@example.com", password=PASSWORD)
    async with database.session() as session, session.begin():
        row = (await session.execute(select(User).where(User.id == user.id))).scalar_one()
        row.status = "DISABLED"  # type: ignore[assignment]
    async with http_client(app) as http:
        response = await login(GraphQLClient(http), "ana@example.com")
    assert [e["code"] for e in _payload(response)["userErrors"]] == ["INVALID_CREDENTIALS"]


async def test_login_requires_both_fields_with_localized_messages(anonymous: GraphQLClient) -> None:
    response = await login(anonymous, " ", "", headers={"Accept-Language": "en"})
    assert _payload(response)["userErrors"] == [
        {"field": "email", "code": "REQUIRED", "message": "This field is required."},
        {"field": "password", "code": "REQUIRED", "message": "This field is required."},
    ]


async def test_login_rehashes_a_password_hashed_with_older_parameters(
    app: Any, database: Database
) -> None:
    user = await make_user(database, "ana@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with database.session() as session, session.begin():
        row = (await session.execute(select(User).where(User.id == user.id))).scalar_one()
        row.password_hash = weak
    async with http_client(app) as http:
        assert _payload(await login(GraphQLClient(http), "ana@example.com"))["user"]
    async with database.session() as session:
        stored = (await session.execute(select(User).where(User.id == user.id))).scalar_one()
    assert stored.password_hash != weak
    assert not HASHER.check_needs_rehash(stored.password_hash or "")
    assert stored.last_login_at is not None


async def test_logout_ends_the_session_and_clears_the_cookie(app: Any, database: Database) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        stolen = http.cookies["cz_session"]
        response = await browser.post(LOGOUT, {"e": False})
        assert response.json()["data"]["logout"] == {"endedSessions": 1}
        assert 'cz_session=""' in response.headers["set-cookie"]
        assert await viewer_email(browser) is None
    async with http_client(app, cookies={"cz_session": stolen}) as http:
        assert await viewer_email(GraphQLClient(http)) is None


async def test_a_revoked_session_stops_working_on_its_next_request(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    await make_user(database, "eve@example.com", password=PASSWORD)
    async with (
        http_client(app) as laptop_http,
        http_client(app) as phone_http,
        http_client(app) as eve_http,
    ):
        laptop, phone, eve = (GraphQLClient(h) for h in (laptop_http, phone_http, eve_http))
        await login(laptop, "ana@example.com")
        phone_session = _payload(await login(phone, "ana@example.com"))["session"]["id"]
        await login(eve, "eve@example.com")
        assert await viewer_email(phone) == "ana@example.com"
        # Someone else's session is not found, exactly like a missing one.
        assert await eve.error_codes(REVOKE, {"id": phone_session}) == ["NOT_FOUND"]
        revoked = await laptop.data(REVOKE, {"id": phone_session})
        assert revoked["revokeSession"]["revokedSessionId"] == phone_session
        assert await viewer_email(phone) is None
        assert await viewer_email(laptop) == "ana@example.com"
        assert await laptop.error_codes(REVOKE, {"id": phone_session}) == ["NOT_FOUND"]
        assert await laptop.error_codes(REVOKE, {"id": "garbage"}) == ["NOT_FOUND"]
        events = (await laptop.data(EVENTS))["viewer"]["securityEvents"]["nodes"]
        assert [e["detail"] for e in events if e["kind"] == "SESSION_REVOKED"] == [phone_session]


async def test_logout_everywhere_ends_every_session_and_token(app: Any, database: Database) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http_a, http_client(app) as http_b:
        browser = GraphQLClient(http_a)
        await login(browser, "ana@example.com")
        token = _payload(await login(GraphQLClient(http_b), "ana@example.com", issueToken=True))[
            "token"
        ]
        server = GraphQLClient(http_b, token)
        assert await viewer_email(server) == "ana@example.com"
        ended = await browser.data(LOGOUT, {"e": True})
        assert ended["logout"]["endedSessions"] == 2
        assert await viewer_email(server) is None
        assert await viewer_email(browser) is None


async def test_logout_needs_a_session(anonymous: GraphQLClient) -> None:
    assert await anonymous.error_codes(LOGOUT, {"e": False}) == ["UNAUTHENTICATED"]
    assert await anonymous.error_codes(REVOKE, {"id": "x"}) == ["UNAUTHENTICATED"]
    assert await anonymous.data(SESSIONS) == {"viewer": None}


async def test_an_unknown_token_is_anonymous_and_a_dead_cookie_is_cleared(app: Any) -> None:
    async with http_client(app, cookies={"cz_session": "forged"}) as http:
        response = await GraphQLClient(http).post("{ viewer { user { email } } }")
        assert response.json()["data"] == {"viewer": None}
        assert 'cz_session=""' in response.headers["set-cookie"]
    async with http_client(app) as http:
        assert await viewer_email(GraphQLClient(http, "forged-token")) is None


async def test_idle_sessions_expire_and_activity_keeps_them_alive(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    start = utcnow()
    async with http_client(app) as idle_http, http_client(app) as busy_http:
        idle, busy = GraphQLClient(idle_http), GraphQLClient(busy_http)
        await login(idle, "ana@example.com")
        await login(busy, "ana@example.com")
        with time_machine.travel(start + timedelta(minutes=100), tick=False):
            assert await viewer_email(busy) == "ana@example.com"  # pushes its idle deadline
        with time_machine.travel(start + timedelta(minutes=121), tick=False):
            assert await viewer_email(idle) is None
            assert await viewer_email(busy) == "ana@example.com"
        # Activity never outlives the absolute limit (12 hours).
        for minutes in range(200, 12 * 60, 100):
            with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
                assert await viewer_email(busy) == "ana@example.com"
        with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
            assert await viewer_email(busy) is None


async def test_a_request_after_the_touch_interval_records_the_session_as_seen(
    app: Any, database: Database
) -> None:
    ana = await make_user(database, "ana@example.com", password=PASSWORD)
    start = utcnow()
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com")
        with time_machine.travel(start + timedelta(minutes=90), tick=False):
            assert await viewer_email(browser) == "ana@example.com"
    async with database.session() as session:
        seen = await session.execute(
            select(AuthSession.last_seen_at).where(AuthSession.user_id == ana.id)
        )
        assert seen.scalar_one() >= start + timedelta(minutes=89)


async def test_remembered_sessions_ignore_idleness_until_thirty_days(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    start = utcnow()
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        await login(browser, "ana@example.com", remember=True)
        with time_machine.travel(start + timedelta(days=29), tick=False):
            assert await viewer_email(browser) == "ana@example.com"
        with time_machine.travel(start + timedelta(days=30, minutes=1), tick=False):
            assert await viewer_email(browser) is None


async def test_security_events_record_logins_with_ip_and_user_agent(
    app: Any, database: Database
) -> None:
    await make_user(database, "ana@example.com", password=PASSWORD)
    async with http_client(app) as http:
        browser = GraphQLClient(http)
        agent = {"User-Agent": "Safari"}
        await login(browser, "ana@example.com", "not-the-password-at-all", headers=agent)
        await login(browser, "ana@example.com", headers=agent)
        events = (await browser.data(EVENTS))["viewer"]["securityEvents"]["nodes"]
    assert [e["kind"] for e in events] == ["LOGIN_SUCCEEDED", "LOGIN_FAILED"]
    assert all(e["ip"] == "127.0.0.1" and e["userAgent"] == "Safari" for e in events)
    assert events[0]["detail"] == "BROWSER"
