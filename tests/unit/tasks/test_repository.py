"""The task queries, called directly on the test database: quotas, the kept task count, versions, tags, keys."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from typing import Any

import pytest
from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from impl.db.database import Database
from impl.idempotency import repository as keys
from impl.idempotency.replays import IDEMPOTENCY_KEY_TTL_SECONDS
from impl.idempotency.repository import EarlierRequest
from impl.tasks import repository
from impl.tasks.listing import repository as lists
from tests.support.in_process import (
    TaskCounts,
    age_keys,
    held_keys,
    task_counts,
    until_waiting_on_locks,
    user_row_locked,
    user_row_uncommitted,
)
from tests.support.users import new_user_id

MAX_TASKS = 3
MAX_KEYS = 2
UNLIMITED = 1_000_000
CONCURRENT = 12


async def insert(conn: PoolConnectionProxy, user_id: str, title: str = "Buy milk", **fields: Any) -> Record:
    row = await repository.insert_task(
        conn, user_id=user_id, max_tasks=fields.pop("max_tasks", UNLIMITED), title=title, description=None, **fields
    )
    assert row is not None
    return row


async def insert_on_a_connection_of_its_own(database: Database, user_id: str, title: str) -> Record | None:
    async with database.connection() as conn:
        return await repository.insert_task(conn, user_id=user_id, max_tasks=MAX_TASKS, title=title, description=None)


async def delete_on_a_connection_of_its_own(database: Database, user_id: str, task_id: int) -> bool:
    async with database.connection() as conn:
        deleted = await repository.delete_task(conn, user_id=user_id, task_id=task_id, versions=None)
        return not isinstance(deleted, repository.Unwritten)


def new_key() -> str:
    return str(uuid.uuid4())


# --- The task quota and the kept task count ----------------------------------------------------------


async def test_a_first_insert_creates_the_users_row_with_one_task_counted(
    conn: PoolConnectionProxy, user_id: str
) -> None:
    await insert(conn, user_id)
    assert await task_counts(conn, user_id) == TaskCounts(counted=1, stored=1)


async def test_an_insert_at_the_quota_returns_none_and_writes_nothing(conn: PoolConnectionProxy, user_id: str) -> None:
    for index in range(MAX_TASKS):
        await insert(conn, user_id, f"task {index}", max_tasks=MAX_TASKS)
    refused = await repository.insert_task(
        conn, user_id=user_id, max_tasks=MAX_TASKS, title="one too many", description=None
    )
    assert refused is None
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_TASKS, stored=MAX_TASKS)


async def test_an_insert_under_a_zero_quota_writes_not_even_the_users_row(
    conn: PoolConnectionProxy, user_id: str
) -> None:
    assert await repository.insert_task(conn, user_id=user_id, max_tasks=0, title="none", description=None) is None
    assert await task_counts(conn, user_id) == TaskCounts(counted=None, stored=0)


async def test_the_count_follows_deletes_and_ignores_deletes_that_delete_nothing(
    conn: PoolConnectionProxy, user_id: str
) -> None:
    first, second = await insert(conn, user_id, "first"), await insert(conn, user_id, "second")
    assert await repository.delete_task(conn, user_id=user_id, task_id=first["id"], versions=None)
    gone = repository.Unwritten(version=None)
    assert await repository.delete_task(conn, user_id=user_id, task_id=first["id"], versions=None) == gone
    at_1 = repository.Unwritten(version=1)
    assert await repository.delete_task(conn, user_id=user_id, task_id=second["id"], versions=[99]) == at_1
    assert await repository.delete_task(conn, user_id=new_user_id(), task_id=second["id"], versions=None) == gone
    assert await task_counts(conn, user_id) == TaskCounts(counted=1, stored=1)


async def test_a_deleted_task_frees_its_place_under_the_quota(conn: PoolConnectionProxy, user_id: str) -> None:
    rows = [await insert(conn, user_id, f"task {index}", max_tasks=MAX_TASKS) for index in range(MAX_TASKS)]
    assert await repository.delete_task(conn, user_id=user_id, task_id=rows[0]["id"], versions=None)
    assert await insert(conn, user_id, "in its place", max_tasks=MAX_TASKS)
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_TASKS, stored=MAX_TASKS)


async def test_concurrent_inserts_never_pass_the_quota_and_keep_the_count_exact(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    await insert(conn, user_id, "already there")
    # Every insert queues behind the user's row lock, and all re-check the quota once it is released.
    async with user_row_locked(database, user_id):
        inserts = asyncio.gather(
            *(insert_on_a_connection_of_its_own(database, user_id, f"racer {i}") for i in range(CONCURRENT))
        )
        await until_waiting_on_locks(conn, CONCURRENT)
    inserted = await inserts
    assert sum(row is not None for row in inserted) == MAX_TASKS - 1
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_TASKS, stored=MAX_TASKS)


async def test_concurrent_first_inserts_of_a_new_user_give_exactly_the_quota(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    async with user_row_uncommitted(database, user_id):
        inserts = asyncio.gather(
            *(insert_on_a_connection_of_its_own(database, user_id, f"first {i}") for i in range(CONCURRENT))
        )
        await until_waiting_on_locks(conn, CONCURRENT)
    inserted = await inserts
    assert sum(row is not None for row in inserted) == MAX_TASKS
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_TASKS, stored=MAX_TASKS)


async def test_concurrent_inserts_and_deletes_keep_the_count_exact(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    ids = [(await insert(conn, user_id, f"task {index}", max_tasks=MAX_TASKS))["id"] for index in range(MAX_TASKS)]
    async with user_row_locked(database, user_id):
        deletes = [delete_on_a_connection_of_its_own(database, user_id, task_id) for task_id in ids * 2]
        inserts = [insert_on_a_connection_of_its_own(database, user_id, "racer") for _ in range(6)]
        outcomes = asyncio.gather(asyncio.gather(*deletes), asyncio.gather(*inserts))
        await until_waiting_on_locks(conn, len(deletes) + len(inserts))
    deleted, inserted = await outcomes
    assert sorted(deleted) == [False] * MAX_TASKS + [True] * MAX_TASKS
    created = sum(row is not None for row in inserted)
    assert await task_counts(conn, user_id) == TaskCounts(counted=created, stored=created)
    assert created <= MAX_TASKS


# --- Versions ---------------------------------------------------------------------------------------------


async def test_an_update_at_a_stale_version_changes_nothing_and_says_the_version_it_found(
    conn: PoolConnectionProxy, user_id: str
) -> None:
    task = await insert(conn, user_id, "Original")
    current = await repository.update_task(
        conn, user_id=user_id, task_id=task["id"], changes={"title": "Second"}, versions=None
    )
    assert current is not None
    assert current["version"] == 2
    stale = await repository.update_task(
        conn, user_id=user_id, task_id=task["id"], changes={"title": "Lost"}, versions=[1]
    )
    assert stale == repository.Unwritten(version=2)
    assert await repository.get_task(conn, user_id=user_id, task_id=task["id"]) == current


async def test_an_update_at_any_of_the_given_versions_applies_and_moves_the_version(
    conn: PoolConnectionProxy, user_id: str
) -> None:
    task = await insert(conn, user_id, "Original")
    updated = await repository.update_task(
        conn, user_id=user_id, task_id=task["id"], changes={"completed": True}, versions=[7, 1]
    )
    assert not isinstance(updated, repository.Unwritten)
    assert (updated["completed"], updated["version"], updated["title"]) == (True, 2, "Original")
    assert updated["updated_at"] > task["updated_at"]


async def test_a_write_at_an_excluded_version_matches_nothing_and_changes_nothing(
    conn: PoolConnectionProxy, user_id: str
) -> None:
    task = await insert(conn, user_id)
    kept = {"user_id": user_id, "task_id": task["id"], "versions": None, "excluded": [3, 1]}
    assert await repository.update_task(conn, changes={"title": "Lost"}, **kept) == repository.Unwritten(version=1)
    assert await repository.toggle_completion(conn, **kept) == repository.Unwritten(version=1)
    assert await repository.delete_task(conn, **kept) == repository.Unwritten(version=1)
    assert await repository.get_task(conn, user_id=user_id, task_id=task["id"]) == task
    moved = await repository.update_task(conn, changes={"title": "Kept"}, **{**kept, "excluded": [2]})
    assert not isinstance(moved, repository.Unwritten)
    assert moved["version"] == 2


async def test_a_toggle_at_a_stale_version_changes_nothing_and_says_the_version_it_found(
    conn: PoolConnectionProxy, user_id: str
) -> None:
    task = await insert(conn, user_id)
    stale = await repository.toggle_completion(conn, user_id=user_id, task_id=task["id"], versions=[2])
    assert stale == repository.Unwritten(version=1)
    assert await repository.get_task(conn, user_id=user_id, task_id=task["id"]) == task


async def test_a_toggle_flips_completion_and_moves_the_version(conn: PoolConnectionProxy, user_id: str) -> None:
    task = await insert(conn, user_id)
    done = await repository.toggle_completion(conn, user_id=user_id, task_id=task["id"], versions=[1])
    assert done is not None
    undone = await repository.toggle_completion(conn, user_id=user_id, task_id=task["id"], versions=None)
    assert undone is not None
    assert [(row["completed"], row["version"]) for row in (task, done, undone)] == [(False, 1), (True, 2), (False, 3)]


async def test_a_delete_at_a_stale_version_deletes_nothing(conn: PoolConnectionProxy, user_id: str) -> None:
    task = await insert(conn, user_id)
    stale = await repository.delete_task(conn, user_id=user_id, task_id=task["id"], versions=[2, 3])
    assert stale == repository.Unwritten(version=1)
    assert await repository.get_task(conn, user_id=user_id, task_id=task["id"]) == task
    assert await repository.delete_task(conn, user_id=user_id, task_id=task["id"], versions=[2, 1])
    assert await task_counts(conn, user_id) == TaskCounts(counted=0, stored=0)


def queries_of_one_task() -> set[str]:
    """The task repository's queries that take a task id."""
    return {
        name
        for name, function in vars(repository).items()
        if inspect.iscoroutinefunction(function)
        and function.__module__ == repository.__name__
        and "task_id" in inspect.signature(function).parameters
    }


