"""The GraphQL explorer on GET /graphql, served from files in the package.

The page and its bundle (web/explorer_assets, built by `make explorer-assets`
from explorer/) need nothing from another host: the page's Content-Security-
Policy allows 'self' only, with no inline script (its settings travel in a
JSON data block). Who gets it:

- development: everyone, unless GRAPHIQL=false;
- production: nobody unless GRAPHIQL=true, and then only signed-in sessions
  (`may_use_explorer`); others get a sign-in form from the same bundle.

A browser's GET for an HTML page without `query` or `extensions` gets the
explorer; every other request goes to the GraphQL view.
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from clientzone.config import Environment, Settings
from clientzone.core.i18n import DEFAULT_LOCALE, negotiate_locale
from clientzone.db import Database
from clientzone.demo.references import fill_references
from clientzone.models.sessions import active_session_by_token
from clientzone.models.users import Locale, User
from clientzone.web.explorer_examples import example_tabs

ASSETS = Path(__file__).parent / "explorer_assets"
ASSETS_PATH = "/explorer"

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

TEXT: dict[Locale, dict[str, Any]] = {
    Locale.ES: {
        "title": "Explorador GraphQL",
        "signInTitle": "Cómo entrar",
        "signInSteps": [
            "Con cookie: ejecuta la pestaña SignIn (login) con tu email y contraseña; "
            "el navegador guarda la sesión y las demás pestañas la usan.",
            "Con token: abre Headers, abajo, y escribe tu token de acceso:",
        ],
        "accountHint": "Para actuar sobre otra cuenta: switchAccount, o la cabecera "
        "X-Account-Id con el ID de la cuenta.",
        "storageNote": "Las pestañas se guardan solo en esta pestaña del navegador, nunca "
        "las cabeceras, y se borran al cerrar sesión.",
        "signOut": "Cerrar sesión y borrar",
        "signInRequired": "Inicia sesión para usar el explorador.",
        "signIn": "Entrar",
        "signInFailed": "No se pudo iniciar sesión.",
        "email": "Email",
        "password": "Contraseña",
        "noscript": "El explorador necesita JavaScript.",
    },
    Locale.EN: {
        "title": "GraphQL explorer",
        "signInTitle": "How to sign in",
        "signInSteps": [
            "With the cookie: run the SignIn tab (login) with your email and password; "
            "the browser keeps the session and the other tabs use it.",
            "With a token: open Headers, below, and enter your access token:",
        ],
        "accountHint": "To act on another account: switchAccount, or the X-Account-Id "
        "header with the account's ID.",
        "storageNote": "Tabs are kept in this browser tab only, headers never, and they are "
        "wiped when you sign out.",
        "signOut": "Sign out and wipe",
        "signInRequired": "Sign in to use the explorer.",
        "signIn": "Sign in",
        "signInFailed": "Could not sign in.",
        "email": "Email",
        "password": "Password",
        "noscript": "The explorer needs JavaScript.",
    },
}

PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/explorer.css?v={version}">
<script src="{assets}/explorer.js?v={version}" defer></script>
</head>
<body>
<noscript>{noscript}</noscript>
<div id="explorer"></div>
<script type="application/json" id="explorer-config">{config}</script>
</body>
</html>
"""


def may_use_explorer(user: User) -> bool:
    """Who may open the explorer where it is restricted (production with
    GRAPHIQL=true). Staff logins do not exist yet: any signed-in user. Once
    they do, this becomes "staff only"."""
    return user.id is not None


def _bundle_version() -> str:
    digest = hashlib.sha256()
    for name in ("explorer.js", "explorer.css"):
        path = ASSETS / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def is_explorer_request(scope: Scope) -> bool:
    """A browser navigating to the endpoint (not a GraphQL GET)."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    if "text/html" not in Headers(scope=scope).get("accept", "").lower():
        return False
    params = QueryParams(scope.get("query_string", b""))
    return "query" not in params and "extensions" not in params


def _json_for_html(value: Any) -> str:
    """JSON that cannot end the <script> block it sits in."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Explorer:
    """The page; `route(view)` puts it in front of the GraphQL view."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.version = _bundle_version()

    def route(self, view: ASGIApp) -> ASGIApp:
        return _ExplorerOrView(self, view)

    def routes(self) -> list[BaseRoute]:
        return [Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS, check_dir=False))]

    async def _signed_in(self, request: Request) -> bool:
        token = request.cookies.get(self.settings.session_cookie_name)
        if not token:
            return False
        async with self.database.session() as session:
            found = await active_session_by_token(session, token)
        return found is not None and may_use_explorer(found[1])

    async def page(self, request: Request) -> Response:
        settings = self.settings
        if not settings.explorer_enabled:
            return PlainTextResponse("Not Found", status_code=404)
        production = settings.environment is Environment.PRODUCTION
        mode = "explorer"
        if production and not await self._signed_in(request):
            mode = "sign-in"
        locale = negotiate_locale(request.headers.get("accept-language")) or DEFAULT_LOCALE
        text = TEXT[locale]
        tabs: list[dict[str, Any]] = []
        if mode == "explorer":
            async with self.database.session() as session:
                tabs = await fill_references(session, example_tabs(with_demo_login=not production))
        root = request.scope.get("root_path", "")
        config = {
            "mode": mode,
            "endpoint": f"{root}/graphql",
            "company": settings.company_name,
            "examples": tabs,
            "text": text,
        }
        html = PAGE.format(
            lang=locale.value.lower(),
            title=escape(f"{settings.company_name} · {text['title']}"),
            assets=escape(root + ASSETS_PATH),
            version=self.version,
            noscript=escape(text["noscript"]),
            config=_json_for_html(config),
        )
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": CSP,
                "Cache-Control": "no-store",
                "Content-Language": locale.value.lower(),
                "Vary": "Accept-Language, Cookie",
            },
        )


class _ExplorerOrView:
    """An ASGI app (not a function, which Starlette would call with a Request)."""

    def __init__(self, explorer: Explorer, view: ASGIApp) -> None:
        self.explorer = explorer
        self.view = view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_explorer_request(scope):
            response = await self.explorer.page(Request(scope, receive))
            await response(scope, receive, send)
        else:
            await self.view(scope, receive, send)
