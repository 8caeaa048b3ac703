"""Cross-site request forgery protection for cookie-authenticated requests.

A browser sends the session cookie with any request to this site, even one a
hostile page starts (a form post, an <img>, a WebSocket). A request that
authenticates with the cookie must therefore prove it was made by script from
an allowed page:

- its Origin, when sent, is this service's own or one of CORS_ORIGINS;
- and it is a JSON POST (a content type no form can send without a CORS
  preflight), or it carries the `X-CSRF-Protection` header (any value; a
  header no cross-site page can add either). Multipart uploads and GET
  queries need the header.

Bearer-token requests carry no ambient authority and are not checked.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from clientzone.config import Settings

CSRF_HEADER = "x-csrf-protection"


class CsrfRefused(Exception):
    """A cookie-authenticated request that a cross-site page could have sent."""


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def allowed_origins(request: HTTPConnection, settings: Settings) -> set[str]:
    own = f"{request.url.scheme.replace('ws', 'http')}://{request.url.netloc}".lower()
    return {own, _origin_of(settings.public_base_url), *(o.lower() for o in settings.cors_origins)}


def check_cookie_request(request: HTTPConnection, settings: Settings) -> None:
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/").lower() not in allowed_origins(request, settings):
        raise CsrfRefused
    if request.scope["type"] == "websocket" or request.headers.get(CSRF_HEADER):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.scope.get("method") == "POST" and content_type == "application/json":
        return
    raise CsrfRefused
