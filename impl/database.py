"""The database: an asyncpg pool with bounded size, acquire, connect and command timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy.engine import URL

from impl.database_url import asyncpg_url
from impl.postgresql_version import require_supported
from impl.settings import Settings


def behind_transaction_pooler(url: URL) -> bool:
    """Neon's -pooler hosts are PgBouncer in transaction mode: prepared statements do not survive there."""
    return "-pooler" in (url.host or "")


def pool_arguments(settings: Settings) -> tuple[str, dict[str, Any]]:
    """The DSN and asyncpg.create_pool keyword arguments for the configured database."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (make run starts an embedded PostgreSQL and sets it)")
    url, arguments = asyncpg_url(settings.database_url)
    if behind_transaction_pooler(url):
        arguments["statement_cache_size"] = 0
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return dsn, arguments | {
        # Connections open on demand and close after idling, so an idle service lets Neon scale to zero.
        "min_size": 0,
        "max_size": settings.db_pool_size + settings.db_max_overflow,
        "max_inactive_connection_lifetime": settings.db_pool_idle_seconds,
        "timeout": settings.db_connect_timeout,
        "command_timeout": settings.db_command_timeout,
    }


async def keep_session(_: asyncpg.Connection) -> None:
    """Replaces asyncpg's reset on release (RESET ALL, UNLISTEN *, CLOSE ALL, advisory unlock): a round
    trip per request for session state this service never sets. asyncpg still rolls back an open
    transaction on release before calling this."""


async def refuse_unsupported_server(conn: asyncpg.Connection) -> None:
    """Each new connection: a server older than the oldest supported major raises UnsupportedPostgreSQL.

    No round trip: the server announced its version when the connection started.
    """
    version = conn.get_server_version()
    # asyncpg reads PostgreSQL 10+'s "15.18" as major 15, micro 18 (the minor of the 9.x scheme stays 0).
    require_supported((version.major, version.micro if version.major >= 10 else version.minor))


async def create_pool(settings: Settings) -> asyncpg.Pool:
    dsn, arguments = pool_arguments(settings)
    return await asyncpg.create_pool(dsn, reset=keep_session, init=refuse_unsupported_server, **arguments)


class Database:
    """The process's connection pool, created on first use (so the service starts while PostgreSQL is down)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.acquire_timeout = settings.db_pool_timeout
        self._pool: asyncpg.Pool | None = None
        self._creating = asyncio.Lock()
        # Connections handed out so far: background work can tell whether requests used the database.
        self.connections_handed_out = 0

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._creating:
                if self._pool is None:
                    self._pool = await create_pool(self.settings)
        return self._pool

    def connection(self) -> AbstractAsyncContextManager[PoolConnectionProxy]:
        """A connection in autocommit: each statement is its own transaction."""
        self.connections_handed_out += 1
        if self._pool is not None:
            # asyncpg's own context manager: a generator-based wrapper around it cost 5 µs per request.
            return self._pool.acquire(timeout=self.acquire_timeout)
        return self._first_connection()

    @asynccontextmanager
    async def _first_connection(self) -> AsyncIterator[PoolConnectionProxy]:
        pool = await self.pool()
        async with pool.acquire(timeout=self.acquire_timeout) as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PoolConnectionProxy]:
        """A connection inside one transaction: committed when the block ends, rolled back on any error."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
