"""Every query on one task. Each one is filtered by owner, so another user's task id simply does not exist.

Statements are SQLAlchemy Core on the SQLModel tables with named bind parameters, compiled once per
shape (impl.db.sql); the functions here pass the values and shape the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from asyncpg import Record
from sqlalchemy import (
    ARRAY,
    CTE,
    ColumnElement,
    Integer,
    Select,
    all_,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from impl.db.sql import Connection, Query
from impl.db.tables import tasks_table, users_table

TASK_COLUMNS = (
    tasks_table.c.id,
    tasks_table.c.title,
    tasks_table.c.description,
    tasks_table.c.completed,
    tasks_table.c.priority,
    tasks_table.c.due_at,
    tasks_table.c.tags,
    tasks_table.c.created_at,
    tasks_table.c.updated_at,
)
VERSIONED_TASK_COLUMNS = (*TASK_COLUMNS, tasks_table.c.version)
# Columns a replace or an update may set, in a fixed order so each set of changes compiles once.
WRITABLE_COLUMNS = ("title", "description", "completed", "priority", "due_at", "tags")


def owned(*, versioned: bool, excluding: bool = False) -> ColumnElement[bool]:
    """This user's task with this id; at one of the given versions, when versioned; at none of the excluded ones,
    when excluding (If-Match and If-None-Match, checked in the write's own WHERE: decision 0005)."""
    condition = and_(tasks_table.c.user_id == bindparam("user_id"), tasks_table.c.id == bindparam("task_id"))
    if versioned:
        condition = and_(condition, tasks_table.c.version == any_(bindparam("versions", type_=ARRAY(Integer))))
    if excluding:
        condition = and_(condition, tasks_table.c.version != all_(bindparam("excluded", type_=ARRAY(Integer))))
    return condition


_users = users_table.c
_max_tasks = bindparam("max_tasks", type_=Integer)
# The user's task count goes up by one unless it is at the quota; the task is inserted only if it did.
# A user's first create inserts the user's row with this task counted (decision 0032). The row lock
# orders a user's concurrent creates and deletes: READ COMMITTED re-checks `task_count < max_tasks` on
# the row version the wait ends on, and a create racing a first create for a new user waits in the
# unique index until that one commits, then takes the DO UPDATE on its row (or inserts, if it rolled
# back). So no number of processes ever passes the quota (decision 0027). `max_tasks > 0` keeps a zero
# quota exact for a user without a row too.
_counted = (
    insert(users_table)
    .from_select(
        ["id", "task_count"],
        select(bindparam("user_id", type_=_users.id.type), bindparam("first_count", 1, type_=Integer)).where(
            _max_tasks > 0
        ),
    )
    .on_conflict_do_update(
        index_elements=["id"], set_={"task_count": _users.task_count + 1}, where=_users.task_count < _max_tasks
    )
    .returning(_users.id)
    .cte("counted")
)
NEW_TASK_FIELDS = ("title", "description", "priority", "due_at", "tags")
INSERT_TASK = Query.of(
    insert(tasks_table)
    .from_select(
        ["user_id", *NEW_TASK_FIELDS],
        select(_counted.c.id, *(bindparam(name, type_=tasks_table.c[name].type) for name in NEW_TASK_FIELDS)),
    )
    .returning(*VERSIONED_TASK_COLUMNS)
)
GET_TASK = Query.of(select(*VERSIONED_TASK_COLUMNS).where(owned(versioned=False)))
TASK_VERSION = Query.of(select(tasks_table.c.version).where(owned(versioned=False)))


class Unwritten(NamedTuple):
    """A write that changed nothing: the task's version as the statement found it, None when it has no such task."""

    version: int | None


def _found_version_beside(written: CTE, *, conditional: bool) -> Select[Any]:
    """The written row; for a conditional write, always one row: the written one, or nulls and `found_version`,
    the task's version as the statement began (None when absent), so a 412 or 404 needs no second round trip."""
    if not conditional:
        return select(*written.c)
    found = select(tasks_table.c.version).where(owned(versioned=False)).scalar_subquery()
    one_row = select(literal_column("1").label("one")).subquery("one_row")
    return select(*written.c, case((written.c.id.is_(None), found)).label("found_version")).select_from(
        one_row.outerjoin(written, true())
    )


def _written_or_found(row: Record | None) -> Record | Unwritten:
    if row is None:  # an unconditional write that matched nothing: the task is not there
        return Unwritten(None)
    if row["id"] is None:
        return Unwritten(row["found_version"])
    return row


@cache
def _delete_query(*, versioned: bool, excluding: bool = False) -> Query:
    """Delete the task and, in the same statement, count it off its user's task count."""
    deleted = (
        tasks_table.delete()
        .where(owned(versioned=versioned, excluding=excluding))
        .returning(tasks_table.c.id)
        .cte("deleted")
    )
    uncounted = (
        update(users_table)
        .where(_users.id == bindparam("user_id"), exists(select(deleted.c.id)))
        .values(task_count=_users.task_count - 1)
        .cte("uncounted")
    )
    return Query.of(_found_version_beside(deleted, conditional=versioned or excluding).add_cte(uncounted))


# The delete statements without If-None-Match, as bench/statements.py runs them.
DELETE_TASK = {versioned: _delete_query(versioned=versioned) for versioned in (False, True)}


@cache
def _update_query(columns: tuple[str, ...], *, toggle: bool, versioned: bool, excluding: bool = False) -> Query:
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    if toggle:
        values["completed"] = ~tasks_table.c.completed
    statement = (
        update(tasks_table)
        .where(owned(versioned=versioned, excluding=excluding))
        .values(**values, updated_at=func.now(), version=tasks_table.c.version + 1)
        .returning(*VERSIONED_TASK_COLUMNS)
    )
    if not (versioned or excluding):
        return Query.of(statement)
    return Query.of(_found_version_beside(statement.cte("updated"), conditional=True))


def update_query(columns: tuple[str, ...] = (), *, toggle: bool = False, versioned: bool = False) -> Query:
    """The statement update_task runs for these changed columns (in WRITABLE_COLUMNS order), or toggle_completion."""
    return _update_query(columns, toggle=toggle, versioned=versioned)


async def insert_task(
    conn: Connection,
    *,
    user_id: str,
    max_tasks: int,
    title: str,
    description: str | None,
    priority: str = "medium",
    due_at: datetime | None = None,
    tags: Sequence[str] = (),
) -> Record | None:
    """Insert the task and count it; None, inserting nothing, when the user already has max_tasks tasks."""
    return await INSERT_TASK.one_or_none(
        conn,
        user_id=user_id,
        max_tasks=max_tasks,
        title=title,
        description=description,
        priority=priority,
        due_at=due_at,
        tags=list(tags),
    )


async def get_task(conn: Connection, *, user_id: str, task_id: int) -> Record | None:
    return await GET_TASK.one_or_none(conn, user_id=user_id, task_id=task_id)


async def task_version(conn: Connection, *, user_id: str, task_id: int) -> int | None:
    """The task's current version; None when the user has no such task."""
    row = await TASK_VERSION.one_or_none(conn, user_id=user_id, task_id=task_id)
    return None if row is None else int(row["version"])


async def task_exists(conn: Connection, *, user_id: str, task_id: int) -> bool:
    return await task_version(conn, user_id=user_id, task_id=task_id) is not None


async def update_task(
    conn: Connection,
    *,
    user_id: str,
    task_id: int,
    changes: dict[str, Any],
    versions: Sequence[int] | None,
    excluded: Sequence[int] | None = None,
) -> Record | Unwritten:
    """Apply changes and bump the version; Unwritten when no task matched (absent, not at `versions`, or at
    `excluded`)."""
    unknown = changes.keys() - set(WRITABLE_COLUMNS)
    if unknown:
        raise ValueError(f"not writable: {sorted(unknown)}")
    columns = tuple(name for name in WRITABLE_COLUMNS if name in changes)
    query = _update_query(columns, toggle=False, versioned=versions is not None, excluding=excluded is not None)
    return _written_or_found(
        await query.one_or_none(conn, user_id=user_id, task_id=task_id, versions=versions, excluded=excluded, **changes)
    )


async def toggle_completion(
    conn: Connection,
    *,
    user_id: str,
    task_id: int,
    versions: Sequence[int] | None,
    excluded: Sequence[int] | None = None,
) -> Record | Unwritten:
    query = _update_query((), toggle=True, versioned=versions is not None, excluding=excluded is not None)
    return _written_or_found(
        await query.one_or_none(conn, user_id=user_id, task_id=task_id, versions=versions, excluded=excluded)
    )


async def delete_task(
    conn: Connection,
    *,
    user_id: str,
    task_id: int,
    versions: Sequence[int] | None,
    excluded: Sequence[int] | None = None,
) -> Record | Unwritten:
    """Delete the task (the row holds its id); Unwritten when no task matched."""
    query = _delete_query(versioned=versions is not None, excluding=excluded is not None)
    return _written_or_found(
        await query.one_or_none(conn, user_id=user_id, task_id=task_id, versions=versions, excluded=excluded)
    )