# A conditional write's statement forms: unconditional, at versions (If-Match), not at versions (If-None-Match), both.
WRITE_FORMS: list[dict[str, Any]] = [
    {"versions": None},
    {"versions": [1]},
    {"versions": None, "excluded": [2]},
    {"versions": [1], "excluded": [2]},
]


async def test_another_users_task_does_not_exist_for_any_query(conn: PoolConnectionProxy, user_id: str) -> None:
    """Every query of one task, in each of its statement forms, finds nothing of the task under another user."""
    task = await insert(conn, user_id)
    ask = {"user_id": new_user_id(), "task_id": task["id"]}
    answers = {
        "get_task": [await repository.get_task(conn, **ask)],
        "task_version": [await repository.task_version(conn, **ask)],
        "task_exists": [await repository.task_exists(conn, **ask)],
        "update_task": [
            await repository.update_task(conn, **ask, changes={"title": "Mine"}, **form) for form in WRITE_FORMS
        ],
        "toggle_completion": [await repository.toggle_completion(conn, **ask, **form) for form in WRITE_FORMS],
        "delete_task": [await repository.delete_task(conn, **ask, **form) for form in WRITE_FORMS],
    }
    assert set(answers) == queries_of_one_task(), "every query of one task is asked"
    absent = [repository.Unwritten(version=None)] * len(WRITE_FORMS)
    assert answers == {
        "get_task": [None],
        "task_version": [None],
        "task_exists": [False],
        "update_task": absent,
        "toggle_completion": absent,
        "delete_task": absent,
    }
    assert await repository.get_task(conn, user_id=user_id, task_id=task["id"]) == task


