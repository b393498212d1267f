"""The per-user quotas (decision 0027) as the tests see them: the 409 problems, and the kept task count."""

from __future__ import annotations

import httpx

from tests.support.database import query
from tests.support.problems import assert_problem
from tests.support.users import TaskOwner

TASK_QUOTA = "tag:tasks-api,2026:task-quota-reached"
KEY_QUOTA = "tag:tasks-api,2026:idempotency-key-quota-reached"


def assert_quota_reached(response: httpx.Response, user: TaskOwner, problem_type: str, limit: int) -> None:
    title = "Task quota reached" if problem_type == TASK_QUOTA else "Idempotency-Key quota reached"
    body = assert_problem(response, 409, title=title, problem_type=problem_type, instance=user.tasks_path)
    assert body["limit"] == limit
    assert str(limit) in body["detail"]
    assert "location" not in response.headers
    assert "idempotent-replayed" not in response.headers


def counts(database_url: str, user: TaskOwner) -> tuple[int, int]:
    """The user's task count as the service keeps it, and the tasks actually there."""
    [row] = query(
        database_url,
        "SELECT task_count, (SELECT count(*) FROM tasks WHERE user_id = $1) FROM users WHERE id = $1",
        user.id,
    )
    return row[0], row[1]
