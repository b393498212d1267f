"""Migrating a database that holds tasks: every task keeps its data, gains the defaults, and survives a round trip.

The database is filled at revision 0002 (the schema before priority, due dates, tags and search) with
tasks of every shape that revision allowed, then upgraded to head, downgraded back and upgraded again.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from devtools import embedded_db, migrate
from tests.support.database import fresh_database, plain_dsn

BEFORE = "0002"
COLUMNS_AT_0002 = ("id", "user_id", "title", "description", "completed", "version", "created_at", "updated_at")
TASKS_PER_USER = 500


async def upgrade(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(migrate.upgrade, url, revision)  # Alembic's env runs its own event loop


async def downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(migrate.downgrade, url, revision)


@pytest.fixture
async def database_at_0002(postgres: embedded_db.PostgresServer) -> AsyncIterator[str]:
    url = fresh_database(postgres, "tasks_migration_data")
    await upgrade(url, BEFORE)
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute("INSERT INTO users (id) VALUES ('alice'), ('bob')")
        # Every shape 0002 allowed: with and without a description, completed or not, edited (version > 1),
        # non-ASCII and the longest title, and timestamps that must not move.
        await conn.execute(
            """
            INSERT INTO tasks (user_id, title, description, completed, version, created_at, updated_at)
            SELECT CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END,
                   CASE WHEN g % 7 = 0 THEN repeat('t', 200) ELSE 'Tâche n°' || g || ' ÉTÉ' END,
                   CASE WHEN g % 3 = 0 THEN NULL ELSE 'details of ' || g END,
                   g % 4 = 0,
                   1 + g % 5,
                   timestamptz '2026-01-01 00:00:00Z' + make_interval(mins => g),
                   timestamptz '2026-02-01 00:00:00Z' + make_interval(secs => g)
            FROM generate_series(1, $1::int * 2) AS g
            """,
            TASKS_PER_USER,
        )
    finally:
        await conn.close()
    yield url
    embedded_db.drop_database(postgres, f"tasks_migration_data_{os.getpid()}")


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def tasks_as_at_0002(url: str) -> list[tuple[Any, ...]]:
    rows = await fetch(url, f"SELECT {', '.join(COLUMNS_AT_0002)} FROM tasks ORDER BY id")  # noqa: S608
    return [tuple(row) for row in rows]


async def test_upgrading_keeps_every_task_and_gives_it_the_defaults(database_at_0002: str) -> None:
    before = await tasks_as_at_0002(database_at_0002)
    await upgrade(database_at_0002)
    assert await tasks_as_at_0002(database_at_0002) == before
    new_fields = await fetch(database_at_0002, "SELECT DISTINCT priority::text, due_at, tags FROM tasks")
    assert [tuple(row) for row in new_fields] == [("medium", None, [])]


async def test_upgraded_tasks_are_found_by_every_new_filter_and_sort(database_at_0002: str) -> None:
    """The new indexes hold the old rows: search, the tag filter and the new sorts see them."""
    await upgrade(database_at_0002)
    searched = await fetch(
        database_at_0002,
        "SELECT count(*) FROM tasks WHERE user_id = 'alice'"
        " AND lower(title COLLATE pg_c_utf8) LIKE lower('%été%' COLLATE pg_c_utf8)",
    )
    alices_long_titles = TASKS_PER_USER // 7
    assert searched[0][0] == TASKS_PER_USER - alices_long_titles
    untagged = await fetch(database_at_0002, "SELECT count(*) FROM tasks WHERE tags = '{}'")
    assert untagged[0][0] == 2 * TASKS_PER_USER
    by_due = await fetch(database_at_0002, "SELECT id FROM tasks ORDER BY due_at DESC NULLS LAST, id DESC LIMIT 1")
    assert by_due[0][0] == 2 * TASKS_PER_USER


async def test_downgrading_keeps_every_task_and_upgrading_again_restores_the_schema(database_at_0002: str) -> None:
    before = await tasks_as_at_0002(database_at_0002)
    await upgrade(database_at_0002)
    await downgrade(database_at_0002, BEFORE)
    assert await tasks_as_at_0002(database_at_0002) == before
    columns = await fetch(
        database_at_0002, "SELECT column_name FROM information_schema.columns WHERE table_name = 'tasks'"
    )
    assert {row[0] for row in columns} == set(COLUMNS_AT_0002)
    enum_types = await fetch(database_at_0002, "SELECT 1 FROM pg_type WHERE typname = 'task_priority'")
    assert enum_types == []

    await upgrade(database_at_0002)
    assert await tasks_as_at_0002(database_at_0002) == before
    new_fields = await fetch(database_at_0002, "SELECT DISTINCT priority::text, due_at, tags FROM tasks")
    assert [tuple(row) for row in new_fields] == [("medium", None, [])]


async def test_writes_after_the_upgrade_use_the_new_columns(database_at_0002: str) -> None:
    await upgrade(database_at_0002)
    conn = await asyncpg.connect(plain_dsn(database_at_0002))
    try:
        await conn.execute("UPDATE tasks SET priority = 'high', tags = '{home}' WHERE id = 1")
        row = await conn.fetchrow("SELECT title, priority::text, tags, version FROM tasks WHERE id = 1")
    finally:
        await conn.close()
    assert tuple(row or ()) == ("Tâche n°1 ÉTÉ", "high", ["home"], 2)


async def test_due_dates_stored_as_infinities_move_inside_the_range_and_are_refused_after(
    database_at_0002: str,
) -> None:
    """asyncpg once stored Python's first and last instants as -infinity/infinity, which it cannot read back."""
    await upgrade(database_at_0002, "0004")
    conn = await asyncpg.connect(plain_dsn(database_at_0002))
    try:
        await conn.execute("UPDATE tasks SET due_at = '-infinity' WHERE id = 1")
        await conn.execute("UPDATE tasks SET due_at = 'infinity' WHERE id = 2")
        await upgrade(database_at_0002)
        rows = await conn.fetch("SELECT id, due_at, version FROM tasks WHERE id IN (1, 2) ORDER BY id")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE tasks SET due_at = 'infinity' WHERE id = 3")
    finally:
        await conn.close()
    assert [row["due_at"].isoformat() for row in rows] == [
        "0001-01-01T00:00:00.000001+00:00",
        "9999-12-31T23:59:59.999998+00:00",
    ]
    assert [row["version"] for row in rows] == [3, 4]  # versions 2 and 3 at 0002, one more for the change


async def test_upgrading_counts_each_users_tasks_for_the_task_quota(database_at_0002: str) -> None:
    """0005 back-fills users.task_count, which the task quota is checked against, from the tasks there."""
    conn = await asyncpg.connect(plain_dsn(database_at_0002))
    try:
        await conn.execute("INSERT INTO users (id) VALUES ('carol')")  # a user without tasks
    finally:
        await conn.close()
    expected = [("alice", TASKS_PER_USER), ("bob", TASKS_PER_USER), ("carol", 0)]
    await upgrade(database_at_0002)
    counted = await fetch(database_at_0002, "SELECT id, task_count FROM users ORDER BY id")
    assert [tuple(row) for row in counted] == expected
    await downgrade(database_at_0002, BEFORE)
    await upgrade(database_at_0002)
    counted = await fetch(database_at_0002, "SELECT id, task_count FROM users ORDER BY id")
    assert [tuple(row) for row in counted] == expected
