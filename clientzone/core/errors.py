"""Domain errors that reach the client as top-level GraphQL errors.

    ClientzoneError                 anything the API reports on purpose
    ├── Unauthenticated             no valid session or token      UNAUTHENTICATED
    ├── Forbidden                   a permission is missing        FORBIDDEN
    ├── MemberSuspended             the viewer's access is off     FORBIDDEN
    ├── CrossSiteRefused            a request a hostile page sent  FORBIDDEN
    ├── NotFound                    missing, or not the viewer's   NOT_FOUND
    ├── BadUserInput                malformed arguments            BAD_USER_INPUT
    │   ├── InvalidPagination       page size, cursors             BAD_USER_INPUT
    │   └── BadRequest              refused before anything ran    BAD_USER_INPUT
    ├── RateLimited                 too many attempts              RATE_LIMITED
    └── Unavailable                 overload, a dependency down    UNAVAILABLE

Errors a user can fix inside a mutation's input are *not* exceptions: they are
returned as `userErrors` in the payload. Everything else (bugs, outages) is
masked as INTERNAL by `clientzone.schema.errors`; the mapping lives only there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class ClientzoneError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL
    message_key: str = "error.internal"

    def __init__(self, message_key: str | None = None, **params: Any) -> None:
        self.message_key = message_key or self.message_key
        self.params = params
        super().__init__(self.message_key)

    def extensions(self) -> dict[str, Any]:
        """Extra machine-readable details added to `extensions` beside the code."""
        return {}


class Unauthenticated(ClientzoneError):
    code = ErrorCode.UNAUTHENTICATED
    message_key = "error.unauthenticated"


class Forbidden(ClientzoneError):
    code = ErrorCode.FORBIDDEN
    message_key = "error.forbidden"

    def __init__(self, permission: str) -> None:
        super().__init__(permission=permission)
        self.permission = permission

    def extensions(self) -> dict[str, Any]:
        return {"permission": self.permission}


class StaffForbidden(Forbidden):
    """A staff path refused: not staff, not the role (`permission` names the
    least role that may), or a staff session without its second factor
    (`permission` is SECOND_FACTOR)."""

    message_key = "error.staff_forbidden"

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        if permission == "SECOND_FACTOR":
            self.message_key = "error.second_factor_required"


class MemberSuspended(ClientzoneError):
    """The viewer's membership of the account is suspended (setMemberAccess)."""

    code = ErrorCode.FORBIDDEN
    message_key = "error.member_suspended"

    def extensions(self) -> dict[str, Any]:
        return {"reason": "MEMBER_SUSPENDED"}


class CrossSiteRefused(ClientzoneError):
    """A request a cross-site page could have sent (auth/csrf.py)."""

    code = ErrorCode.FORBIDDEN
    message_key = "error.csrf"

    def extensions(self) -> dict[str, Any]:
        return {"reason": "CSRF"}


class NotFound(ClientzoneError):
    code = ErrorCode.NOT_FOUND
    message_key = "error.not_found"


class BadUserInput(ClientzoneError):
    code = ErrorCode.BAD_USER_INPUT
    message_key = "error.bad_user_input"


class InvalidPagination(BadUserInput):
    pass


class BadRequest(BadUserInput):
    """The request as a whole cannot run (its body, document, operation or
    cost); `details` go into `extensions` beside the code."""

    def __init__(self, message_key: str, details: dict[str, Any] | None = None, **params: Any):
        super().__init__(message_key, **params)
        self.details = details or {}

    def extensions(self) -> dict[str, Any]:
        return dict(self.details)


class RateLimited(ClientzoneError):
    code = ErrorCode.RATE_LIMITED
    message_key = "error.rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(seconds=retry_after)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, Any]:
        return {"retryAfter": self.retry_after}


class Unavailable(ClientzoneError):
    """Overload or a dependency down: nothing was done, safe to retry (HTTP 503)."""

    code = ErrorCode.UNAVAILABLE
    message_key = "error.unavailable"

    def __init__(
        self, retry_after: int = 1, reason: str = "OVERLOADED", message_key: str | None = None
    ) -> None:
        super().__init__(message_key, seconds=retry_after)
        self.retry_after = retry_after
        self.reason = reason

    def extensions(self) -> dict[str, Any]:
        return {"retryAfter": self.retry_after, "reason": self.reason}
