"""The users row: a user's first create writes it; authentication, reads and writes that find no task never do."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.database import query
from tests.support.idempotency_keys import held_keys
from tests.support.users import User

MISSING_TASK = 987_654_321
# (method, path under /api/{user_id}, body, status): every operation but a create, as a user's first request.
FIRST_REQUESTS_WITHOUT_A_CREATE = [
    ("GET", "/tasks", None, 200),
    ("GET", "/tags", None, 200),
    ("GET", f"/tasks/{MISSING_TASK}", None, 404),
    ("PUT", f"/tasks/{MISSING_TASK}", {"title": "Buy milk"}, 404),
    ("PATCH", f"/tasks/{MISSING_TASK}", {"title": "Buy milk"}, 404),
    ("PATCH", f"/tasks/{MISSING_TASK}/complete", None, 404),
    ("DELETE", f"/tasks/{MISSING_TASK}", None, 404),
]


def task_counts(database_url: str, user_id: str) -> list[int]:
    """The user's row as the users table holds it: [task_count], or [] when there is no row."""
    return [row[0] for row in query(database_url, "SELECT task_count FROM users WHERE id = $1", user_id)]


@pytest.mark.parametrize(("method", "path", "body", "status"), FIRST_REQUESTS_WITHOUT_A_CREATE)
def test_a_first_request_that_creates_no_task_writes_no_user(
    alice: User, database_url: str, method: str, path: str, body: Any, status: int
) -> None:
    response = alice.request(method, f"/api/{alice.id}{path}", json=body)
    assert response.status_code == status, response.text
    assert task_counts(database_url, alice.id) == []


def test_a_first_create_writes_the_user_with_one_task_counted(alice: User, database_url: str) -> None:
    alice.create()
    assert task_counts(database_url, alice.id) == [1]


def test_a_first_keyed_create_writes_the_user_with_one_task_counted(alice: User, database_url: str) -> None:
    key = str(uuid.uuid4())
    response = alice.request("POST", alice.tasks_path, json={"title": "Buy milk"}, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text
    assert task_counts(database_url, alice.id) == [1]
    assert held_keys(database_url, alice) == {key}


def test_a_first_create_refused_for_its_body_writes_no_user(alice: User, database_url: str) -> None:
    assert alice.request("POST", alice.tasks_path, json={"title": ""}).status_code == 422
    assert task_counts(database_url, alice.id) == []


@pytest.mark.parametrize("user_id", ["has.dot", "u" * 129])
def test_a_user_id_outside_the_contract_is_422_and_writes_nothing_even_with_its_own_token(
    http: httpx.Client, database_url: str, user_id: str
) -> None:
    # Authentication compares the token's `sub` with the path before the path is validated; the
    # validation stops the request before the service, so no such id reaches the users table.
    user = User(user_id, http)
    response = user.request("POST", user.tasks_path, json={"title": "Buy milk"})
    assert response.status_code == 422, response.text
    assert [error["parameter"] for error in response.json()["errors"]] == ["user_id"]
    assert task_counts(database_url, user_id) == []
