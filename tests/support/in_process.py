"""The task service and repository driven in-process, on the test database: no server, no HTTP.

Bodies are built the way a request builds them, from JSON-like values (`Model.model_validate`), so the
tests hold the meaning of a body, not the keyword signature of a generated model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from impl.db.database import Database
from impl.db.sql import Connection
from impl.settings import Settings
from impl.tasks.service import TasksService
from tests.support.tokens import SHARED_SECRET

Body = TypeVar("Body", bound=BaseModel)
# Room for the concurrency tests: each coroutine of a gather holds a connection of its own.
POOL_SIZE = 20


def in_process_settings(database_url: str) -> Settings:
    """Settings for a Database on the test database; the auth settings are never used, but required."""
    return Settings(database_url=database_url, jwt_secret=SHARED_SECRET, jwks_url=None, db_pool_max_size=POOL_SIZE)


def tasks_service(database: Database, *, max_tasks: int | None = None, max_keys: int | None = None) -> TasksService:
    """The task service as the app builds it; with the configured quotas unless given others."""
    settings = database.settings
    return TasksService(
        database,
        max_tasks_per_user=settings.max_tasks_per_user if max_tasks is None else max_tasks,
        max_idempotency_keys_per_user=settings.max_idempotency_keys_per_user if max_keys is None else max_keys,
    )


def body(model: type[Body], fields: dict[str, Any]) -> Body:
    """A request body as the route hands it over: the JSON object validated into the operation's model."""
    return model.model_validate(fields)


class TaskCounts(NamedTuple):
    counted: int | None  # users.task_count; None when the user has no row
    stored: int  # the user's rows in tasks


async def task_counts(conn: Connection, user_id: str) -> TaskCounts:
    """The task count the service keeps for the user, beside the tasks actually there."""
    row = await conn.fetchrow(
        "SELECT (SELECT task_count FROM users WHERE id = $1), (SELECT count(*) FROM tasks WHERE user_id = $1)",
        user_id,
    )
    assert row is not None
    return TaskCounts(row[0], row[1])


async def held_keys(conn: Connection, user_id: str) -> set[str]:
    return {row["key"] for row in await conn.fetch("SELECT key FROM idempotency_keys WHERE user_id = $1", user_id)}


async def age_keys(conn: Connection, user_id: str, *, hours: int) -> None:
    """Move the user's keys back in time, as if they had been first used `hours` earlier."""
    await conn.fetch(
        "UPDATE idempotency_keys SET created_at = created_at - make_interval(hours => $2) WHERE user_id = $1",
        user_id,
        hours,
    )


LOCK_WAITERS = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"


async def until_waiting_on_locks(conn: Connection, count: int, *, seconds: float = 10) -> None:
    """Return once `count` backends of the test database wait on a lock: the statements under test are
    provably inside PostgreSQL, queued behind the test's lock."""
    deadline = asyncio.get_running_loop().time() + seconds
    waiting = 0
    # Polling: PostgreSQL offers no event for "a backend started waiting on a lock".
    while asyncio.get_running_loop().time() < deadline:
        row = await conn.fetchrow(LOCK_WAITERS)
        waiting = row[0] if row is not None else 0
        if waiting >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{waiting} of {count} statements waited on a lock after {seconds} s")


@asynccontextmanager
async def user_row_locked(database: Database, user_id: str) -> AsyncIterator[None]:
    """Hold the user's row lock for the block: their creates and deletes queue behind it inside PostgreSQL."""
    async with database.transaction() as conn:
        await conn.fetch("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
        yield


@asynccontextmanager
async def user_row_uncommitted(database: Database, user_id: str) -> AsyncIterator[None]:
    """Insert the new user's row uncommitted for the block, then roll it back: their first writes wait on it
    in the unique index, then race to create the row themselves."""
    async with database.connection() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.fetch("INSERT INTO users (id) VALUES ($1)", user_id)
            yield
        finally:
            await transaction.rollback()