async def test_an_update_refuses_a_column_clients_may_not_write(conn: PoolConnectionProxy, user_id: str) -> None:
    task = await insert(conn, user_id)
    with pytest.raises(ValueError, match="version"):
        await repository.update_task(conn, user_id=user_id, task_id=task["id"], changes={"version": 9}, versions=None)


# --- Tags -------------------------------------------------------------------------------------------------


async def test_tags_are_stored_in_the_order_given(conn: PoolConnectionProxy, user_id: str) -> None:
    task = await insert(conn, user_id, tags=["work", "urgent", "été"])
    stored = await repository.get_task(conn, user_id=user_id, task_id=task["id"])
    assert stored is not None
    assert stored["tags"] == ["work", "urgent", "été"]


async def test_list_tags_counts_the_users_tasks_per_tag_in_code_point_order(
    conn: PoolConnectionProxy, user_id: str
) -> None:
    await insert(conn, user_id, "one", tags=["zebra", "apple"])
    done = await insert(conn, user_id, "two", tags=["été", "zebra"])
    await repository.toggle_completion(conn, user_id=user_id, task_id=done["id"], versions=None)
    await insert(conn, user_id, "untagged")
    await insert(conn, new_user_id(), "someone else's", tags=["apple", "zebra", "other"])
    listed = await lists.list_tags(conn, user_id=user_id, limit=10)
    assert [(row["name"], row["task_count"]) for row in listed.rows] == [("apple", 1), ("zebra", 2), ("été", 1)]
    assert not listed.more


