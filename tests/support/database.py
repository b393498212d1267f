"""Reaching the test database directly, beside the service: fresh databases, asyncpg DSNs, lock observation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from asyncpg.transaction import Transaction

from devtools import embedded_db
from impl.db.url import asyncpg_url


def fresh_database(postgres: embedded_db.PostgresServer, name: str) -> str:
    """A new empty database; named per test process, so concurrent test runs never share one."""
    embedded_db.create_database(postgres, f"{name}_{os.getpid()}", recreate=True)
    return embedded_db.database_url(postgres, f"{name}_{os.getpid()}")


def plain_dsn(database_url: str) -> str:
    """The service's SQLAlchemy URL as a DSN asyncpg.connect() takes."""
    url, _ = asyncpg_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def query(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Run one statement on a connection of its own, from synchronous test code; its rows."""

    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(plain_dsn(database_url))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


# Generous: on a loaded 2-core host a request can take seconds to reach the database.
LOCK_WAIT_SECONDS = 30


class InFlight(Protocol):
    """The request under test, sent but not yet answered: an asyncio task or a thread pool's future."""

    def done(self) -> bool: ...

    def result(self) -> Any: ...


async def wait_for_lock_waiter(conn: asyncpg.Connection, in_flight: InFlight) -> None:
    """Return once some backend waits on a lock: the request under test is provably inside the database.

    Fails at once, with the request's outcome, if the request ends before anything waits.
    """
    async with asyncio.timeout(LOCK_WAIT_SECONDS):
        # Polling: PostgreSQL offers no event for "a backend started waiting on a lock".
        while not await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"):
            if in_flight.done():
                raise AssertionError(f"the request ended before it waited on the lock: {in_flight.result()!r}")
            await asyncio.sleep(0.05)


@dataclass
class RowLock:
    """A task's row lock held by another connection: the next write to it waits inside PostgreSQL."""

    connection: asyncpg.Connection
    transaction: Transaction

    async def until_the_request_waits(self, in_flight: InFlight) -> None:
        await wait_for_lock_waiter(self.connection, in_flight)

    async def release(self) -> None:
        await self.transaction.commit()


@asynccontextmanager
async def row_locked(database_url: str, select_for_update: str, *args: Any) -> AsyncIterator[RowLock]:
    """Hold the row lock this SELECT ... FOR UPDATE takes until release() or the end of the block."""
    connection = await asyncpg.connect(plain_dsn(database_url))
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(select_for_update, *args)
        yield RowLock(connection, transaction)
    finally:
        connection.terminate()


def task_row_locked(database_url: str, task_id: int) -> AbstractAsyncContextManager[RowLock]:
    """Hold the task's row lock until release() or the end of the block (which may follow a crash)."""
    return row_locked(database_url, "SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", task_id)


def user_row_locked(database_url: str, user_id: str) -> AbstractAsyncContextManager[RowLock]:
    """Hold the user's row lock: the user's next keyed create waits inside PostgreSQL (it locks the row first)."""
    return row_locked(database_url, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
