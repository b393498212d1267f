"""The task rules, called on TasksService directly with the real database: what each operation answers,
which problem it raises, and what it leaves stored. Conditions arrive as version sets, answers are tasks
and their versions; what crosses HTTP (entity tags, Location, 304) is specified in tests/api/."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest
from asyncpg.pool import PoolConnectionProxy

from contract_runtime.security import Principal
from generated.api import ListTagsQuery, ListTasksQuery
from generated.models import Task, TaskCreate, TaskReplace, TaskUpdate
from impl.db.database import Database
from impl.http.problems import (
    Forbidden,
    IdempotencyKeyQuotaReached,
    NotFound,
    PreconditionFailed,
    TaskQuotaReached,
    UnprocessableContent,
    UnprocessableParameter,
)
from impl.idempotency.replays import Replayed
from impl.tasks.preconditions import Preconditions
from impl.tasks.service import UNCONDITIONAL, TasksService, Versioned
from tests.support.in_process import (
    TaskCounts,
    body,
    held_keys,
    task_counts,
    tasks_service,
    until_waiting_on_locks,
    user_row_uncommitted,
)
from tests.support.users import new_user_id

MAX_TASKS = 3
MAX_KEYS = 2
TASK_QUOTA = "tag:tasks-api,2026:task-quota-reached"
KEY_QUOTA = "tag:tasks-api,2026:idempotency-key-quota-reached"
MISSING_TASK = 987_654_321


@pytest.fixture
def quota_service(database: Database) -> TasksService:
    """The service with tiny quotas: MAX_TASKS tasks and MAX_KEYS Idempotency-Keys per user."""
    return tasks_service(database, max_tasks=MAX_TASKS, max_keys=MAX_KEYS)


def new_key() -> str:
    return str(uuid.uuid4())


def location_prefix(user_id: str) -> str:
    return f"/api/{user_id}/tasks/"


async def create(
    service: TasksService, user_id: str, fields: dict[str, Any] | None = None, *, key: str | None = None
) -> Versioned | Replayed:
    return await service.create_task(
        Principal(user_id),
        user_id=user_id,
        body=body(TaskCreate, fields or {"title": "Buy milk"}),
        idempotency_key=key,
        answer_location_prefix=location_prefix(user_id),
    )


async def stored(service: TasksService, user_id: str, task_id: int) -> Versioned:
    return await service.get_task(Principal(user_id), user_id=user_id, task_id=task_id)


def first_answer(user_id: str, created: Versioned | Replayed) -> Replayed:
    """What a replay of this create gives: its task, and the headers its first answer had."""
    task, version = created
    return Replayed(task, {"Location": f"{location_prefix(user_id)}{task.id}", "ETag": f'"{version}"'})


# --- The owner rule -------------------------------------------------------------------------------------


class Untouchable:
    """A database the test forbids: any connection or transaction asked of it fails the test."""

    settings = None

    def connection(self) -> Any:
        raise AssertionError("the service used the database")

    transaction = connection


CURSOR = "c" * 24  # schema-valid; opening it would read the cursor key
FOREIGN_CALLS: dict[str, Callable[[TasksService, Principal, str], Awaitable[object]]] = {
    "list_tasks": lambda service, caller, user_id: service.list_tasks(
        caller, user_id=user_id, query=ListTasksQuery(cursor=CURSOR)
    ),
    "list_tags": lambda service, caller, user_id: service.list_tags(
        caller, user_id=user_id, query=ListTagsQuery(cursor=CURSOR)
    ),
    "create_task": lambda service, caller, user_id: service.create_task(
        caller,
        user_id=user_id,
        body=body(TaskCreate, {"title": "planted", "tags": ["a", "A"]}),
        idempotency_key=new_key(),
        answer_location_prefix=location_prefix(user_id),
    ),
    "get_task": lambda service, caller, user_id: service.get_task(caller, user_id=user_id, task_id=1),
    "replace_task": lambda service, caller, user_id: service.replace_task(
        caller, user_id=user_id, task_id=1, body=body(TaskReplace, {"title": "hijacked"}), conditions=Preconditions([1])
    ),
    "update_task": lambda service, caller, user_id: service.update_task(
        caller, user_id=user_id, task_id=1, body=body(TaskUpdate, {})
    ),
    "toggle_task_completion": lambda service, caller, user_id: service.toggle_task_completion(
        caller, user_id=user_id, task_id=1
    ),
    "delete_task": lambda service, caller, user_id: service.delete_task(
        caller, user_id=user_id, task_id=1, conditions=Preconditions(excludes_every_version=True)
    ),
}


@pytest.mark.parametrize("operation", FOREIGN_CALLS)
async def test_a_caller_on_another_users_tasks_is_forbidden_before_the_database_is_used(operation: str) -> None:
    service = TasksService(cast(Database, Untouchable()), max_tasks_per_user=3, max_idempotency_keys_per_user=2)
    with pytest.raises(Forbidden) as refused:
        await FOREIGN_CALLS[operation](service, Principal("alice"), "bob")
    assert (refused.value.status, refused.value.detail) == (
        403,
        "The token's subject may not access this user's tasks.",
    )


# --- Create ---------------------------------------------------------------------------------------------


async def test_a_create_answers_the_stored_task_at_its_first_version(service: TasksService, user_id: str) -> None:
    created = await create(service, user_id, {"title": "Buy milk", "description": "Two litres"})
    assert isinstance(created, Versioned)
    task = created.task
    assert created.version == 1
    assert (task.title, task.description, task.completed) == ("Buy milk", "Two litres", False)
    assert task.created_at == task.updated_at
    assert await stored(service, user_id, task.id) == (task, 1)


async def test_a_create_gives_omitted_fields_their_defaults(service: TasksService, user_id: str) -> None:
    task, _ = await create(service, user_id, {"title": "Buy milk"})
    assert (task.description, task.priority, task.due_at, task.tags) == (None, "medium", None, [])


async def test_tags_are_stored_lower_cased_in_the_order_given(service: TasksService, user_id: str) -> None:
    task, _ = await create(service, user_id, {"title": "Tagged", "tags": ["Work", "urgent", "ÉTÉ"]})
    assert (await stored(service, user_id, task.id)).task.tags == ["work", "urgent", "été"]


async def test_tags_repeated_ignoring_case_are_refused_and_nothing_is_written(
    service: TasksService, conn: PoolConnectionProxy, user_id: str
) -> None:
    with pytest.raises(UnprocessableContent) as refused:
        await create(service, user_id, {"title": "Tagged", "tags": ["a", "Work", "WORK"]})
    assert [error["pointer"] for error in refused.value.extensions["errors"]] == ["/tags/2"]
    assert await task_counts(conn, user_id) == TaskCounts(counted=None, stored=0)


@pytest.mark.parametrize("due_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"])
async def test_a_due_date_postgresql_would_store_as_an_infinity_is_refused_and_nothing_is_written(
    service: TasksService, conn: PoolConnectionProxy, user_id: str, due_at: str
) -> None:
    with pytest.raises(UnprocessableContent) as refused:
        await create(service, user_id, {"title": "Someday", "due_at": due_at})
    assert [error["pointer"] for error in refused.value.extensions["errors"]] == ["/due_at"]
    task, _ = await create(service, user_id)
    changes = body(TaskUpdate, {"due_at": due_at})
    with pytest.raises(UnprocessableContent):
        await service.update_task(Principal(user_id), user_id=user_id, task_id=task.id, body=changes)
    assert await stored(service, user_id, task.id) == (task, 1)


# --- Idempotency-Key ------------------------------------------------------------------------------------


async def test_a_keyed_create_answers_as_a_plain_create(service: TasksService, user_id: str) -> None:
    created = await create(service, user_id, key=new_key())
    assert isinstance(created, Versioned)
    assert await stored(service, user_id, created.task.id) == (created.task, 1)


@pytest.mark.parametrize(
    ("first", "retry"),
    [
        ({"title": "Buy milk"}, {"title": "Buy milk"}),
        ({"title": "Buy milk"}, {"title": "Buy milk", "description": None, "priority": "medium", "tags": []}),
        ({"title": "Buy milk", "tags": ["Home"]}, {"title": "Buy milk", "tags": ["home"]}),
        (
            {"title": "Buy milk", "due_at": "2026-12-01T09:30:00+01:00"},
            {"title": "Buy milk", "due_at": "2026-12-01T08:30:00Z"},
        ),
    ],
    ids=["same", "defaults-spelled-out", "tag-case", "due-at-offset"],
)
async def test_a_retry_of_the_same_request_replays_the_first_answer_and_creates_nothing(
    service: TasksService, conn: PoolConnectionProxy, user_id: str, first: dict[str, Any], retry: dict[str, Any]
) -> None:
    key = new_key()
    created = await create(service, user_id, first, key=key)
    replayed = await create(service, user_id, retry, key=key)
    assert isinstance(replayed, Replayed)
    assert replayed == first_answer(user_id, created)
    assert await task_counts(conn, user_id) == TaskCounts(counted=1, stored=1)


async def test_the_same_key_with_another_request_is_refused_and_still_replays_the_first(
    service: TasksService, conn: PoolConnectionProxy, user_id: str
) -> None:
    key = new_key()
    task, _ = await create(service, user_id, {"title": "Buy milk"}, key=key)
    with pytest.raises(UnprocessableParameter) as refused:
        await create(service, user_id, {"title": "Buy bread"}, key=key)
    assert refused.value.status == 422
    assert [error["parameter"] for error in refused.value.extensions["errors"]] == ["Idempotency-Key"]
    assert (await create(service, user_id, {"title": "Buy milk"}, key=key)).task == task
    assert await task_counts(conn, user_id) == TaskCounts(counted=1, stored=1)


async def test_a_replay_repeats_the_first_answer_after_the_task_changed(service: TasksService, user_id: str) -> None:
    key = new_key()
    created = await create(service, user_id, key=key)
    await service.toggle_task_completion(Principal(user_id), user_id=user_id, task_id=created.task.id)
    assert await create(service, user_id, key=key) == first_answer(user_id, created)


async def test_keys_are_per_user(service: TasksService, user_id: str) -> None:
    key = new_key()
    mine = await create(service, user_id, key=key)
    theirs = await create(service, new_user_id(), key=key)
    assert isinstance(theirs, Versioned)
    assert theirs.task.id != mine.task.id


# --- Quotas -----------------------------------------------------------------------------------------------


async def fill(service: TasksService, user_id: str, count: int = MAX_TASKS) -> list[Task]:
    return [(await create(service, user_id, {"title": f"task {index}"})).task for index in range(count)]


@pytest.mark.parametrize("keyed", [False, True], ids=["without-key", "with-key"])
async def test_a_create_at_the_task_quota_raises_the_task_quota_problem_and_writes_nothing(
    quota_service: TasksService, conn: PoolConnectionProxy, user_id: str, keyed: bool
) -> None:
    await fill(quota_service, user_id)
    with pytest.raises(TaskQuotaReached) as refused:
        await create(quota_service, user_id, key=new_key() if keyed else None)
    problem = refused.value
    assert (problem.status, problem.type, problem.title) == (409, TASK_QUOTA, "Task quota reached")
    assert problem.extensions == {"limit": MAX_TASKS}
    assert str(MAX_TASKS) in problem.detail
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_TASKS, stored=MAX_TASKS)
    assert await held_keys(conn, user_id) == set()  # the key's claim was rolled back with the create


async def test_a_new_key_at_the_key_quota_raises_the_key_quota_problem_and_writes_nothing(
    quota_service: TasksService, conn: PoolConnectionProxy, user_id: str
) -> None:
    keys = {new_key() for _ in range(MAX_KEYS)}
    for key in keys:
        await create(quota_service, user_id, key=key)
    with pytest.raises(IdempotencyKeyQuotaReached) as refused:
        await create(quota_service, user_id, key=new_key())
    problem = refused.value
    assert (problem.status, problem.type, problem.title) == (409, KEY_QUOTA, "Idempotency-Key quota reached")
    assert problem.extensions == {"limit": MAX_KEYS}
    assert str(MAX_KEYS) in problem.detail
    assert await held_keys(conn, user_id) == keys
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_KEYS, stored=MAX_KEYS)


async def test_a_create_without_a_key_still_works_at_the_key_quota(quota_service: TasksService, user_id: str) -> None:
    for _ in range(MAX_KEYS):
        await create(quota_service, user_id, key=new_key())
    await create(quota_service, user_id)


async def test_a_retry_with_a_held_key_replays_at_both_quotas(quota_service: TasksService, user_id: str) -> None:
    key = new_key()
    created = await create(quota_service, user_id, key=key)
    await create(quota_service, user_id, key=new_key())
    await fill(quota_service, user_id, MAX_TASKS - MAX_KEYS)
    assert await create(quota_service, user_id, key=key) == first_answer(user_id, created)


# --- Concurrent creates: each call below takes a connection of its own, as concurrent requests do ---------

CONCURRENT = 10


async def test_concurrent_creates_with_one_key_make_one_task_and_replay_it_to_the_rest(
    service: TasksService, database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    key = new_key()
    async with user_row_uncommitted(database, user_id):
        racing = asyncio.gather(*(create(service, user_id, {"title": "Once"}, key=key) for _ in range(CONCURRENT)))
        await until_waiting_on_locks(conn, CONCURRENT)
    answers = await racing
    assert all(task == answers[0].task for task, _ in answers)
    assert sorted(type(answer).__name__ for answer in answers) == ["Replayed"] * (CONCURRENT - 1) + ["Versioned"]
    assert await task_counts(conn, user_id) == TaskCounts(counted=1, stored=1)


async def test_concurrent_first_keyed_creates_of_a_new_user_give_exactly_the_key_quota(
    quota_service: TasksService, database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    async with user_row_uncommitted(database, user_id):
        racing = asyncio.gather(
            *(create(quota_service, user_id, key=new_key()) for _ in range(CONCURRENT)), return_exceptions=True
        )
        await until_waiting_on_locks(conn, CONCURRENT)
    outcomes = await racing
    refused = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert all(isinstance(problem, IdempotencyKeyQuotaReached) for problem in refused), refused
    assert len(refused) == CONCURRENT - MAX_KEYS
    assert len(await held_keys(conn, user_id)) == MAX_KEYS
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_KEYS, stored=MAX_KEYS)


# --- If-Match and the changes it guards: the versions it names, as the endpoint reads them --------------

Write = Callable[[TasksService, str, int, Preconditions], Awaitable[object]]


def if_match(*versions: int) -> Preconditions:
    return Preconditions(list(versions))


async def replace(service: TasksService, user_id: str, task_id: int, conditions: Preconditions) -> object:
    replacement = body(TaskReplace, {"title": "Replaced", "completed": True})
    return await service.replace_task(
        Principal(user_id), user_id=user_id, task_id=task_id, body=replacement, conditions=conditions
    )


async def update(service: TasksService, user_id: str, task_id: int, conditions: Preconditions) -> object:
    changes = body(TaskUpdate, {"title": "Patched"})
    return await service.update_task(
        Principal(user_id), user_id=user_id, task_id=task_id, body=changes, conditions=conditions
    )


async def update_nothing(service: TasksService, user_id: str, task_id: int, conditions: Preconditions) -> object:
    return await service.update_task(
        Principal(user_id), user_id=user_id, task_id=task_id, body=body(TaskUpdate, {}), conditions=conditions
    )


async def toggle(service: TasksService, user_id: str, task_id: int, conditions: Preconditions) -> object:
    return await service.toggle_task_completion(
        Principal(user_id), user_id=user_id, task_id=task_id, conditions=conditions
    )


async def delete(service: TasksService, user_id: str, task_id: int, conditions: Preconditions) -> object:
    await service.delete_task(Principal(user_id), user_id=user_id, task_id=task_id, conditions=conditions)
    return None


WRITES = [replace, update, update_nothing, toggle, delete]


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.__name__)
async def test_a_write_with_a_stale_if_match_raises_precondition_failed_and_changes_nothing(
    service: TasksService, user_id: str, write: Write
) -> None:
    task, _ = await create(service, user_id)
    await toggle(service, user_id, task.id, UNCONDITIONAL)
    current = await stored(service, user_id, task.id)
    with pytest.raises(PreconditionFailed) as refused:
        await write(service, user_id, task.id, if_match(1))
    assert refused.value.status == 412
    assert await stored(service, user_id, task.id) == current


SENT_WRITES = [replace, update, toggle, delete]  # those that send a conditional write (update_nothing reads)
CONCURRENT_CHANGES = {
    "changed": "UPDATE tasks SET title = 'Theirs', version = version + 1 WHERE id = $1",
    "deleted": "DELETE FROM tasks WHERE id = $1",
}


@pytest.mark.parametrize("write", SENT_WRITES, ids=lambda write: write.__name__)
@pytest.mark.parametrize(("change", "problem"), [("changed", PreconditionFailed), ("deleted", NotFound)])
async def test_a_conditional_write_overtaken_by_another_answers_as_that_write_left_the_task(
    service: TasksService, database: Database, user_id: str, write: Write, change: str, problem: type[Exception]
) -> None:
    """The If-Match held when the write's statement began; another write, committed while it waited for the
    row, changed or deleted the task: 412 for a changed task, 404 for a deleted one, as if the other came first."""
    task, _ = await create(service, user_id)
    async with database.connection() as watcher, database.transaction() as other:
        await other.execute(CONCURRENT_CHANGES[change], task.id)
        overtaken = asyncio.ensure_future(write(service, user_id, task.id, if_match(1)))
        await until_waiting_on_locks(watcher, 1)
        # The other write commits here; the waiting one goes on and finds the row changed or gone.
    with pytest.raises(problem):
        await overtaken
    if change == "changed":
        assert (await stored(service, user_id, task.id)).task.title == "Theirs"


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.__name__)
async def test_a_write_with_an_if_match_naming_the_current_version_among_others_applies(
    service: TasksService, user_id: str, write: Write
) -> None:
    task, _ = await create(service, user_id)
    await write(service, user_id, task.id, if_match(7, 1))
    if write is delete:
        with pytest.raises(NotFound):
            await stored(service, user_id, task.id)
    elif write is not update_nothing:
        assert (await stored(service, user_id, task.id)).version == 2


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.__name__)
@pytest.mark.parametrize("conditions", [UNCONDITIONAL, if_match(1)], ids=["unconditional", "if-match"])
async def test_a_write_to_a_missing_task_raises_not_found_even_with_if_match(
    service: TasksService, user_id: str, write: Write, conditions: Preconditions
) -> None:
    with pytest.raises(NotFound):
        await write(service, user_id, MISSING_TASK, conditions)


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.__name__)
async def test_another_users_task_is_not_found_and_left_unchanged(
    service: TasksService, user_id: str, write: Write
) -> None:
    task, _ = await create(service, user_id)
    with pytest.raises(NotFound):
        await write(service, new_user_id(), task.id, UNCONDITIONAL)
    assert await stored(service, user_id, task.id) == (task, 1)


# --- Changes ----------------------------------------------------------------------------------------------


async def test_a_patch_with_no_changes_answers_the_task_and_keeps_its_version(
    service: TasksService, user_id: str
) -> None:
    task, _ = await create(service, user_id)
    answered = await update_nothing(service, user_id, task.id, if_match(1))
    assert answered == (task, 1)
    assert await stored(service, user_id, task.id) == (task, 1)


async def test_a_patch_changes_only_the_given_fields(service: TasksService, user_id: str) -> None:
    task, _ = await create(service, user_id, {"title": "Keep me", "description": "clear me", "tags": ["kept"]})
    changes = body(TaskUpdate, {"description": None, "priority": "high"})
    updated, version = await service.update_task(Principal(user_id), user_id=user_id, task_id=task.id, body=changes)
    assert updated == task.model_copy(
        update={"description": None, "priority": "high", "updated_at": updated.updated_at}
    )
    assert updated.updated_at > task.updated_at
    assert version == 2


async def test_a_replace_gives_omitted_fields_their_defaults(service: TasksService, user_id: str) -> None:
    fields = {"title": "Old", "description": "x", "priority": "high", "due_at": "2026-12-01T00:00:00Z", "tags": ["a"]}
    task, _ = await create(service, user_id, fields)
    await toggle(service, user_id, task.id, UNCONDITIONAL)
    replacement = body(TaskReplace, {"title": "New"})
    replaced, _ = await service.replace_task(Principal(user_id), user_id=user_id, task_id=task.id, body=replacement)
    assert (replaced.id, replaced.created_at) == (task.id, task.created_at)
    assert (replaced.title, replaced.description, replaced.completed) == ("New", None, False)
    assert (replaced.priority, replaced.due_at, replaced.tags) == ("medium", None, [])


async def test_a_toggle_flips_completion_both_ways_and_moves_the_version(service: TasksService, user_id: str) -> None:
    task, _ = await create(service, user_id)
    done = await toggle(service, user_id, task.id, if_match(1))
    undone = await toggle(service, user_id, task.id, UNCONDITIONAL)
    assert isinstance(done, Versioned)
    assert isinstance(undone, Versioned)
    assert (done.task.completed, done.version) == (True, 2)
    assert (undone.task.completed, undone.version) == (False, 3)


async def test_a_delete_removes_the_task_and_its_place_under_the_quota(
    quota_service: TasksService, conn: PoolConnectionProxy, user_id: str
) -> None:
    tasks = await fill(quota_service, user_id)
    await delete(quota_service, user_id, tasks[0].id, if_match(1))
    with pytest.raises(NotFound):
        await stored(quota_service, user_id, tasks[0].id)
    await create(quota_service, user_id)
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_TASKS, stored=MAX_TASKS)
