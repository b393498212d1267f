"""Reaching the test database directly, beside the service: asyncpg DSNs and lock observation."""

from __future__ import annotations

import asyncio

import asyncpg

from impl.database import asyncpg_url


def plain_dsn(database_url: str) -> str:
    """The service's SQLAlchemy URL as a DSN asyncpg.connect() takes."""
    url, _ = asyncpg_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def wait_for_lock_waiter(conn: asyncpg.Connection) -> None:
    """Return once some backend waits on a lock: the request under test is provably inside the database."""
    async with asyncio.timeout(10):
        # Polling: PostgreSQL offers no event for "a backend started waiting on a lock".
        while not await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
