"""The list query reads tasks through an index, never a sequential scan, for every filter and sort key.

The statements are the ones impl.tasks.repository.list_page sends: it is called with a connection
that records the SQL and arguments it would send to asyncpg (answering a full page, so the count query
is sent too). Both plans PostgreSQL may pick for a
prepared statement are checked: the custom plan (for these parameter values) and the generic plan
(the one a long-lived pooled connection ends up with).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Coroutine
from typing import Any, cast

import asyncpg
import pytest

from devtools import embedded_db, migrate
from impl.sql import Connection
from impl.tasks import repository
from tests.conftest import fresh_database
from tests.support.database import plain_dsn

USERS = 200
TASKS_PER_USER = 100
PAGE = 20
USER = "plan_user_7"
STATUSES = ("all", "pending", "completed")
SORTS = ("created", "updated", "title")
ORDERS = ("asc", "desc")
INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


class RecordingConnection:
    """Stands in for an asyncpg connection: keeps each statement and its arguments; every page comes back full."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Any]]] = []

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        self.statements.append((query, list(args)))
        return [{} for _ in range(PAGE)]

    async def fetchrow(self, query: str, *args: Any) -> tuple[int]:
        self.statements.append((query, list(args)))
        return (USERS * TASKS_PER_USER,)


def list_statements(status: str, sort: str, order: str) -> list[tuple[str, list[Any]]]:
    """list_page's statements (page, then count) as SQL with $n parameters, and their values."""
    recorder = RecordingConnection()
    call: Coroutine[Any, Any, object] = repository.list_page(
        cast(Connection, recorder),
        user_id=USER,
        status=status,  # type: ignore[arg-type]
        sort=sort,  # type: ignore[arg-type]
        order=order,  # type: ignore[arg-type]
        limit=PAGE,
        offset=PAGE,
    )
    with pytest.raises(StopIteration):
        call.send(None)  # nothing in it suspends: the recorder answers at once
    return recorder.statements


def literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"unexpected parameter {value!r}")
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += plan_nodes(child)
    return nodes


@pytest.fixture(scope="module")
async def seeded_database(postgres: embedded_db.PostgresServer) -> AsyncIterator[str]:
    url = fresh_database(postgres, "tasks_plan")
    await asyncio.to_thread(migrate.upgrade, url)  # Alembic's env runs its own event loop
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(
            "INSERT INTO users (id) SELECT 'plan_user_' || u FROM generate_series(0, $1::int - 1) AS u", USERS
        )
        await conn.execute(
            """
            INSERT INTO tasks (user_id, title, completed, created_at, updated_at)
            SELECT 'plan_user_' || (g % $1::int), 'Task ' || g, g % 3 = 0,
                   now() - make_interval(secs => g), now() - make_interval(secs => g % 977)
            FROM generate_series(1, $1::int * $2::int) AS g
            """,
            USERS,
            TASKS_PER_USER,
        )
        await conn.execute("VACUUM ANALYZE users")
        await conn.execute("VACUUM ANALYZE tasks")
    finally:
        await conn.close()
    yield url
    embedded_db.drop_database(postgres, f"tasks_plan_{os.getpid()}")


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("status", STATUSES)
async def test_the_list_query_reads_tasks_through_an_index(
    seeded_database: str, status: str, sort: str, order: str
) -> None:
    statements = list_statements(status, sort, order)
    assert len(statements) == 2, "a full page is followed by the count query"
    conn = await asyncpg.connect(plain_dsn(seeded_database))
    try:
        for plan_cache_mode in ("force_custom_plan", "force_generic_plan"):
            await conn.execute(f"SET plan_cache_mode = {plan_cache_mode}")
            for number, (sql, values) in enumerate(statements):
                name = f"list_{number}"
                await conn.execute(f"PREPARE {name} AS {sql}")
                try:
                    arguments = ", ".join(literal(value) for value in values)
                    explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE {name}({arguments})")
                finally:
                    await conn.execute(f"DEALLOCATE {name}")
                nodes = plan_nodes(json.loads(explained)[0]["Plan"])
                on_tasks = [node for node in nodes if node.get("Relation Name") == "tasks"]
                index_scans = [
                    node
                    for node in nodes
                    if node["Node Type"] in INDEX_SCANS and node.get("Index Name", "").startswith("ix_tasks_")
                ]
                where = f"{plan_cache_mode}, {'page' if number == 0 else 'count'} query:\n{sql}\n{explained}"
                assert not [node for node in on_tasks if node["Node Type"] == "Seq Scan"], where
                assert index_scans, where
    finally:
        await conn.close()
