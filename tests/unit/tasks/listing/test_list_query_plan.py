"""The list query reads tasks through an index, never a sequential scan, for every filter and sort key.

Search (`q`) is checked on a user with many tasks, where the trigram indexes are what makes it fast:
the plan must use them, and what they find must be exactly the tasks that contain the text, however
odd the text (pg_trgm picks trigrams from the escaped LIKE pattern itself).

The statements are the ones the service sends: the page and count queries of
impl.tasks.listing.repository.list_queries, with the values it binds, and list_query, the one statement that
holds both (decision 0046). Both plans PostgreSQL may pick for a
prepared statement are checked: the custom plan (for these parameter values) and the generic plan
(the one a long-lived pooled connection ends up with).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from devtools import embedded_db, migrate
from impl.tasks.listing import repository
from impl.tasks.listing.cursors import Position
from impl.tasks.listing.filters import contains_pattern
from impl.tasks.listing.query import SORT_FIELDS, FilterShape
from tests.support.database import fresh_database, plain_dsn

USERS = 200
TASKS_PER_USER = 100
PAGE = 20
USER = "plan_user_7"
# One user with many tasks: a search on a short list is served well enough by the user's own index.
SEARCH_USER = "plan_searcher"
SEARCH_USER_TASKS = 20_000
STATUSES = ("all", "pending", "completed")
SORTS = ("created", "updated", "title", "due", "priority")
ORDERS = ("asc", "desc")
INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
SEARCH_INDEXES = {"ix_tasks_title_search", "ix_tasks_description_search"}
# Titles the searcher also has, each with characters LIKE or pg_trgm could misread.
TRICKY_TITLES = ["100% sure", "snake_case", "C:\\temp", "50%_off", "odd \\% pair", "Bob's 'quote'", "Été à Zürich"]


def list_statements(
    status: str,
    sort: str,
    order: str,
    *,
    user_id: str = USER,
    offset: int = PAGE,
    text: str | None = None,
    after: Position | None = None,
) -> list[tuple[str, list[Any]]]:
    """The page and the count query the service runs for this list request, as SQL with $n parameters
    and their values."""
    values: dict[str, Any] = {"user_id": user_id, "limit": PAGE, "offset": offset}
    if text is not None:
        values["search_pattern"] = contains_pattern(text)
    if after is not None:
        values |= {"after_key": after.key, "after_id": after.id}
    queries = repository.list_queries(
        status,  # type: ignore[arg-type]
        sort,  # type: ignore[arg-type]
        order,  # type: ignore[arg-type]
        FilterShape(text=text is not None),
        repository.after_shape(sort, after),  # type: ignore[arg-type]
    )
    return [(query.sql, query.arguments(values)) for query in queries]


def literal(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
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
            INSERT INTO tasks (user_id, title, completed, created_at, updated_at, priority, due_at, tags)
            SELECT 'plan_user_' || (g % $1::int), 'Task ' || g, g % 3 = 0,
                   now() - make_interval(secs => g), now() - make_interval(secs => g % 977),
                   (ARRAY['low', 'medium', 'high']::task_priority[])[1 + g % 3],
                   CASE WHEN g % 4 = 0 THEN NULL ELSE now() + make_interval(hours => g % 500 - 250) END,
                   CASE WHEN g % 2 = 0 THEN ARRAY['home'] ELSE ARRAY['work', 'tag' || g % 40] END
            FROM generate_series(1, $1::int * $2::int) AS g
            """,
            USERS,
            TASKS_PER_USER,
        )
        await conn.execute("INSERT INTO users (id) VALUES ($1)", SEARCH_USER)
        await conn.execute(
            """
            INSERT INTO tasks (user_id, title, description, created_at)
            SELECT $1, 'Errand ' || g, 'note ' || md5(g::text), now() - make_interval(secs => g)
            FROM generate_series(1, $2::int) AS g
            """,
            SEARCH_USER,
            SEARCH_USER_TASKS,
        )
        await conn.executemany(
            "INSERT INTO tasks (user_id, title) VALUES ($1, $2)", [(SEARCH_USER, title) for title in TRICKY_TITLES]
        )
        await conn.execute("VACUUM ANALYZE users")
        await conn.execute("VACUUM ANALYZE tasks")
    finally:
        await conn.close()
    yield url
    embedded_db.drop_database(postgres, f"tasks_plan_{os.getpid()}")


