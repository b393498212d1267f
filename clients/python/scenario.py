"""The frontend scenario with the Python client openapi-python-client generates (tests/tooling/clients/).

Create (retried with the same Idempotency-Key), list with filters, update with If-Match, toggle, delete, and
401/403/404/412/422 read as typed problems. Runs where the wheel `make clients` builds is installed
(`tasks_api_client`). Env: TASKS_API_URL, TASKS_API_USER, TASKS_API_TOKEN, TASKS_API_OTHER_USER. Prints one JSON
line per step; exits non-zero on the first surprise.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import uuid
from datetime import datetime
from typing import Any

from tasks_api_client import AuthenticatedClient, Client
from tasks_api_client.api.tasks import (
    create_task,
    delete_task,
    get_task,
    list_tags,
    list_tasks,
    toggle_task_completion,
    update_task,
)
from tasks_api_client.models import (
    ListTasksOrder,
    ListTasksSort,
    ListTasksStatus,
    Problem,
    TagList,
    Task,
    TaskCreate,
    TaskCreatePriority,
    TaskPage,
    TaskUpdate,
    ValidationProblem,
)
from tasks_api_client.types import UNSET, Response, Unset


class ScenarioError(Exception):
    pass


def step(name: str, status: int, **detail: Any) -> None:
    print(json.dumps({"step": name, "status": status, **detail}), flush=True)


def expect(condition: object, message: str) -> None:
    if not condition:
        raise ScenarioError(message)


def expect_task(name: str, response: Response[Any], status: int) -> Task:
    expect(response.status_code == status and isinstance(response.parsed, Task), f"{name}: {response.content!r}")
    task: Task = response.parsed
    return task


def expect_problem(name: str, response: Response[Any], status: int) -> Problem | ValidationProblem:
    problem = response.parsed
    expect(isinstance(problem, Problem | ValidationProblem), f"{name}: not a problem: {response.content!r}")
    assert isinstance(problem, Problem | ValidationProblem)
    expect(response.status_code == status and problem.status == status, f"{name}: {response.status_code}")
    expect(response.headers["content-type"].startswith("application/problem+json"), f"{name}: not problem+json")
    errors = [error.to_dict() for error in problem.errors] if isinstance(problem, ValidationProblem) else None
    step(name, status, title=problem.title, detail=problem.detail, request_id=problem.request_id, errors=errors)
    return problem


def tag_counts(api: AuthenticatedClient, user: str, *, limit: int) -> tuple[list[tuple[str, int]], int]:
    """The user's tags and counts, a page of `limit` at a time following next_cursor; and how many pages."""
    tags: list[tuple[str, int]] = []
    cursor: str | Unset = UNSET
    for pages in itertools.count(1):
        page = list_tags.sync(user, client=api, limit=limit, cursor=cursor)
        expect(isinstance(page, TagList) and page.limit == limit and len(page.items) == limit, f"tag page: {page}")
        assert isinstance(page, TagList)
        tags += [(tag.name, tag.task_count) for tag in page.items]
        if page.next_cursor is None:
            return tags, pages
        cursor = page.next_cursor
    raise AssertionError("unreachable")