async def test_list_tags_pages_after_a_name_in_code_point_order(conn: PoolConnectionProxy, user_id: str) -> None:
    await insert(conn, user_id, "one", tags=["zebra", "apple", "zoo", "été"])
    await insert(conn, user_id, "two", tags=["zebra", "b"])
    first = await lists.list_tags(conn, user_id=user_id, limit=2)
    rest = await lists.list_tags(conn, user_id=user_id, limit=2, after=first.rows[-1]["name"])
    last = await lists.list_tags(conn, user_id=user_id, limit=2, after=rest.rows[-1]["name"])
    pages = [[(row["name"], row["task_count"]) for row in page.rows] for page in (first, rest, last)]
    assert pages == [[("apple", 1), ("b", 1)], [("zebra", 2), ("zoo", 1)], [("été", 1)]]
    assert (first.more, rest.more, last.more) == (True, True, False)


# --- Idempotency-Keys ---------------------------------------------------------------------------------------


async def create_with_key(
    database: Database, user_id: str, key: str, request_hash: str = "hash-a", *, locked: bool = False, **options: Any
) -> Any:
    """A keyed create on a connection of its own; under the user's row lock in a transaction when `locked`."""
    arguments: dict[str, Any] = {
        "user_id": user_id,
        "key": key,
        "request_hash": request_hash,
        "answer_location_prefix": f"/api/{user_id}/tasks/",
        "ttl_seconds": IDEMPOTENCY_KEY_TTL_SECONDS,
        "max_keys": options.get("max_keys", MAX_KEYS),
        "max_tasks": options.get("max_tasks", UNLIMITED),
        "title": options.get("title", "Buy milk"),
        "description": None,
    }
    manager = database.transaction() if locked else database.connection()
    async with manager as conn:
        return await keys.create_with_key(conn, locked=locked, **arguments)


@pytest.mark.parametrize("locked", [False, True], ids=["one-statement", "under-the-lock"])
async def test_a_keyed_create_inserts_and_counts_the_task_and_holds_the_key_with_its_answer(
    database: Database, conn: PoolConnectionProxy, user_id: str, locked: bool
) -> None:
    key = new_key()
    row = await create_with_key(database, user_id, key, locked=locked)
    assert isinstance(row, Record)
    assert await held_keys(conn, user_id) == {key}
    assert await task_counts(conn, user_id) == TaskCounts(counted=1, stored=1)
    earlier = await create_with_key(database, user_id, key)
    assert isinstance(earlier, EarlierRequest)
    assert earlier.request_hash == "hash-a"
    assert earlier.response is not None
    assert earlier.response["headers"] == {"Location": f"/api/{user_id}/tasks/{row['id']}", "ETag": '"1"'}
    assert earlier.response["task"]["id"] == row["id"]
    assert earlier.response["task"]["created_at"].endswith("Z")


