"""The tasks operations over HTTP: the generated TasksApi, thin over TasksService.

Here and only here: If-Match and If-None-Match read into the versions the rules take, 304 for a read
the client already holds, and the answers' ETag, Location and Idempotent-Replayed. The caller the
route hands over goes to the service as it is; the rules, the owner rule first, are the service's.
"""

from __future__ import annotations

from contract_runtime.answers import PlainFields
from contract_runtime.security import Principal
from generated.api import (
    CreateTaskHeaders,
    CreateTaskResponseHeaders,
    DeleteTaskHeaders,
    GetTaskHeaders,
    GetTaskResponseHeaders,
    ListTagsQuery,
    ListTasksHeaders,
    ListTasksQuery,
    ListTasksResponseHeaders,
    ReplaceTaskHeaders,
    ReplaceTaskResponseHeaders,
    TasksApi,
    ToggleTaskCompletionHeaders,
    ToggleTaskCompletionResponseHeaders,
    UpdateTaskHeaders,
    UpdateTaskResponseHeaders,
)
from generated.models import Task, TaskCreate, TaskReplace, TaskUpdate
from impl.http.entity_tags import NotModified, etag, lists_any, named_versions, none_match, page_etag, versions_matching
from impl.idempotency.replays import Replayed
from impl.tasks.preconditions import Preconditions
from impl.tasks.service import TasksService


def tasks_path(user_id: str) -> str:
    return f"/api/{user_id}/tasks"


def preconditions(if_match: str | None, if_none_match: str | None) -> Preconditions:
    """What a write's If-Match and If-None-Match ask of the task's version (RFC 9110 section 13.1)."""
    matching = versions_matching(if_match)
    if if_none_match is None:
        return Preconditions(matching)
    if lists_any(if_none_match):
        return Preconditions(matching, excludes_every_version=True)
    return Preconditions(matching, named_versions(if_none_match, weak=True) or None)


class TasksEndpoints(TasksApi):
    def __init__(self, service: TasksService) -> None:
        self.service = service

    async def list_tasks(
        self, *, caller: Principal, user_id: str, query: ListTasksQuery, headers: ListTasksHeaders
    ) -> tuple[PlainFields, ListTasksResponseHeaders]:
        listed = await self.service.list_tasks(caller, user_id=user_id, query=query)
        page_tag = page_etag(listed.version)
        if none_match(headers.if_none_match, page_tag):
            raise NotModified(page_tag)
        return await self.service.page(listed), {"ETag": page_tag}

    async def list_tags(self, *, caller: Principal, user_id: str, query: ListTagsQuery) -> PlainFields:
        return await self.service.list_tags(caller, user_id=user_id, query=query)

    async def create_task(
        self, *, caller: Principal, user_id: str, headers: CreateTaskHeaders, body: TaskCreate
    ) -> tuple[Task, CreateTaskResponseHeaders]:
        created = await self.service.create_task(
            caller,
            user_id=user_id,
            body=body,
            idempotency_key=headers.idempotency_key,
            answer_location_prefix=f"{tasks_path(user_id)}/",
        )
        if isinstance(created, Replayed):
            first = created.headers
            return created.task, {"Location": first["Location"], "ETag": first["ETag"], "Idempotent-Replayed": "true"}
        task = created.task
        return task, {"Location": f"{tasks_path(user_id)}/{task.id}", "ETag": etag(created.version)}

    async def get_task(
        self, *, caller: Principal, user_id: str, task_id: int, headers: GetTaskHeaders
    ) -> tuple[Task, GetTaskResponseHeaders]:
        task, version = await self.service.get_task(caller, user_id=user_id, task_id=task_id)
        task_tag = etag(version)
        if none_match(headers.if_none_match, task_tag):
            raise NotModified(task_tag)
        return task, {"ETag": task_tag}

    async def replace_task(
        self, *, caller: Principal, user_id: str, task_id: int, headers: ReplaceTaskHeaders, body: TaskReplace
    ) -> tuple[Task, ReplaceTaskResponseHeaders]:
        conditions = preconditions(headers.if_match, headers.if_none_match)
        task, version = await self.service.replace_task(
            caller, user_id=user_id, task_id=task_id, body=body, conditions=conditions
        )
        return task, {"ETag": etag(version)}

    async def update_task(
        self, *, caller: Principal, user_id: str, task_id: int, headers: UpdateTaskHeaders, body: TaskUpdate
    ) -> tuple[Task, UpdateTaskResponseHeaders]:
        conditions = preconditions(headers.if_match, headers.if_none_match)
        task, version = await self.service.update_task(
            caller, user_id=user_id, task_id=task_id, body=body, conditions=conditions
        )
        return task, {"ETag": etag(version)}

    async def toggle_task_completion(
        self, *, caller: Principal, user_id: str, task_id: int, headers: ToggleTaskCompletionHeaders
    ) -> tuple[Task, ToggleTaskCompletionResponseHeaders]:
        conditions = preconditions(headers.if_match, headers.if_none_match)
        task, version = await self.service.toggle_task_completion(
            caller, user_id=user_id, task_id=task_id, conditions=conditions
        )
        return task, {"ETag": etag(version)}

    async def delete_task(self, *, caller: Principal, user_id: str, task_id: int, headers: DeleteTaskHeaders) -> None:
        conditions = preconditions(headers.if_match, headers.if_none_match)
        await self.service.delete_task(caller, user_id=user_id, task_id=task_id, conditions=conditions)
