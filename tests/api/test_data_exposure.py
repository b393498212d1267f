"""Answers carry only the contract's fields, and nothing of another user's data, on every route and status."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from impl.settings import Settings
from tests.support.contract import (
    OPERATIONS,
    Operation,
    assert_matches_schema,
    documented_response,
    operation,
    operations_with,
    parameter_schema,
)
from tests.support.database import plain_dsn
from tests.support.users import User

INTERNAL_FIELDS = {"user_id", "version", "request_hash", "response", "key", "password", "token"}
# Statuses no request of a healthy service can provoke.
UNPROVOKABLE = {503}


def keys_anywhere(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield name
            yield from keys_anywhere(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_anywhere(item)


def ids_anywhere(value: Any) -> Iterator[int]:
    if isinstance(value, dict):
        if isinstance(value.get("id"), int):
            yield value["id"]
        for item in value.values():
            yield from ids_anywhere(item)
    elif isinstance(value, list):
        for item in value:
            yield from ids_anywhere(item)


# --- Every operation, every status it documents ----------------------------------------------------


@dataclass
class World:
    """Alice with tasks of her own, and Bob with marked tasks she must never see."""

    alice: User
    bob: User
    http: httpx.Client
    alice_tasks: list[dict[str, Any]]
    bob_tasks: list[dict[str, Any]]
    marker: str
    database_url: str

    @property
    def task(self) -> dict[str, Any]:
        return self.alice_tasks[0]


@pytest.fixture
def world(alice: User, bob: User, http: httpx.Client, database_url: str) -> World:
    marker = f"bob-secret-{uuid.uuid4().hex[:16]}"  # short enough to be a tag too
    bob_tasks = [
        bob.create(f"{marker} title {i}", description=f"{marker} details {i}", tags=[marker, "shared"])
        for i in range(3)
    ]
    bob.request("PATCH", bob.task_path(bob_tasks[0]["id"]) + "/complete")
    alice_tasks = [
        alice.create("Alice's first", description="hers", tags=["shared"]),
        alice.create("Alice's second", priority="high", due_at="2026-01-01T00:00:00Z"),
    ]
    alice.request("PATCH", alice.task_path(alice_tasks[1]["id"]) + "/complete")
    return World(alice, bob, http, alice_tasks, bob_tasks, marker, database_url)


def as_alice(method: str, path: Callable[[World], str], **kwargs: Any) -> Callable[[World], httpx.Response]:
    return lambda w: w.alice.request(method, path(w), **kwargs)


def anonymous(method: str, path: Callable[[World], str], **kwargs: Any) -> Callable[[World], httpx.Response]:
    return lambda w: w.http.request(method, path(w), **kwargs)


JSON = {"Content-Type": "application/json"}
TOO_LARGE = b'{"title": "x"}' + b" " * 65536
MALFORMED = b'{"title": '


def collection(w: World) -> str:
    return operation("listTasks").path(w.alice.id)


def bobs_collection(w: World) -> str:
    return operation("listTasks").path(w.bob.id)


def tags(w: World) -> str:
    return operation("listTags").path(w.alice.id)


def bobs_tags(w: World) -> str:
    return operation("listTags").path(w.bob.id)


def tags_of_an_invalid_user_id(w: World) -> httpx.Response:
    return User("has.dot", w.http).request("GET", operation("listTags").path("has.dot"))


# Where on a task an operation is sent (getTask's path unless told): Alice's, Bob's, or none of them.


def own(operation_id: str = "getTask") -> Callable[[World], str]:
    return lambda w: operation(operation_id).path(w.alice.id, w.task["id"])


def bobs(operation_id: str = "getTask") -> Callable[[World], str]:
    return lambda w: operation(operation_id).path(w.bob.id, w.bob_tasks[0]["id"])


def missing(operation_id: str = "getTask") -> Callable[[World], str]:
    return lambda w: operation(operation_id).path(w.alice.id, 987_654_321)


def bobs_id_under_alice(operation_id: str = "getTask") -> Callable[[World], str]:
    return lambda w: operation(operation_id).path(w.alice.id, w.bob_tasks[0]["id"])


def invalid_id(operation_id: str = "getTask") -> Callable[[World], str]:
    return lambda w: operation(operation_id).path(w.alice.id, "not-an-id")


def replayed_create(w: World) -> httpx.Response:
    headers = {"Idempotency-Key": f"replay-{w.alice.id}"}
    w.alice.request("POST", w.alice.tasks_path, json={"title": "Once"}, headers=headers)
    return w.alice.request("POST", w.alice.tasks_path, json={"title": "Once"}, headers=headers)


def create_at_the_task_quota(w: World) -> httpx.Response:
    """Alice's task count at the service's default quota, as if she had created that many tasks."""

    async def count_to_the_quota() -> None:
        conn = await asyncpg.connect(plain_dsn(w.database_url))
        try:
            quota = Settings.model_fields["max_tasks_per_user"].default
            await conn.execute("UPDATE users SET task_count = $2 WHERE id = $1", w.alice.id, quota)
        finally:
            await conn.close()

    asyncio.run(count_to_the_quota())
    return w.alice.request("POST", w.alice.tasks_path, json={"title": "One too many"})


STALE = {"If-Match": '"999"'}

SCENARIOS: dict[str, tuple[str, int, Callable[[World], httpx.Response]]] = {
    "list": ("listTasks", 200, as_alice("GET", collection)),
    "list-completed": ("listTasks", 200, as_alice("GET", collection, params={"status": "completed"})),
    "list-past-the-end": ("listTasks", 200, as_alice("GET", collection, params={"offset": 50})),
    "list-304": ("listTasks", 304, as_alice("GET", collection, headers={"If-None-Match": "*"})),
    "list-401": ("listTasks", 401, anonymous("GET", collection)),
    "list-403": ("listTasks", 403, as_alice("GET", bobs_collection)),
    "list-422": ("listTasks", 422, as_alice("GET", collection, params={"limit": 0})),
    "list-search-bobs-words": (
        "listTasks",
        200,
        lambda w: w.alice.request("GET", collection(w), params={"q": w.marker}),
    ),
    "list-tagged-as-bobs": (
        "listTasks",
        200,
        lambda w: w.alice.request("GET", collection(w), params={"tag": [w.marker, "shared"]}),
    ),
    "list-overdue": ("listTasks", 200, as_alice("GET", collection, params={"overdue": "true", "sort": "due"})),
    "tags": ("listTags", 200, as_alice("GET", tags)),
    "tags-401": ("listTags", 401, anonymous("GET", tags)),
    "tags-403": ("listTags", 403, as_alice("GET", bobs_tags)),
    "tags-422": ("listTags", 422, tags_of_an_invalid_user_id),
    "create": ("createTask", 201, as_alice("POST", collection, json={"title": "New"})),
    "create-replayed": ("createTask", 201, replayed_create),
    "create-400": ("createTask", 400, as_alice("POST", collection, content=MALFORMED, headers=JSON)),
    "create-401": ("createTask", 401, anonymous("POST", collection, json={"title": "New"})),
    "create-403": ("createTask", 403, as_alice("POST", bobs_collection, json={"title": "New"})),
    "create-409": ("createTask", 409, create_at_the_task_quota),
    "create-413": ("createTask", 413, as_alice("POST", collection, content=TOO_LARGE, headers=JSON)),
    "create-415": ("createTask", 415, as_alice("POST", collection, content=b'{"title": "New"}')),
    "create-422": ("createTask", 422, as_alice("POST", collection, json={"title": ""})),
    "get": ("getTask", 200, as_alice("GET", own())),
    "get-304": ("getTask", 304, as_alice("GET", own(), headers={"If-None-Match": "*"})),
    "get-401": ("getTask", 401, anonymous("GET", own())),
    "get-403": ("getTask", 403, as_alice("GET", bobs())),
    "get-404": ("getTask", 404, as_alice("GET", missing())),
    "get-404-bobs-id": ("getTask", 404, as_alice("GET", bobs_id_under_alice())),
    "get-422": ("getTask", 422, as_alice("GET", invalid_id())),
}
for name, operation_id, body in [
    ("put", "replaceTask", {"title": "Replaced"}),
    ("patch", "updateTask", {"title": "Patched"}),
]:
    method = operation(operation_id).method
    SCENARIOS |= {
        name: (operation_id, 200, as_alice(method, own(operation_id), json=body)),
        f"{name}-400": (operation_id, 400, as_alice(method, own(operation_id), content=MALFORMED, headers=JSON)),
        f"{name}-401": (operation_id, 401, anonymous(method, own(operation_id), json=body)),
        f"{name}-403": (operation_id, 403, as_alice(method, bobs(operation_id), json=body)),
        f"{name}-404": (operation_id, 404, as_alice(method, missing(operation_id), json=body)),
        f"{name}-404-bobs-id": (
            operation_id,
            404,
            as_alice(method, bobs_id_under_alice(operation_id), json=body, headers=STALE),
        ),
        f"{name}-412": (operation_id, 412, as_alice(method, own(operation_id), json=body, headers=STALE)),
        f"{name}-413": (operation_id, 413, as_alice(method, own(operation_id), content=TOO_LARGE, headers=JSON)),
        f"{name}-415": (
            operation_id,
            415,
            as_alice(method, own(operation_id), content=b"{}", headers={"Content-Type": "text/plain"}),
        ),
        f"{name}-422": (
            operation_id,
            422,
            as_alice(method, own(operation_id), json={"title": "", "user_id": "x", "version": 1}),
        ),
    }
for name, operation_id in [("delete", "deleteTask"), ("toggle", "toggleTaskCompletion")]:
    method, status = operation(operation_id).method, operation(operation_id).success
    SCENARIOS |= {
        name: (operation_id, status, as_alice(method, own(operation_id))),
        f"{name}-401": (operation_id, 401, anonymous(method, own(operation_id))),
        f"{name}-403": (operation_id, 403, as_alice(method, bobs(operation_id))),
        f"{name}-404": (operation_id, 404, as_alice(method, missing(operation_id))),
        f"{name}-404-bobs-id": (operation_id, 404, as_alice(method, bobs_id_under_alice(operation_id), headers=STALE)),
        f"{name}-412": (operation_id, 412, as_alice(method, own(operation_id), headers=STALE)),
        f"{name}-422": (operation_id, 422, as_alice(method, invalid_id(operation_id))),
    }
SCENARIOS |= {
    "health": ("getHealth", 200, anonymous("GET", lambda w: operation("getHealth").path())),
    "readiness": ("getReadiness", 200, anonymous("GET", lambda w: operation("getReadiness").path())),
}


def test_the_scenarios_cover_every_status_of_every_operation_in_the_spec() -> None:
    documented = {
        (documenting.operation_id, status)
        for documenting in OPERATIONS
        for status in documenting.statuses
        if status not in UNPROVOKABLE
    }
    covered = {(operation_id, status) for operation_id, status, _ in SCENARIOS.values()}
    assert documented == covered, {"not covered": documented - covered, "not in the spec": covered - documented}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_answer_has_exactly_the_contracts_fields(world: World, scenario: str) -> None:
    operation_id, status, send = SCENARIOS[scenario]
    response = send(world)
    assert response.status_code == status, response.text
    documented = documented_response(operation_id, status)
    if "content" not in documented:
        assert response.content == b""
        return
    [(media_type, media)] = documented["content"].items()
    assert response.headers["content-type"] == media_type
    assert_matches_schema(response.json(), media["schema"], scenario, exact=status < 400)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_internal_field_is_ever_answered(world: World, scenario: str) -> None:
    response = SCENARIOS[scenario][2](world)
    if response.content:
        assert not INTERNAL_FIELDS & set(keys_anywhere(response.json())), response.text
        assert "Traceback" not in response.text


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_bobs_data_never_reaches_alice(world: World, scenario: str) -> None:
    response = SCENARIOS[scenario][2](world)
    assert world.marker not in response.text
    assert world.marker not in str(response.headers)
    if response.content:
        bobs_ids = {task["id"] for task in world.bob_tasks}
        assert not bobs_ids & set(ids_anywhere(response.json())), response.text
    if world.bob.id not in str(response.request.url):
        assert world.bob.id not in response.text


# --- Bob's data, from every angle Alice has ----------------------------------------------------------


@pytest.mark.parametrize("status", parameter_schema("listTasks", "status")["enum"])
@pytest.mark.parametrize("sort", parameter_schema("listTasks", "sort")["enum"])
@pytest.mark.parametrize("order", parameter_schema("listTasks", "order")["enum"])
def test_alices_lists_and_counts_are_hers_alone(world: World, status: str, sort: str, order: str) -> None:
    completed = {world.alice_tasks[1]["id"]}
    hers = sorted(
        task["id"]
        for task in world.alice_tasks
        if status == "all" or (task["id"] in completed) == (status == "completed")
    )
    page = world.alice.request("GET", world.alice.tasks_path, params={"status": status, "sort": sort, "order": order})
    assert sorted(task["id"] for task in page.json()["items"]) == hers
    assert page.json()["total"] == len(hers)
    assert world.marker not in page.text


@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (1, 1), (1, 2), (1, 5), (100, 3), (100, 2147483647)])
def test_alices_counts_past_her_own_tasks_never_include_bobs(world: World, limit: int, offset: int) -> None:
    page = world.alice.request("GET", world.alice.tasks_path, params={"limit": limit, "offset": offset}).json()
    assert page["total"] == len(world.alice_tasks)
    assert not {task["id"] for task in world.bob_tasks} & set(ids_anywhere(page))


def test_alices_tag_counts_count_her_tasks_alone(world: World) -> None:
    """Bob's three tasks carry "shared" too; Alice sees only her one."""
    answer = world.alice.request("GET", tags(world)).json()
    assert answer == {"items": [{"name": "shared", "task_count": 1}], "limit": 100, "next_cursor": None}


