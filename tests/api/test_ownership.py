"""Nobody sees another user's data: a valid request on a foreign path is 403, a foreign task id is 404, on
every route; an invalid one is judged as on the caller's own path (decision 0055)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.problems import assert_problem
from tests.support.users import User

TASK_ROUTES = [
    ("GET", "", None),
    ("PUT", "", {"title": "hijacked"}),
    ("PATCH", "", {"title": "hijacked"}),
    ("DELETE", "", None),
    ("PATCH", "/complete", None),
]
COLLECTION_ROUTES = [("GET", None), ("POST", {"title": "planted"})]


@pytest.mark.parametrize(("method", "body"), COLLECTION_ROUTES)
def test_a_token_for_a_cannot_use_bs_collection(alice: User, bob: User, method: str, body: Any) -> None:
    response = alice.request(method, bob.tasks_path, json=body)
    assert_problem(response, 403)
    assert bob.request("GET", bob.tasks_path).json()["total"] == 0


@pytest.mark.parametrize(("method", "suffix", "body"), TASK_ROUTES)
def test_a_token_for_a_on_bs_task_path_is_403(alice: User, bob: User, method: str, suffix: str, body: Any) -> None:
    task = bob.create("Bob's secret")
    response = alice.request(method, bob.task_path(task["id"]) + suffix, json=body)
    assert response.status_code == 403
    assert "Bob's secret" not in response.text
    assert bob.request("GET", bob.task_path(task["id"])).json() == task


@pytest.mark.parametrize(("method", "suffix", "body"), TASK_ROUTES)
def test_an_invalid_request_on_bs_path_is_judged_as_on_as_own_and_touches_nothing(
    alice: User, bob: User, method: str, suffix: str, body: Any
) -> None:
    task = bob.create("Bob's secret")
    invalid = {"title": ""} if body else None
    response = alice.request(method, f"{bob.tasks_path}/0{suffix}", json=invalid)
    own = alice.request(method, f"{alice.tasks_path}/0{suffix}", json=invalid)
    assert response.status_code == own.status_code == 422, response.text
    assert response.json()["errors"] == own.json()["errors"]
    assert "Bob's secret" not in response.text
    assert bob.request("GET", bob.task_path(task["id"])).json() == task


@pytest.mark.parametrize(("method", "suffix", "body"), TASK_ROUTES)
def test_bs_task_id_under_as_path_is_404(alice: User, bob: User, method: str, suffix: str, body: Any) -> None:
    task = bob.create("Bob's secret")
    response = alice.request(method, alice.task_path(task["id"]) + suffix, json=body)
    assert response.status_code == 404
    assert "Bob's secret" not in response.text
    assert bob.request("GET", bob.task_path(task["id"])).json() == task


def test_a_list_shows_only_the_owners_tasks(alice: User, bob: User) -> None:
    mine = alice.create("Alice's")
    bob.create("Bob's")
    page = alice.request("GET", alice.tasks_path).json()
    assert [task["id"] for task in page["items"]] == [mine["id"]]
    assert page["total"] == 1
