"""Input is checked strictly against the contract: rejected, never coerced or clamped, never half-written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.contract import OPERATIONS, Operation
from tests.support.problems import assert_invalid, assert_problem
from tests.support.users import User


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/title"),
        ({"title": ""}, "/title"),
        ({"title": "   "}, "/title"),
        ({"title": "x" * 201}, "/title"),
        ({"title": 42}, "/title"),
        ({"title": None}, "/title"),
        ({"title": "ok", "description": "x" * 1001}, "/description"),
        ({"title": "ok", "description": 7}, "/description"),
        ({"title": "ok", "id": 5}, "/id"),
        ({"title": "ok", "user_id": "someone"}, "/user_id"),
        ({"title": "ok", "completed": True}, "/completed"),
        ({"title": "ok", "created_at": "2026-01-01T00:00:00Z"}, "/created_at"),
        ({"title": "ok", "assignee": "bob"}, "/assignee"),
    ],
)
def test_create_rejects_invalid_bodies_and_stores_nothing(alice: User, body: dict[str, Any], pointer: str) -> None:
    assert_invalid(alice.request("POST", alice.tasks_path, json=body), pointer=pointer)
    assert alice.request("GET", alice.tasks_path).json()["total"] == 0


def test_a_title_of_exactly_200_characters_is_accepted(alice: User) -> None:
    assert alice.create("x" * 200)["title"] == "x" * 200


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"completed": "yes"}, "/completed"),
        ({"completed": "true"}, "/completed"),
        ({"completed": 1}, "/completed"),
        ({"title": ""}, "/title"),
        ({"id": 1}, "/id"),
        ({"updated_at": "2026-01-01T00:00:00Z"}, "/updated_at"),
    ],
)
def test_patch_rejects_uncoerced_types_and_unknown_fields(alice: User, body: dict[str, Any], pointer: str) -> None:
    task = alice.create("Original")
    assert_invalid(alice.request("PATCH", alice.task_path(task["id"]), json=body), pointer=pointer)
    assert alice.request("GET", alice.task_path(task["id"])).json() == task


def test_put_requires_a_title(alice: User) -> None:
    task = alice.create("Original")
    assert_invalid(alice.request("PUT", alice.task_path(task["id"]), json={"completed": True}), pointer="/title")
    assert alice.request("GET", alice.task_path(task["id"])).json() == task


def test_a_body_that_is_not_json_is_400_problem(alice: User) -> None:
    response = alice.request(
        "POST", alice.tasks_path, content=b'{"title": "unterminated', headers={"Content-Type": "application/json"}
    )
    assert assert_problem(response, 400)["errors"][0]["pointer"] == ""


# Bodies that are not JSON text as RFC 8259 defines it (UTF-8, no byte order mark), or that JSON text the
# service cannot read (nested or numbers beyond what it parses): each is one malformed-body problem.
TASK_TEXT = '{"title": "Buy milk"}'
NOT_UTF8_JSON = {
    "utf-16-le": TASK_TEXT.encode("utf-16-le"),
    "utf-16-be": TASK_TEXT.encode("utf-16-be"),
    "utf-16-with-bom": TASK_TEXT.encode("utf-16"),
    "utf-32-le": TASK_TEXT.encode("utf-32-le"),
    "utf-32-with-bom": TASK_TEXT.encode("utf-32"),
    "utf-8-with-bom": TASK_TEXT.encode("utf-8-sig"),
}
UNREADABLE_JSON = {
    "60000-nested-arrays": b"[" * 60_000,
    "nested-arrays-in-a-task": b'{"title": "Buy milk", "tags": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    "a-5000-digit-number": b'{"title": "Buy milk", "priority": ' + b"9" * 5_000 + b"}",
}


def assert_malformed_body(response: Any) -> dict[str, Any]:
    """The spec's MalformedBody: a 400 validation problem with one error on the whole body; that error."""
    problem = assert_problem(response, 400, title="Bad Request", problem_type="about:blank")
    assert problem["detail"] == "The request body is not valid JSON.", problem
    [error] = problem["errors"]
    assert error["pointer"] == "", error
    return dict(error)


@pytest.mark.parametrize("body", NOT_UTF8_JSON.values(), ids=NOT_UTF8_JSON)
@pytest.mark.parametrize("sent", [operation for operation in OPERATIONS if operation.takes_a_body], ids=str)
def test_json_text_that_is_not_plain_utf8_is_400_and_writes_nothing(alice: User, body: bytes, sent: Operation) -> None:
    task = alice.create("Original")
    path = sent.path(alice.id, task["id"])
    response = alice.request(sent.method, path, content=body, headers={"Content-Type": "application/json"})
    assert_malformed_body(response)
    assert alice.request("GET", alice.tasks_path).json()["items"] == [task]


def test_a_byte_order_mark_is_refused_by_name(alice: User) -> None:
    response = alice.request(
        "POST", alice.tasks_path, content=NOT_UTF8_JSON["utf-8-with-bom"], headers={"Content-Type": "application/json"}
    )
    assert "byte order mark" in assert_malformed_body(response)["message"]


