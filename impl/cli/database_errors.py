"""Which failures mean the database could not be reached, as the commands report them."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import InterfaceError, OperationalError

# OSError covers refused and reset connections, unknown hosts and TLS failures; asyncpg's
# PostgresError at connect: a login refused, or a database that does not exist.
UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, OperationalError, InterfaceError)


def unreachable_message(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return f"database unreachable: {type(cause).__name__}: {cause}".rstrip(": ")