# Every operation on a task with the spec's example body, and an update that changes nothing (it only reads).
TASK_ROUTES = [
    *((task_operation, task_operation.example_body) for task_operation in operations_with("task_id")),
    (operation("updateTask"), {}),
]


def task_route_id(route: Any) -> str:
    task_operation, body = route
    return f"{task_operation}-{'empty' if body == {} else 'example'}"


def without_request_id(response: httpx.Response) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {
        name: value
        for name, value in response.headers.items()
        if name not in {"x-request-id", "date", "content-length"}
    }
    problem: dict[str, Any] = response.json()
    problem.pop("request_id", None)
    return response.status_code, headers, problem


@pytest.mark.parametrize("if_match", [None, "*", '"1"', '"2"', 'W/"1"', '"999"'])
@pytest.mark.parametrize(("task_operation", "body"), TASK_ROUTES, ids=[task_route_id(route) for route in TASK_ROUTES])
def test_bobs_task_id_answers_alice_exactly_like_an_id_that_never_existed(
    world: World, task_operation: Operation, body: Any, if_match: str | None
) -> None:
    """No status, detail or header tells Alice whether Bob has a task with that id, or at which version."""
    headers = {} if if_match is None else {"If-Match": if_match}
    bobs_id, never = world.bob_tasks[0]["id"], 987_654_321
    bobs_task = world.bob.request("GET", world.bob.task_path(bobs_id)).json()

    def answer(task_id: int) -> httpx.Response:
        path = task_operation.path(world.alice.id, task_id)
        return world.alice.request(task_operation.method, path, json=body, headers=headers)

    status, shown, problem = without_request_id(answer(bobs_id))
    never_status, never_shown, never_problem = without_request_id(answer(never))
    assert status == never_status == 404
    assert shown == never_shown
    assert problem == {
        name: value.replace(str(never), str(bobs_id)) if isinstance(value, str) else value
        for name, value in never_problem.items()
    }
    assert world.bob.request("GET", world.bob.task_path(bobs_id)).json() == bobs_task


