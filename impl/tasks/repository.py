"""Every task query. Each one is filtered by owner, so another user's task id simply does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, RowMapping, UnaryExpression, and_, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from impl.tables import idempotency_keys_table, tasks_table, users_table
from impl.tasks.list_filters import StatusFilter, list_conditions

SortKey = Literal["created", "updated", "title", "due", "priority"]
Direction = Literal["asc", "desc"]

SORT_COLUMNS = {
    "created": tasks_table.c.created_at,
    "updated": tasks_table.c.updated_at,
    "title": tasks_table.c.title,
    "due": tasks_table.c.due_at,
    "priority": tasks_table.c.priority,
}
# The only nullable sort key; tasks without a due date come last in both directions.
NULLS_LAST_SORT_KEYS = {"due"}
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


def owned(user_id: str, task_id: int, versions: Sequence[int] | None = None) -> ColumnElement[bool]:
    """This user's task with this id; at one of these versions, when versions are given."""
    condition = and_(tasks_table.c.user_id == user_id, tasks_table.c.id == task_id)
    return condition if versions is None else and_(condition, tasks_table.c.version.in_(versions))


async def ensure_user(conn: AsyncConnection, user_id: str) -> None:
    await conn.execute(insert(users_table).values(id=user_id).on_conflict_do_nothing(index_elements=["id"]))


def ordering(sort: SortKey, order: Direction) -> tuple[UnaryExpression[Any], UnaryExpression[Any]]:
    key, tiebreak = SORT_COLUMNS[sort], tasks_table.c.id
    if order == "desc":
        return (key.desc().nulls_last() if sort in NULLS_LAST_SORT_KEYS else key.desc()), tiebreak.desc()
    return (key.asc().nulls_last() if sort in NULLS_LAST_SORT_KEYS else key.asc()), tiebreak.asc()


async def list_page(
    conn: AsyncConnection,
    *,
    user_id: str,
    status: StatusFilter,
    sort: SortKey,
    order: Direction,
    limit: int,
    offset: int,
    text: str | None = None,
    tags: Sequence[str] = (),
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    overdue: bool | None = None,
) -> tuple[Sequence[RowMapping], int]:
    where = list_conditions(
        user_id=user_id,
        status=status,
        text=text,
        tags=tags,
        due_before=due_before,
        due_after=due_after,
        overdue=overdue,
    )
    statement = select(*TASK_COLUMNS).where(*where).order_by(*ordering(sort, order)).limit(limit).offset(offset)
    rows = await conn.execute(statement)
    page = rows.mappings().all()
    if len(page) < limit and (page or offset == 0):
        return page, offset + len(page)
    total = await conn.scalar(select(func.count()).select_from(tasks_table).where(*where))
    return page, int(total or 0)


async def list_tags(conn: AsyncConnection, *, user_id: str) -> Sequence[RowMapping]:
    """The user's tags with how many of the user's tasks carry each, by name in code point order."""
    tag = func.unnest(tasks_table.c.tags).table_valued("name").lateral("tag")
    statement = (
        select(tag.c.name, func.count().label("task_count"))
        .select_from(tasks_table)
        .join(tag, true())
        .where(tasks_table.c.user_id == user_id)
        .group_by(tag.c.name)
        .order_by(tag.c.name.collate("C"))
    )
    return (await conn.execute(statement)).mappings().all()


async def insert_task(
    conn: AsyncConnection,
    *,
    user_id: str,
    title: str,
    description: str | None,
    priority: str = "medium",
    due_at: datetime | None = None,
    tags: Sequence[str] = (),
) -> RowMapping:
    statement = (
        insert(tasks_table)
        .values(
            user_id=user_id, title=title, description=description, priority=priority, due_at=due_at, tags=list(tags)
        )
        .returning(*VERSIONED_TASK_COLUMNS)
    )
    return (await conn.execute(statement)).mappings().one()


async def get_task(conn: AsyncConnection, *, user_id: str, task_id: int) -> RowMapping | None:
    statement = select(*VERSIONED_TASK_COLUMNS).where(owned(user_id, task_id))
    return (await conn.execute(statement)).mappings().one_or_none()


async def task_exists(conn: AsyncConnection, *, user_id: str, task_id: int) -> bool:
    return bool(await conn.scalar(select(tasks_table.c.id).where(owned(user_id, task_id))))


async def update_task(
    conn: AsyncConnection, *, user_id: str, task_id: int, changes: dict[str, Any], versions: Sequence[int] | None
) -> RowMapping | None:
    """Apply changes and bump the version; None when no task matched (absent, or not at those versions)."""
    statement = (
        update(tasks_table)
        .where(owned(user_id, task_id, versions))
        .values(**changes, updated_at=func.now(), version=tasks_table.c.version + 1)
        .returning(*VERSIONED_TASK_COLUMNS)
    )
    return (await conn.execute(statement)).mappings().one_or_none()


async def toggle_completion(
    conn: AsyncConnection, *, user_id: str, task_id: int, versions: Sequence[int] | None
) -> RowMapping | None:
    changes = {"completed": ~tasks_table.c.completed}
    return await update_task(conn, user_id=user_id, task_id=task_id, changes=changes, versions=versions)


async def delete_task(conn: AsyncConnection, *, user_id: str, task_id: int, versions: Sequence[int] | None) -> bool:
    result = await conn.execute(tasks_table.delete().where(owned(user_id, task_id, versions)))
    return bool(result.rowcount)


async def claim_idempotency_key(
    conn: AsyncConnection, *, user_id: str, key: str, request_hash: str, ttl_seconds: float
) -> RowMapping | None:
    """Claim the key for this request: None when claimed, else the earlier request's hash and answer.

    A concurrent request with the same key waits here on the primary key until the first one
    commits (then sees its answer) or rolls back (then claims the key itself). Expired keys of the
    user are removed first, so an expired key is claimed afresh.
    """
    keys = idempotency_keys_table.c
    expired = keys.created_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, ttl_seconds)
    await conn.execute(idempotency_keys_table.delete().where(keys.user_id == user_id, expired))
    claim = (
        insert(idempotency_keys_table)
        .values(user_id=user_id, key=key, request_hash=request_hash)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(keys.key)
    )
    if (await conn.execute(claim)).first() is not None:
        return None
    earlier = select(keys.request_hash, keys.response).where(keys.user_id == user_id, keys.key == key)
    return (await conn.execute(earlier)).mappings().one()


async def record_idempotent_response(
    conn: AsyncConnection, *, user_id: str, key: str, response: dict[str, Any]
) -> None:
    keys = idempotency_keys_table.c
    statement = update(idempotency_keys_table).where(keys.user_id == user_id, keys.key == key).values(response=response)
    await conn.execute(statement)