@pytest.mark.parametrize("body", UNREADABLE_JSON.values(), ids=UNREADABLE_JSON)
def test_json_nested_or_numbered_beyond_what_the_service_reads_is_a_malformed_body(alice: User, body: bytes) -> None:
    response = alice.request("POST", alice.tasks_path, content=body, headers={"Content-Type": "application/json"})
    assert_malformed_body(response)
    assert alice.request("GET", alice.tasks_path).json()["total"] == 0


MALFORMED = b'{"title": "unterminated'
INVALID = {"title": "", "completed": "yes"}


def test_a_caller_without_a_token_learns_nothing_about_its_body(alice: User) -> None:
    # Decisions 0004 and 0055: 401, then 400/422, then 403; never a verdict on the body to an unknown caller.
    for body in ({"content": MALFORMED}, {"json": INVALID}):
        response = alice.http.request("POST", alice.tasks_path, headers={"Content-Type": "application/json"}, **body)
        assert response.status_code == 401, response.text
        assert "errors" not in response.json()


def test_a_caller_on_another_users_path_hears_only_about_its_own_body_and_nothing_is_written(
    alice: User, bob: User
) -> None:
    """The body is judged before the owner rule (decision 0055): the verdict is on what alice sent, as on her
    own path, and says nothing of bob's tasks."""
    for body, status in (({"content": MALFORMED}, 400), ({"json": INVALID}, 422)):
        response = alice.request("POST", bob.tasks_path, headers={"Content-Type": "application/json"}, **body)
        mine = alice.request("POST", alice.tasks_path, headers={"Content-Type": "application/json"}, **body)
        assert response.status_code == mine.status_code == status, response.text
        assert response.json()["errors"] == mine.json()["errors"]
    assert bob.request("GET", bob.tasks_path).json()["total"] == 0


def test_a_json_body_that_is_not_an_object_is_422(alice: User) -> None:
    assert_invalid(alice.request("POST", alice.tasks_path, json=["title"]), pointer="")


def test_a_missing_body_is_422(alice: User) -> None:
    assert_invalid(alice.request("POST", alice.tasks_path), pointer="")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=1.5", "limit"),
        ("offset=-1", "offset"),
        ("status=done", "status"),
        ("sort=assignee", "sort"),
        ("order=up", "order"),
    ],
)
def test_list_rejects_out_of_range_parameters_instead_of_clamping(alice: User, query: str, parameter: str) -> None:
    assert_invalid(alice.request("GET", f"{alice.tasks_path}?{query}"), parameter=parameter)


@pytest.mark.parametrize("task_id", ["abc", "0", "-3", "1.5", "9223372036854775808"])
def test_task_ids_outside_the_contract_are_422(alice: User, task_id: str) -> None:
    assert_invalid(alice.request("GET", f"{alice.tasks_path}/{task_id}"), parameter="task_id")


def test_a_user_id_outside_the_contract_is_422(http: Any) -> None:
    user = User("has.dot", http)
    assert_invalid(user.request("GET", user.tasks_path), parameter="user_id")
    too_long = User("u" * 129, http)
    assert_invalid(too_long.request("GET", too_long.tasks_path), parameter="user_id")


def test_every_invalid_input_is_listed_at_once_parameters_before_the_body(alice: User) -> None:
    response = alice.request(
        "POST",
        alice.tasks_path,
        json={"title": "", "priority": "urgent"},
        headers={"Idempotency-Key": "has spaces"},
    )
    assert_invalid(response)
    locations = [error.get("parameter") or error["pointer"] for error in response.json()["errors"]]
    assert locations == ["Idempotency-Key", "/title", "/priority"]


def test_every_invalid_query_parameter_is_listed_in_query_order(alice: User) -> None:
    response = alice.request("GET", alice.tasks_path, params={"order": "up", "limit": "0", "tag": ["ok", ""]})
    assert_invalid(response)
    assert [error["parameter"] for error in response.json()["errors"]] == ["order", "limit", "tag"]


def test_an_invalid_query_on_another_users_path_is_422_listed_after_the_path(alice: User) -> None:
    """Validation comes before the owner rule (decision 0055), and every invalid parameter is listed at
    once, the path's first (decision 0060)."""
    response = alice.request("GET", "/api/bob/tasks", params={"limit": "0", "sort": "size"})
    assert_invalid(response)
    assert [error["parameter"] for error in response.json()["errors"]] == ["sort", "limit"]
    response = alice.request("GET", "/api/al%20ice/tasks", params={"limit": "0", "sort": "size"})
    assert_invalid(response)
    assert [error["parameter"] for error in response.json()["errors"]] == ["user_id", "sort", "limit"]


def test_an_empty_body_is_a_missing_body(alice: User) -> None:
    response = alice.request("POST", alice.tasks_path, content=b"", headers={"Content-Type": "application/json"})
    assert_invalid(response, pointer="")
    assert alice.request("GET", alice.tasks_path).json()["total"] == 0


def test_a_repeated_single_valued_parameter_takes_its_last_value(alice: User) -> None:
    for title in ("a", "b", "c"):
        alice.create(title)
    response = alice.request("GET", f"{alice.tasks_path}?limit=1&limit=2")
    assert response.status_code == 200, response.text
    assert response.json()["limit"] == 2
    assert len(response.json()["items"]) == 2
