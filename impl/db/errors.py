"""Database failures: those that mean the database cannot serve now, and a database this service will not use."""

from __future__ import annotations

from asyncpg import ConnectionDoesNotExistError, InterfaceError, InternalClientError, PostgresError


class UnusableDatabase(RuntimeError):
    """The database is reachable, but serving from it would be wrong: a server too old (decision 0031) or a
    schema not at the code's migration head (decision 0034). Clients get 503; the log says why."""


# SQLSTATE classes that blame the database, not the request: 08 connection exception, 53 insufficient
# resources (too many connections, out of memory, disk full), 57 operator intervention (shutting down,
# starting up, in recovery, crashed, query cancelled).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})


def is_database_unavailable(exc: BaseException) -> bool:
    """Errors that say the database cannot be reached or cannot serve now, rather than that we erred.

    OSError: refused or reset connections; TimeoutError: connect, statement or pool acquire timeouts;
    asyncpg's ConnectionDoesNotExistError: the connection died mid-statement; its InterfaceError
    "connection is closed": it died between the pool handing it out and its use; and its
    InternalClientError, refusing a statement on a connection the server is terminating (the shutdown
    notice arrived while it sat in the pool); UnusableDatabase: a server too old to use (decision 0031) or a
    schema not at head (decision 0034).
    """
    if isinstance(exc, (OSError, TimeoutError, ConnectionDoesNotExistError, InternalClientError, UnusableDatabase)):
        return True
    if isinstance(exc, InterfaceError) and "connection is closed" in str(exc):
        return True
    state = getattr(exc, "sqlstate", None)
    return isinstance(exc, PostgresError) and isinstance(state, str) and state[:2] in UNAVAILABLE_SQLSTATE_CLASSES


def database_error_class(exc: BaseException) -> str:
    """A database error as a metric label: its SQLSTATE class, else what failed before the server could say."""
    state = getattr(exc, "sqlstate", None)
    if isinstance(exc, PostgresError) and isinstance(state, str) and len(state) == 5:
        return state[:2]
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, UnusableDatabase):
        return "unusable"
    return "connection"
