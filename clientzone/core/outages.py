"""Which failures are outages (a dependency that cannot answer now) rather than
defects. An outage is answered UNAVAILABLE (HTTP 503 with Retry-After when the
whole request failed): nothing was done and the client may retry."""

from __future__ import annotations

from redis.exceptions import RedisError
from sqlalchemy import exc as sa_exc


def is_outage(error: BaseException) -> bool:
    """A database that cannot answer now (down, silent, overloaded, locked), as
    opposed to a defect: the request is answered UNAVAILABLE, safe to retry."""
    if isinstance(error, (sa_exc.TimeoutError, TimeoutError, ConnectionError)):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
        name = type(original).__name__ if original is not None else ""
        if name in _OUTAGE_ERRORS:
            return True
        if isinstance(error, sa_exc.OperationalError) and "database is locked" in str(error):
            return True
        if isinstance(error, sa_exc.InterfaceError):
            return True
    if isinstance(error, RedisError):
        return True
    return isinstance(error, OSError)


# asyncpg's (and the server's) ways of saying "not now".
_OUTAGE_ERRORS = frozenset(
    {
        "QueryCanceledError",
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "TooManyConnectionsError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "CrashShutdownError",
        "IdleInTransactionSessionTimeoutError",
        "InterfaceError",
        "TimeoutError",
    }
)
