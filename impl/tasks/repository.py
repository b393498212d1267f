"""Every task query. Each one is filtered by owner, so another user's task id simply does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, RowMapping, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from impl.tables import tasks_table, users_table

StatusFilter = Literal["all", "pending", "completed"]
SortKey = Literal["created", "updated", "title"]
Direction = Literal["asc", "desc"]

SORT_COLUMNS = {
    "created": tasks_table.c.created_at,
    "updated": tasks_table.c.updated_at,
    "title": tasks_table.c.title,
}
TASK_COLUMNS = (
    tasks_table.c.id,
    tasks_table.c.title,
    tasks_table.c.description,
    tasks_table.c.completed,
    tasks_table.c.created_at,
    tasks_table.c.updated_at,
)


def owned(user_id: str, task_id: int) -> ColumnElement[bool]:
    return and_(tasks_table.c.user_id == user_id, tasks_table.c.id == task_id)


async def ensure_user(conn: AsyncConnection, user_id: str) -> None:
    await conn.execute(insert(users_table).values(id=user_id).on_conflict_do_nothing(index_elements=["id"]))


async def list_page(
    conn: AsyncConnection,
    *,
    user_id: str,
    status: StatusFilter,
    sort: SortKey,
    order: Direction,
    limit: int,
    offset: int,
) -> tuple[Sequence[RowMapping], int]:
    where: list[ColumnElement[bool]] = [tasks_table.c.user_id == user_id]
    if status != "all":
        where.append(tasks_table.c.completed.is_(status == "completed"))
    key, tiebreak = SORT_COLUMNS[sort], tasks_table.c.id
    ordering = (key.desc(), tiebreak.desc()) if order == "desc" else (key.asc(), tiebreak.asc())
    rows = await conn.execute(select(*TASK_COLUMNS).where(*where).order_by(*ordering).limit(limit).offset(offset))
    page = rows.mappings().all()
    if len(page) < limit and (page or offset == 0):
        return page, offset + len(page)
    total = await conn.scalar(select(func.count()).select_from(tasks_table).where(*where))
    return page, int(total or 0)


async def insert_task(conn: AsyncConnection, *, user_id: str, title: str, description: str | None) -> RowMapping:
    statement = (
        insert(tasks_table).values(user_id=user_id, title=title, description=description).returning(*TASK_COLUMNS)
    )
    return (await conn.execute(statement)).mappings().one()


async def get_task(conn: AsyncConnection, *, user_id: str, task_id: int) -> RowMapping | None:
    statement = select(*TASK_COLUMNS).where(owned(user_id, task_id))
    return (await conn.execute(statement)).mappings().one_or_none()


async def update_task(
    conn: AsyncConnection, *, user_id: str, task_id: int, changes: dict[str, Any]
) -> RowMapping | None:
    statement = (
        update(tasks_table)
        .where(owned(user_id, task_id))
        .values(**changes, updated_at=func.now())
        .returning(*TASK_COLUMNS)
    )
    return (await conn.execute(statement)).mappings().one_or_none()


async def toggle_completion(conn: AsyncConnection, *, user_id: str, task_id: int) -> RowMapping | None:
    return await update_task(conn, user_id=user_id, task_id=task_id, changes={"completed": ~tasks_table.c.completed})


async def delete_task(conn: AsyncConnection, *, user_id: str, task_id: int) -> bool:
    result = await conn.execute(tasks_table.delete().where(owned(user_id, task_id)))
    return bool(result.rowcount)
