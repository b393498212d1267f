"""The users row: a user's first create writes it; authentication, reads and writes that find no task never do."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.contract import Operation, operations_with
from tests.support.database import query
from tests.support.idempotency_keys import held_keys
from tests.support.users import User

MISSING_TASK = 987_654_321
# Every operation of a user's but a create, as the user's first request: on a task, one that does not exist.
FIRST_REQUESTS_WITHOUT_A_CREATE = [
    operation for operation in operations_with("user_id") if operation.operation_id != "createTask"
]


def task_counts(database_url: str, user_id: str) -> list[int]:
    """The user's row as the users table holds it: [task_count], or [] when there is no row."""
    return [row[0] for row in query(database_url, "SELECT task_count FROM users WHERE id = $1", user_id)]


@pytest.mark.parametrize("first", FIRST_REQUESTS_WITHOUT_A_CREATE, ids=str)
def test_a_first_request_that_creates_no_task_writes_no_user(alice: User, database_url: str, first: Operation) -> None:
    path = first.path(alice.id, MISSING_TASK)
    response = alice.request(first.method, path, json=first.example_body)
    assert response.status_code == (404 if first.takes("task_id") else first.success), response.text
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