def main() -> None:
    base_url, user = os.environ["TASKS_API_URL"], os.environ["TASKS_API_USER"]
    other_user = os.environ["TASKS_API_OTHER_USER"]
    api = AuthenticatedClient(base_url=base_url, token=os.environ["TASKS_API_TOKEN"], raise_on_unexpected_status=True)
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)

    key = str(uuid.uuid4())
    body = TaskCreate(title="Buy milk", description="Two litres, semi-skimmed.")
    created = create_task.sync_detailed(user, client=api, body=body, idempotency_key=key)
    milk = expect_task("create", created, 201)
    etag = created.headers.get("ETag")
    expect(etag and created.headers.get("Location", "").endswith(f"/tasks/{milk.id}"), "create: ETag and Location")
    step("create", 201, id=milk.id, etag=etag)

    retried = create_task.sync_detailed(user, client=api, body=body, idempotency_key=key)
    expect(expect_task("create retry", retried, 201).id == milk.id, "create retry: a second task")
    expect(retried.headers.get("Idempotent-Replayed") == "true", "create retry: Idempotent-Replayed")
    step("create retry", 201, id=milk.id, replayed=True)

    second = expect_task(
        "create second", create_task.sync_detailed(user, client=api, body=TaskCreate("Call the dentist")), 201
    )

    updated = update_task.sync_detailed(
        user, milk.id, client=api, body=TaskUpdate(title="Buy oat milk", description=None), if_match=etag or ""
    )
    oat = expect_task("update", updated, 200)
    expect(oat.title == "Buy oat milk" and oat.description is None, "update: fields")
    new_etag = updated.headers.get("ETag")
    expect(new_etag and new_etag != etag, "update: a new ETag")
    step("update", 200, title=oat.title, etag=new_etag)

    stale = update_task.sync_detailed(user, milk.id, client=api, body=TaskUpdate(title="Lost"), if_match=etag or "")
    expect_problem("update with a stale ETag", stale, 412)

    toggled = toggle_task_completion.sync_detailed(user, milk.id, client=api, if_match=new_etag or "")
    expect(expect_task("toggle", toggled, 200).completed, "toggle: completed")
    step("toggle", 200, completed=True)

    completed = list_tasks.sync(
        user, client=api, status=ListTasksStatus.COMPLETED, sort=ListTasksSort.TITLE, order=ListTasksOrder.ASC, limit=10
    )
    expect(isinstance(completed, TaskPage), f"list completed: {completed}")
    assert isinstance(completed, TaskPage)
    expect(completed.total == 1 and completed.items[0].id == milk.id, "list completed: items")
    pending = list_tasks.sync(user, client=api, status=ListTasksStatus.PENDING, limit=10, offset=0)
    assert isinstance(pending, TaskPage)
    expect(pending.total == 1 and pending.items[0].id == second.id, "list pending: items")
    step("list", 200, completed=completed.total, pending=pending.total)

    # Priority, due date and tags; then the tag filter (repeated, any case), search, overdue and tag counts.
    due = datetime.fromisoformat("2020-01-01T09:00:00+01:00")
    tagged = TaskCreate("Book the vet", priority=TaskCreatePriority.HIGH, due_at=due, tags=["Pets", "urgent"])
    vet = expect_task("create tagged", create_task.sync_detailed(user, client=api, body=tagged), 201)
    expect(vet.tags == ["pets", "urgent"] and vet.due_at == due, "create tagged: fields")
    found = list_tasks.sync(
        user, client=api, tag=["PETS", "urgent"], q="VET", overdue=True, sort=ListTasksSort.PRIORITY
    )
    assert isinstance(found, TaskPage)
    expect(found.total == 1 and found.items[0].id == vet.id, "tags and search: items")
    tags, pages = tag_counts(api, user, limit=1)
    expect(tags == [("pets", 1), ("urgent", 1)], f"tag counts: {tags}")
    step("tags and search", 200, found=found.total, tags=len(tags), pages=pages)

    deleted = delete_task.sync_detailed(user, milk.id, client=api)
    expect(deleted.status_code == 204 and deleted.parsed is None, f"delete: {deleted.status_code}")
    step("delete", 204)

    expect_problem("get deleted task", get_task.sync_detailed(user, milk.id, client=api), 404)
    no_token = list_tasks.sync_detailed(user, client=anonymous)
    expect_problem("list without a token", no_token, 401)
    expect(no_token.headers.get("WWW-Authenticate", "").startswith("Bearer"), "401: WWW-Authenticate")
    expect_problem("list another user's tasks", list_tasks.sync_detailed(other_user, client=api), 403)
    invalid = expect_problem(
        "create with an empty title", create_task.sync_detailed(user, client=api, body=TaskCreate("")), 422
    )
    expect(isinstance(invalid, ValidationProblem) and invalid.errors[0].pointer == "/title", "422: errors[].pointer")
    too_many = expect_problem("list with limit 500", list_tasks.sync_detailed(user, client=api, limit=500), 422)
    expect(
        isinstance(too_many, ValidationProblem) and too_many.errors[0].parameter == "limit", "422: errors[].parameter"
    )
    step("done", 0)


if __name__ == "__main__":
    try:
        main()
    except ScenarioError as error:
        print(f"scenario: {error}", file=sys.stderr)
        sys.exit(1)
