"""The database: an asyncpg pool with bounded size, acquire, connect and command timeouts, and fair waiting."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, NamedTuple

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from impl.db.fair_pool import FairPool
from impl.db.postgresql_version import require_supported
from impl.db.schema_revision import SchemaAtHead
from impl.db.url import asyncpg_url, pooler_host
from impl.settings import Settings


def uses_transaction_pooler(settings: Settings) -> bool:
    """DATABASE_TRANSACTION_POOLER when set; else the -pooler host guess (Neon's naming only)."""
    if settings.database_transaction_pooler is not None:
        return settings.database_transaction_pooler
    return bool(settings.database_url) and pooler_host(asyncpg_url(str(settings.database_url))[0])


def pool_arguments(settings: Settings) -> tuple[str, dict[str, Any]]:
    """The DSN and asyncpg.create_pool keyword arguments for the configured database."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (make run starts an embedded PostgreSQL and sets it)")
    url, arguments = asyncpg_url(settings.database_url)
    if uses_transaction_pooler(settings):
        # Named prepared statements live on one server connection; the pooler hands each transaction
        # another. Unnamed ones are parsed and run within one transaction.
        arguments["statement_cache_size"] = 0
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return dsn, arguments | {
        # With DB_POOL_MIN_SIZE 0 (the default) connections open on demand and close after idling, so an
        # idle service lets Neon scale to zero.
        "min_size": settings.db_pool_min_size,
        "max_size": settings.db_pool_max_size,
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


async def create_pool(
    settings: Settings,
    reset: Callable[[asyncpg.Connection], Awaitable[None]] = keep_session,
    schema_check: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> asyncpg.Pool:
    dsn, arguments = pool_arguments(settings)

    async def init(conn: asyncpg.Connection) -> None:
        await refuse_unsupported_server(conn)
        if schema_check is not None:
            await schema_check(conn)

    return await asyncpg.create_pool(dsn, reset=reset, init=init, **arguments)


class PoolUsage(NamedTuple):
    in_use: int
    idle: int
    waiting: int  # acquires waiting for a connection: every one the pool may open is in use


class Database:
    """The process's connection pool, created on first use (so the service starts while PostgreSQL is down)."""

    def __init__(
        self, settings: Settings, *, on_first_answer: Callable[[Database], Coroutine[Any, Any, None]] | None = None
    ) -> None:
        self.settings = settings
        # Run in the background once, the first time the database answers: it is awake then anyway, so
        # an idle service still never wakes it (the connection budget check).
        self._on_first_answer = on_first_answer
        self._first_answer_task: asyncio.Task[None] | None = None
        self.acquire_timeout = settings.db_pool_timeout
        self._pool: FairPool | None = None
        # Checked on the first connections, not at start-up: the service starts while the database is down.
        self._schema_at_head = SchemaAtHead()
        self._creating = asyncio.Lock()
        # Connections handed out so far: background work can tell whether requests used the database.
        self.connections_handed_out = 0
        # time.monotonic() when a connection last came back open from use (the database answered), or None.
        self.last_answered: float | None = None

    async def pool(self) -> FairPool:
        if self._pool is None:
            async with self._creating:
                if self._pool is None:
                    pool = await create_pool(
                        self.settings, reset=self._released_open, schema_check=self._schema_at_head
                    )
                    self._pool = FairPool(pool, timeout=self.acquire_timeout)
        return self._pool

    async def _released_open(self, _: asyncpg.Connection) -> None:
        # asyncpg calls the pool's reset only for connections still open on release (keep_session's role).
        self.last_answered = time.monotonic()
        if self._on_first_answer is not None:
            on_first_answer, self._on_first_answer = self._on_first_answer, None
            self._first_answer_task = asyncio.create_task(on_first_answer(self), name="database-first-answer")

    def answered_within(self, seconds: float) -> bool:
        """Whether the database answered some use of the pool in the last `seconds`."""
        return self.last_answered is not None and time.monotonic() - self.last_answered < seconds

    def forget_answers(self) -> None:
        """The database just failed a request: the next readiness probe asks it again."""
        self.last_answered = None

    def pool_usage(self) -> PoolUsage:
        """The pool's connections in use and idle, and the acquires waiting; all 0 before the pool exists."""
        pool = self._pool
        if pool is None:
            return PoolUsage(0, 0, 0)
        idle = pool.pool.get_idle_size()
        return PoolUsage(pool.pool.get_size() - idle, idle, pool.slots.waiting)

    def connection(self) -> AbstractAsyncContextManager[PoolConnectionProxy]:
        """A connection in autocommit: each statement is its own transaction."""
        self.connections_handed_out += 1
        if self._pool is not None:
            # A class, not a generator-based context manager: one of those cost 5 µs per request (decision 0044).
            return self._pool.acquire()
        return self._first_connection()

    @asynccontextmanager
    async def _first_connection(self) -> AsyncIterator[PoolConnectionProxy]:
        pool = await self.pool()
        async with pool.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def uncounted_connection(self) -> AsyncIterator[PoolConnectionProxy]:
        """A connection for the service's own checks (probes, the budget check): not a use that wakes the purge."""
        pool = await self.pool()
        async with pool.acquire() as conn:
            yield conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PoolConnectionProxy]:
        """A connection inside one transaction: committed when the block ends, rolled back on any error."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def close(self) -> None:
        if self._first_answer_task is not None:
            self._first_answer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._first_answer_task
        if self._pool is not None:
            await self._pool.close()
