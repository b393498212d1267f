"""Creating, reading, replacing, updating, toggling and deleting one task."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.contract import operations_with
from tests.support.problems import assert_problem
from tests.support.users import User


def parse_time(value: str) -> datetime:
    assert value.endswith("Z"), f"timestamps are UTC with a Z suffix: {value}"
    return datetime.fromisoformat(value)


def test_create_returns_the_pending_task_with_its_location(alice: User) -> None:
    response = alice.request("POST", alice.tasks_path, json={"title": "Buy milk", "description": "Two litres"})
    assert response.status_code == 201
    task = response.json()
    assert set(task) == {
        *("id", "title", "description", "completed", "priority", "due_at", "tags", "created_at", "updated_at")
    }
    assert task["title"] == "Buy milk"
    assert task["description"] == "Two litres"
    assert task["completed"] is False
    assert (task["priority"], task["due_at"], task["tags"]) == ("medium", None, [])
    assert task["created_at"] == task["updated_at"]
    assert abs((parse_time(task["created_at"]) - datetime.now(UTC)).total_seconds()) < 60
    assert response.headers["location"] == f"{alice.tasks_path}/{task['id']}"
    assert alice.request("GET", response.headers["location"]).json() == task


def test_create_without_description_stores_null(alice: User) -> None:
    assert alice.create("Call the dentist")["description"] is None


def test_get_returns_the_stored_task(alice: User) -> None:
    task = alice.create("Read a book", description="Any book")
    response = alice.request("GET", alice.task_path(task["id"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == task


def test_put_replaces_every_client_field_and_defaults_the_omitted_ones(alice: User) -> None:
    task = alice.create("Old", description="old details")
    alice.request("PATCH", alice.task_path(task["id"]), json={"completed": True})
    response = alice.request("PUT", alice.task_path(task["id"]), json={"title": "New"})
    assert response.status_code == 200
    replaced = response.json()
    assert (replaced["title"], replaced["description"], replaced["completed"]) == ("New", None, False)
    assert replaced["id"] == task["id"]
    assert replaced["created_at"] == task["created_at"]
    assert parse_time(replaced["updated_at"]) > parse_time(task["updated_at"])


def test_put_sets_all_given_fields(alice: User) -> None:
    task = alice.create("Old")
    body = {"title": "New", "description": "details", "completed": True}
    replaced = alice.request("PUT", alice.task_path(task["id"]), json=body).json()
    assert {key: replaced[key] for key in body} == body


def test_patch_changes_only_the_given_fields(alice: User) -> None:
    task = alice.create("Keep me", description="keep this too")
    response = alice.request("PATCH", alice.task_path(task["id"]), json={"completed": True})
    assert response.status_code == 200
    updated = response.json()
    assert updated["completed"] is True
    assert (updated["title"], updated["description"]) == ("Keep me", "keep this too")
    assert parse_time(updated["updated_at"]) > parse_time(task["updated_at"])


def test_patch_clears_the_description_with_null(alice: User) -> None:
    task = alice.create("Title", description="to be cleared")
    updated = alice.request("PATCH", alice.task_path(task["id"]), json={"description": None}).json()
    assert updated["description"] is None


def test_patch_with_an_empty_object_changes_nothing(alice: User) -> None:
    task = alice.create("Unchanged")
    response = alice.request("PATCH", alice.task_path(task["id"]), json={})
    assert response.status_code == 200
    assert response.json() == task


@pytest.mark.parametrize("field", ["title", "completed"])
def test_patch_refuses_null_for_a_non_nullable_field(alice: User, field: str) -> None:
    task = alice.create("Title")
    response = alice.request("PATCH", alice.task_path(task["id"]), json={field: None})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == f"/{field}"
    assert alice.request("GET", alice.task_path(task["id"])).json() == task


def test_toggle_flips_completion_both_ways(alice: User) -> None:
    task = alice.create("Flip me")
    first = alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    assert first.status_code == 200
    assert first.json()["completed"] is True
    second = alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    assert second.json()["completed"] is False


def test_delete_removes_the_task_for_every_operation(alice: User) -> None:
    task = alice.create("Short-lived")
    path = alice.task_path(task["id"])
    response = alice.request("DELETE", path)
    assert response.status_code == 204
    assert response.content == b""
    for on_the_task in operations_with("task_id"):
        gone = alice.request(on_the_task.method, on_the_task.path(alice.id, task["id"]), json=on_the_task.example_body)
        assert_problem(gone, 404)


def test_an_unknown_task_id_is_404_problem(alice: User) -> None:
    response = alice.request("GET", alice.task_path(987654321))
    assert_problem(response, 404, title="Not Found", problem_type="about:blank", instance=alice.task_path(987654321))


def test_titles_keep_unicode_and_inner_spacing(alice: User) -> None:
    title = "  Café ☕ — 日本語  "
    assert alice.create(title)["title"] == title