async def test_a_used_key_stands_for_its_first_request_whatever_the_next_one_is(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    key = new_key()
    await create_with_key(database, user_id, key, "hash-a")
    first = await create_with_key(database, user_id, key, "hash-a")
    # A different request is told what the key already stands for; refusing it is the service's part.
    assert await create_with_key(database, user_id, key, "hash-b") == first
    assert await task_counts(conn, user_id) == TaskCounts(counted=1, stored=1)


async def test_keys_are_per_user(database: Database, user_id: str) -> None:
    key = new_key()
    await create_with_key(database, user_id, key, "hash-a")
    assert isinstance(await create_with_key(database, new_user_id(), key, "hash-b"), Record)


@pytest.mark.parametrize("locked", [False, True], ids=["one-statement", "under-the-lock"])
async def test_a_new_key_beyond_max_keys_is_refused_writing_nothing_but_a_held_key_still_answers(
    database: Database, conn: PoolConnectionProxy, user_id: str, locked: bool
) -> None:
    held = [new_key() for _ in range(MAX_KEYS)]
    for key in held:
        assert isinstance(await create_with_key(database, user_id, key), Record)
    assert await create_with_key(database, user_id, new_key(), locked=locked) == "key quota reached"
    assert await held_keys(conn, user_id) == set(held)
    assert await task_counts(conn, user_id) == TaskCounts(counted=MAX_KEYS, stored=MAX_KEYS)
    assert isinstance(await create_with_key(database, user_id, held[0], locked=locked), EarlierRequest)


@pytest.mark.parametrize("locked", [False, True], ids=["one-statement", "under-the-lock"])
async def test_a_create_beyond_the_task_quota_is_refused_writing_nothing(
    database: Database, conn: PoolConnectionProxy, user_id: str, locked: bool
) -> None:
    await create_with_key(database, user_id, new_key(), max_tasks=1)
    refused = await create_with_key(database, user_id, new_key(), max_tasks=1, locked=locked)
    assert refused == "task quota reached"
    assert len(await held_keys(conn, user_id)) == 1
    assert await task_counts(conn, user_id) == TaskCounts(counted=1, stored=1)


async def test_a_new_users_keyed_create_refused_by_a_zero_task_quota_writes_no_user(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    assert await create_with_key(database, user_id, new_key(), max_tasks=0) == "task quota reached"
    assert await task_counts(conn, user_id) == TaskCounts(counted=None, stored=0)


async def test_an_expired_key_is_used_afresh_and_counts_no_more(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    expired = [new_key() for _ in range(MAX_KEYS)]
    for key in expired:
        await create_with_key(database, user_id, key, "hash-a")
    await age_keys(conn, user_id, hours=25)
    assert isinstance(await create_with_key(database, user_id, expired[0], "hash-b"), Record)
    assert isinstance(await create_with_key(database, user_id, new_key(), "hash-b"), Record)
    assert expired[1] not in await held_keys(conn, user_id)


async def test_a_key_younger_than_its_time_to_live_still_stands(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    key = new_key()
    await create_with_key(database, user_id, key, "hash-a")
    await age_keys(conn, user_id, hours=23)
    earlier = await create_with_key(database, user_id, key, "hash-b")
    assert isinstance(earlier, EarlierRequest)
    assert earlier.request_hash == "hash-a"


async def test_a_keyed_create_whose_user_row_changed_after_its_snapshot_writes_nothing_and_says_contended(
    database: Database, conn: PoolConnectionProxy, user_id: str
) -> None:
    """The row lock of another create of the user is held while this one starts; once that one commits,
    this one's snapshot may miss its key, so it must not count keys with it."""
    await insert(conn, user_id, "first")
    async with database.transaction() as other:
        await insert(other, user_id, "another create, uncommitted")
        waiting = asyncio.create_task(create_with_key(database, user_id, new_key()))
        await until_waiting_on_locks(conn, 1)
    assert await waiting == "contended"
    assert await held_keys(conn, user_id) == set()
    assert await task_counts(conn, user_id) == TaskCounts(counted=2, stored=2)