async def plans(database_url: str, statements: list[tuple[str, list[Any]]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each statement's plan nodes, as a custom and as a generic plan, with a description for failures."""
    explained_plans = []
    conn = await asyncpg.connect(plain_dsn(database_url))
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
                where = f"{plan_cache_mode}, {'page' if number == 0 else 'count'} query:\n{sql}\n{explained}"
                explained_plans.append((where, plan_nodes(json.loads(explained)[0]["Plan"])))
    finally:
        await conn.close()
    return explained_plans


def index_scans(nodes: list[dict[str, Any]]) -> set[str]:
    return {node.get("Index Name", "") for node in nodes if node["Node Type"] in INDEX_SCANS}


def sequential_scans_of_tasks(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [node for node in nodes if node.get("Relation Name") == "tasks" and node["Node Type"] == "Seq Scan"]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("status", STATUSES)
async def test_the_list_query_reads_tasks_through_an_index(
    seeded_database: str, status: str, sort: str, order: str
) -> None:
    for where, nodes in await plans(seeded_database, list_statements(status, sort, order)):
        assert not sequential_scans_of_tasks(nodes), where
        assert {name for name in index_scans(nodes) if name.startswith("ix_tasks_")}, where


def one_statement(status: str, sort: str, order: str, *, offset: int = PAGE) -> list[tuple[str, list[Any]]]:
    """The statement the service sends for this list request (page and total together, decision 0046)."""
    values: dict[str, Any] = {"user_id": USER, "limit": PAGE, "offset": offset}
    query = repository.list_query(status, sort, order)  # type: ignore[arg-type]
    return [(query.sql, query.arguments(values))]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("status", STATUSES)
async def test_the_page_with_its_total_in_one_statement_reads_tasks_through_an_index(
    seeded_database: str, status: str, sort: str, order: str
) -> None:
    for where, nodes in await plans(seeded_database, one_statement(status, sort, order)):
        assert not sequential_scans_of_tasks(nodes), where
        assert {name for name in index_scans(nodes) if name.startswith("ix_tasks_")}, where


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("sort", SORTS)
async def test_the_list_query_without_new_filters_only_reads_tasks(seeded_database: str, sort: str, order: str) -> None:
    """Tags come with each row: no join, no aggregate beyond the count, whatever the sort."""
    for where, nodes in await plans(seeded_database, list_statements("all", sort, order)):
        assert {node.get("Relation Name") for node in nodes} <= {None, "tasks"}, where
        assert not SEARCH_INDEXES & index_scans(nodes), where


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("sort", SORTS)
async def test_search_reads_tasks_through_the_trigram_indexes(seeded_database: str, sort: str, order: str) -> None:
    statements = list_statements("all", sort, order, user_id=SEARCH_USER, text="b6d767d2")  # in md5('2')
    for where, nodes in await plans(seeded_database, statements):
        assert not sequential_scans_of_tasks(nodes), where
        assert index_scans(nodes) >= SEARCH_INDEXES, where


@pytest.mark.parametrize("text", ["%", "_", "\\", "%_", "\\%", "'", "% s", "ÉTÉ", "zÜRICH", "snake_", "0%_o", "xyz"])
async def test_the_trigram_indexes_find_exactly_the_tasks_containing_the_text(seeded_database: str, text: str) -> None:
    """Counted through the trigram indexes alone, against Python's answer.

    The other ways to the rows are taken away for the duration (in a transaction that is rolled back):
    short texts give pg_trgm no trigram, and the planner would otherwise rightly prefer them.
    """
    expected = sum(text.lower() in title.lower() for title in TRICKY_TITLES)
    [_, (count_sql, values)] = list_statements("all", "created", "desc", user_id=SEARCH_USER, text=text)
    conn = await asyncpg.connect(plain_dsn(seeded_database))
    try:
        async with conn.transaction():
            for sort_index in ("created", "updated", "title", "priority", "due", "due_desc"):
                await conn.execute(f"DROP INDEX ix_tasks_user_completed_{sort_index}")
            await conn.execute("SET LOCAL enable_seqscan = off")
            explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {count_sql}", *values)
            assert index_scans(plan_nodes(json.loads(explained)[0]["Plan"])) >= SEARCH_INDEXES, explained
            assert await conn.fetchval(count_sql, *values) == expected
            raise Rollback
    except Rollback:
        pass
    finally:
        await conn.close()


class Rollback(Exception):
    """Leaves a transaction that changed the schema for one check."""


async def rows_read_from_tasks(database_url: str, sql: str, values: list[Any]) -> int:
    """How many rows the statement's scans of tasks returned, executed (EXPLAIN ANALYZE, custom plan)."""
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        arguments = ", ".join(literal(value) for value in values)
        await conn.execute(f"PREPARE page AS {sql}")
        explained = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE page({arguments})")
    finally:
        await conn.close()
    nodes = plan_nodes(json.loads(explained)[0]["Plan"])
    return sum(node["Actual Rows"] * node["Actual Loops"] for node in nodes if node.get("Relation Name") == "tasks")


async def position_at(database_url: str, sort: str, order: str, rank: int) -> Position:
    """The sort key and id of the user's task at this rank of the list (what a cursor would hold)."""
    column = SORT_FIELDS[sort]  # type: ignore[index]
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        row = await conn.fetchrow(  # column and order come from the repository's and this module's constants
            f"SELECT {column} AS key, id FROM tasks WHERE user_id = $1 ORDER BY {column} {order}, id {order} "  # noqa: S608
            "OFFSET $2 LIMIT 1",
            SEARCH_USER,
            rank,
        )
    finally:
        await conn.close()
    assert row is not None
    return Position(row["key"], row["id"])


# `due` keeps tasks without a due date last in both directions; after a cursor that is an OR the
# index cannot read as one range, so a deep `due` page still scans from the start of the list.
KEYSET_SORTS = [sort for sort in SORTS if sort not in repository.NULLS_LAST_SORT_KEYS]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("sort", KEYSET_SORTS)
@pytest.mark.parametrize("status", STATUSES)
async def test_a_page_reads_about_its_own_size_however_many_tasks_the_user_has(
    seeded_database: str, status: str, sort: str, order: str
) -> None:
    """The first page and a page 10,000 tasks deep (by cursor) read at most two pages' worth of rows:
    with `status=all` each half (pending, completed) is read in order through its index and merged."""
    deep = await position_at(seeded_database, sort, order, 10_000)
    for after in (None, deep):
        page_sql, page_values = list_statements(status, sort, order, user_id=SEARCH_USER, offset=0, after=after)[0]
        read = await rows_read_from_tasks(seeded_database, page_sql, page_values)
        assert read <= 2 * (PAGE + 1), (after, read, page_sql)


async def test_the_one_statement_counts_on_a_full_page_and_not_on_the_last_page(seeded_database: str) -> None:
    """Decision 0019's rule inside the statement: the count runs only when needs_count says so."""
    [(count_sql, count_values)] = list_statements("pending", "created", "desc")[1:]
    pending = (await fetch(seeded_database, count_sql, count_values))[0][0]
    for offset, counted in ((0, True), (pending - PAGE, False)):
        [(sql, values)] = one_statement("pending", "created", "desc", offset=offset)
        [(page_sql, page_values)] = list_statements("pending", "created", "desc", offset=offset)[:1]
        read = await rows_read_from_tasks(seeded_database, sql, values)
        page_read = await rows_read_from_tasks(seeded_database, page_sql, page_values)
        assert (read > page_read) == counted, (offset, read, page_read)


async def fetch(database_url: str, sql: str, values: list[Any]) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        return list(await conn.fetch(sql, *values))
    finally:
        await conn.close()
