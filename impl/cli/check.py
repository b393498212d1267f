"""`tasks-api check`: settings valid, database reachable, PostgreSQL supported, schema at head."""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg

from impl.cli.database_errors import UNREACHABLE, unreachable_message
from impl.cli.exit_codes import (
    DATABASE_UNREACHABLE,
    POSTGRESQL_UNSUPPORTED,
    SCHEMA_AHEAD,
    SCHEMA_BEHIND,
    CommandFailed,
)
from impl.cli.settings_check import valid_settings
from impl.db.database import pool_arguments, refuse_unsupported_server
from impl.db.postgresql_version import UnsupportedPostgreSQL
from impl.db.schema_revision import SchemaNotAtHead, database_revision, require_head
from impl.settings import Settings

# asyncpg.create_pool's arguments that one connection does not take.
POOL_ONLY_ARGUMENTS = ("min_size", "max_size", "max_inactive_connection_lifetime")


def check(_: argparse.Namespace) -> None:
    settings = valid_settings()
    try:
        revision = asyncio.run(read_revision(settings))
    except UnsupportedPostgreSQL as error:
        raise CommandFailed(POSTGRESQL_UNSUPPORTED, str(error)) from None
    except UNREACHABLE as error:
        raise CommandFailed(DATABASE_UNREACHABLE, unreachable_message(error)) from None
    try:
        require_head(revision)
    except SchemaNotAtHead as error:
        raise CommandFailed(SCHEMA_BEHIND if error.behind else SCHEMA_AHEAD, str(error)) from None
    print(f"OK: settings valid, database reachable, schema at head ({revision}).", file=sys.stderr, flush=True)


async def read_revision(settings: Settings) -> str | None:
    """Over DATABASE_URL, connecting as the service's pool does (its TLS, timeouts, pooler mode)."""
    dsn, arguments = pool_arguments(settings)
    for name in POOL_ONLY_ARGUMENTS:
        del arguments[name]
    conn = await asyncpg.connect(dsn, **arguments)
    try:
        await refuse_unsupported_server(conn)
        return await database_revision(conn)
    finally:
        await conn.close()
