"""The task rules: each operation of the contract, one transaction each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from generated.api import CreateTaskHeaders, TasksApi
from generated.models import Task, TaskCreate, TaskPage, TaskReplace, TaskUpdate
from impl.problems import NotFound
from impl.tasks import repository
from impl.tasks.repository import Direction, SortKey, StatusFilter


def to_task(row: RowMapping) -> Task:
    return Task(**row)


def task_not_found(task_id: int) -> NotFound:
    return NotFound(f"Task {task_id} does not exist.")


class TasksService(TasksApi):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def list_tasks(
        self,
        *,
        user_id: str,
        status: StatusFilter,
        sort: SortKey,
        order: Direction,
        limit: int,
        offset: int,
    ) -> TaskPage:
        async with self.engine.begin() as conn:
            rows, total = await repository.list_page(
                conn, user_id=user_id, status=status, sort=sort, order=order, limit=limit, offset=offset
            )
        return TaskPage(items=[to_task(row) for row in rows], total=total, limit=limit, offset=offset)

    async def create_task(self, *, user_id: str, body: TaskCreate) -> tuple[Task, CreateTaskHeaders]:
        async with self.engine.begin() as conn:
            row = await repository.insert_task(conn, user_id=user_id, title=body.title, description=body.description)
        task = to_task(row)
        return task, {"Location": f"/api/{user_id}/tasks/{task.id}"}

    async def get_task(self, *, user_id: str, task_id: int) -> Task:
        async with self.engine.begin() as conn:
            row = await repository.get_task(conn, user_id=user_id, task_id=task_id)
        if row is None:
            raise task_not_found(task_id)
        return to_task(row)

    async def replace_task(self, *, user_id: str, task_id: int, body: TaskReplace) -> Task:
        return await self._update(user_id, task_id, body.model_dump())

    async def update_task(self, *, user_id: str, task_id: int, body: TaskUpdate) -> Task:
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            return await self.get_task(user_id=user_id, task_id=task_id)
        return await self._update(user_id, task_id, changes)

    async def toggle_task_completion(self, *, user_id: str, task_id: int) -> Task:
        async with self.engine.begin() as conn:
            row = await repository.toggle_completion(conn, user_id=user_id, task_id=task_id)
        if row is None:
            raise task_not_found(task_id)
        return to_task(row)

    async def delete_task(self, *, user_id: str, task_id: int) -> None:
        async with self.engine.begin() as conn:
            deleted = await repository.delete_task(conn, user_id=user_id, task_id=task_id)
        if not deleted:
            raise task_not_found(task_id)

    async def _update(self, user_id: str, task_id: int, changes: dict[str, Any]) -> Task:
        async with self.engine.begin() as conn:
            row = await repository.update_task(conn, user_id=user_id, task_id=task_id, changes=changes)
        if row is None:
            raise task_not_found(task_id)
        return to_task(row)
