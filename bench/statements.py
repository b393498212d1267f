"""The service's own SQL, taken from impl.tasks.repository, for the two limits to run.

Each repository function is called with a recording connection that captures the SQL and arguments
it would send to asyncpg, exactly as the service sends them (`$1::VARCHAR` and all). Arguments are
passed as sentinel values, so each bound parameter is named by what it carries (user id, task id, ...)
or, when it matches no sentinel, kept as the constant the repository put there (the `version + 1`).
Nothing here edits or re-implements a query: when repository.py changes, the limits change with it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from impl.settings import Settings
from impl.sql import Connection
from impl.tasks import repository
from impl.tasks.list_filters import contains_pattern
from impl.tasks.listing import ListFilters, TaskListing

# Sentinels: values no real request carries, each different, so a bound value names its role.
USER = "__bench_user__"
TASK_ID = 987_654_321_987
TITLE = "__bench_title__"
DESCRIPTION = "__bench_description__"
LIMIT = 7_919
OFFSET = 104_729
# Filters: the text reaches SQL as a LIKE pattern, the tags as a sorted list (as list_page binds them).
# No `_` or `%` in the text sentinel, so its pattern is the sentinel between two `%`.
TEXT = "benchtextsentinel"
TAG = "__bench_tag__"
DUE_BEFORE = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)
DUE_AFTER = datetime(1902, 3, 4, 5, 6, 7, tzinfo=UTC)
# The service's default task quota: a constant of the insert, as for the service.
MAX_TASKS: int = Settings.model_fields["max_tasks_per_user"].default
SENTINELS: dict[object, str] = {
    USER: "user_id",
    TASK_ID: "task_id",
    TITLE: "title",
    DESCRIPTION: "description",
    LIMIT: "limit",
    OFFSET: "offset",
    contains_pattern(TEXT): "search_pattern",
    (TAG,): "tags",
    DUE_BEFORE: "due_before",
    DUE_AFTER: "due_after",
}

STATUSES = ("all", "pending", "completed")
SORTS = ("created", "updated", "title", "due", "priority")
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class Statement:
    """One SQL statement as asyncpg receives it; params[i] is a role name or a constant."""

    sql: str
    params: tuple[tuple[str | None, object], ...]  # per $n: (role, None) or (None, constant)

    def arguments(self, values: dict[str, object]) -> list[object]:
        return [values[role] if role else constant for role, constant in self.params]


class RecordingConnection:
    """Stands in for an asyncpg connection: records each statement and its arguments.

    A page query answers `page_rows` rows; any single-row query answers a row.
    """

    def __init__(self, page_rows: int = 0) -> None:
        self.page_rows = page_rows
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        self.statements.append((query, args))
        return [{"id": index} for index in range(self.page_rows)]

    async def fetchrow(self, query: str, *args: Any) -> dict[str, Any]:
        self.statements.append((query, args))
        return {0: 0, "id": 1, "version": 1}


def role_of(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, list):
        return SENTINELS.get(tuple(value))
    return SENTINELS.get(value) if isinstance(value, str | int | datetime) else None


def recorded_statement(sql: str, args: tuple[Any, ...]) -> Statement:
    params: list[tuple[str | None, object]] = []
    for value in args:
        role = role_of(value)
        params.append((role, None) if role else (None, value))
    return Statement(sql=sql, params=tuple(params))


def record(call: Callable[[Connection], Coroutine[Any, Any, object]], *, page_rows: int = 0) -> list[Statement]:
    """Run a repository call to completion without an event loop: the recorder never suspends."""
    connection = RecordingConnection(page_rows)
    coroutine = call(cast(Connection, connection))
    try:
        coroutine.send(None)
    except StopIteration:
        return [recorded_statement(sql, args) for sql, args in connection.statements]
    coroutine.close()
    raise RuntimeError("a repository call awaited something other than its connection")


@dataclass(frozen=True)
class ServiceSql:
    """Every statement a request of each operation runs (a user's first create also writes the user row)."""

    list_page: dict[tuple[str, str, str], tuple[Statement, Statement]]  # (status, sort, order) -> page, count
    get: Statement
    insert: Statement
    update_title: Statement
    toggle: Statement
    delete: Statement


@dataclass(frozen=True)
class ListShape:
    """Which of list_page's optional filters a list request gives (their values are bound parameters)."""

    text: bool = False
    tags: bool = False
    due_before: bool = False
    due_after: bool = False
    overdue: bool | None = None


PLAIN = ListShape()


def list_page_call(
    status: str, sort: str, order: str, shape: ListShape, *, offset: int = OFFSET
) -> Callable[[Connection], Coroutine[Any, Any, object]]:
    """list_page called as the service calls it, with a sentinel for every value a request gives."""

    async def call(conn: Connection) -> object:
        filters = ListFilters(
            text=TEXT if shape.text else None,
            tags=(TAG,) if shape.tags else (),
            due_before=DUE_BEFORE if shape.due_before else None,
            due_after=DUE_AFTER if shape.due_after else None,
            overdue=shape.overdue,
        )
        listing = TaskListing(USER, status, sort, order, LIMIT, offset, filters)  # type: ignore[arg-type]
        return await repository.list_page(conn, listing)

    return call


@cache
def list_statements(status: str, sort: str, order: str, shape: ListShape = PLAIN) -> tuple[Statement, Statement]:
    """The page query and the count query, as list_page runs them when more tasks follow the page."""
    # One row more than the page, so that list_page counts whether it looks for a full page or for a
    # row beyond it.
    statements = record(list_page_call(status, sort, order, shape), page_rows=LIMIT + 1)
    if len(statements) != 2:
        raise RuntimeError(f"list_page ran {len(statements)} statements for a full page; the bench expects 2")
    return statements[0], statements[1]


@cache
def list_counts(rows: int, offset: int) -> bool:
    """Whether list_page runs the count after its page query returned `rows` rows (of a LIMIT-row page)
    at this offset: asked of list_page itself, so the raw app counts exactly when the service does."""
    statements = record(list_page_call("all", "created", "desc", PLAIN, offset=offset), page_rows=rows)
    return len(statements) == 2


def counts_after(rows: int, limit: int, offset: int) -> bool:
    """list_counts for a real request: its row count relative to its limit, mapped onto the sentinels."""
    mapped = 0 if rows == 0 else LIMIT + min(max(rows - limit, -1), 1)
    return list_counts(mapped, OFFSET if offset else 0)


def only(statements: list[Statement], what: str) -> Statement:
    if len(statements) != 1:
        raise RuntimeError(f"{what} ran {len(statements)} statements; the bench expects 1")
    return statements[0]


def service_sql() -> ServiceSql:
    lists = {(s, k, o): list_statements(s, k, o) for s in STATUSES for k in SORTS for o in ORDERS}
    return ServiceSql(
        list_page=lists,
        get=only(record(lambda c: repository.get_task(c, user_id=USER, task_id=TASK_ID)), "get_task"),
        insert=only(
            record(
                lambda c: repository.insert_task(
                    c, user_id=USER, max_tasks=MAX_TASKS, title=TITLE, description=DESCRIPTION
                )
            ),
            "insert_task",
        ),
        update_title=only(
            record(
                lambda c: repository.update_task(
                    c, user_id=USER, task_id=TASK_ID, changes={"title": TITLE}, versions=None
                )
            ),
            "update_task",
        ),
        toggle=only(
            record(lambda c: repository.toggle_completion(c, user_id=USER, task_id=TASK_ID, versions=None)),
            "toggle_completion",
        ),
        delete=only(
            record(lambda c: repository.delete_task(c, user_id=USER, task_id=TASK_ID, versions=None)), "delete_task"
        ),
    )
