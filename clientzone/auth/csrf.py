"""Cross-site request forgery protection.

A browser sends the session cookie with any request to this site, even one a
hostile page starts (a form post, an <img>, a WebSocket), and it keeps a cookie
that any response sets, even to a request a hostile page sent. So every request
that could use the cookie or get one must prove it was made by script from an
allowed page, cookie present or not (a cross-site `login` would otherwise sign
the visitor into the attacker's login):

- its Origin, when sent, is this service's own or one of CORS_ORIGINS (a
  `null` Origin, sent by sandboxed frames and some redirects, is not);
- a POST is JSON (a content type no form can send without a CORS preflight) or
  carries the `X-CSRF-Protection` header (any value; a header no cross-site
  page can add either): multipart uploads need the header;
- a GET that carries the cookie needs the header too (GET never changes
  anything, so an anonymous GET is not checked);
- a WebSocket handshake's Origin is checked like a POST's.

Requests with `Authorization: Bearer` carry no ambient authority and set no
cookie a hostile page could use: they are not checked.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from clientzone.config import Settings

CSRF_HEADER = "x-csrf-protection"


class CsrfRefused(Exception):
    """A request that a cross-site page could have sent."""


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def allowed_origins(request: HTTPConnection, settings: Settings) -> set[str]:
    own = f"{request.url.scheme.replace('ws', 'http')}://{request.url.netloc}".lower()
    return {own, _origin_of(settings.public_base_url), *(o.lower() for o in settings.cors_origins)}


def check_request(request: HTTPConnection, settings: Settings, *, has_cookie: bool) -> None:
    """Raise CsrfRefused for a request without a bearer token that a hostile
    page could have sent (see the module docstring)."""
    websocket = request.scope["type"] == "websocket"
    method = request.scope.get("method")
    if method == "GET" and not has_cookie:
        return
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/").lower() not in allowed_origins(request, settings):
        raise CsrfRefused
    if websocket or request.headers.get(CSRF_HEADER):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if method == "POST" and content_type == "application/json":
        return
    raise CsrfRefused