@pytest.mark.parametrize("same_body", [True, False])
def test_a_key_bob_used_tells_alice_nothing(world: World, same_body: bool) -> None:
    key = f"shared-{uuid.uuid4().hex}"
    bobs = world.bob.request(
        "POST", world.bob.tasks_path, json={"title": world.marker}, headers={"Idempotency-Key": key}
    )
    assert bobs.status_code == 201
    body = {"title": world.marker if same_body else "Alice's own"}
    response = world.alice.request("POST", world.alice.tasks_path, json=body, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers
    assert response.json()["id"] != bobs.json()["id"]
    assert response.headers["location"] == world.alice.task_path(response.json()["id"])
    assert response.headers["etag"] == '"1"'


def test_alices_writes_never_touch_bobs_tasks(world: World) -> None:
    before = [world.bob.request("GET", world.bob.task_path(task["id"])).json() for task in world.bob_tasks]
    for task in world.bob_tasks:
        for task_operation, body in TASK_ROUTES:
            for if_match in (None, "*", '"1"', '"2"'):
                headers = {} if if_match is None else {"If-Match": if_match}
                path = task_operation.path(world.alice.id, task["id"])
                world.alice.request(task_operation.method, path, json=body, headers=headers)
    after = [world.bob.request("GET", world.bob.task_path(task["id"])).json() for task in world.bob_tasks]
    assert after == before
    assert world.bob.request("GET", world.bob.tasks_path).json()["total"] == len(world.bob_tasks)
