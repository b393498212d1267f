"""Quotas: the tasks a user may have and the unexpired Idempotency-Keys a user may hold are bounded.

The service runs here with tiny quotas (3 tasks, 2 keys) in two worker processes, so that "never
more than the quota" is checked across processes, not only across one process's coroutines.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.concurrency import Request, send_at_once
from tests.support.database import plain_dsn, query
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.idempotency_keys import age_keys, held_keys
from tests.support.quotas import KEY_QUOTA, TASK_QUOTA, assert_quota_reached, counts
from tests.support.users import User, new_user_id

MAX_TASKS = 3
MAX_KEYS = 2
CONCURRENT = 12


@pytest.fixture(scope="module")
def quota_server(database_url: str) -> Iterator[LiveServer]:
    env = shared_secret_env(database_url) | {
        "MAX_TASKS_PER_USER": str(MAX_TASKS),
        "MAX_IDEMPOTENCY_KEYS_PER_USER": str(MAX_KEYS),
    }
    live = LiveServer(env, log_path=REPORTS / "server-quotas.log", workers=2)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def quota_http(quota_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=quota_server.url, timeout=10) as client:
        yield client


@pytest.fixture
def carol(quota_http: httpx.Client) -> User:
    return User(new_user_id(), quota_http)


@pytest.fixture
def dave(quota_http: httpx.Client) -> User:
    return User(new_user_id(), quota_http)


def new_key() -> str:
    return str(uuid.uuid4())


def create(user: User, title: str = "Buy milk", *, key: str | None = None) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return user.request("POST", user.tasks_path, json={"title": title}, headers=headers)


def fill(user: User, count: int = MAX_TASKS) -> list[int]:
    return [user.create(f"task {index}")["id"] for index in range(count)]


def titles(user: User) -> list[str]:
    return sorted(task["title"] for task in user.request("GET", user.tasks_path, params={"limit": 100}).json()["items"])


# --- The task quota ----------------------------------------------------------------------------------


def test_a_create_beyond_the_task_quota_is_409_with_the_task_quota_type(carol: User) -> None:
    fill(carol)
    assert_quota_reached(create(carol), carol, TASK_QUOTA, MAX_TASKS)


def test_a_create_refused_for_the_task_quota_writes_nothing(carol: User, database_url: str) -> None:
    fill(carol)
    before = titles(carol)
    assert create(carol, "one too many").status_code == 409
    assert titles(carol) == before
    assert counts(database_url, carol) == (MAX_TASKS, MAX_TASKS)


def test_deleting_a_task_frees_its_place(carol: User, database_url: str) -> None:
    ids = fill(carol)
    assert carol.request("DELETE", carol.task_path(ids[0])).status_code == 204
    assert create(carol, "in its place").status_code == 201
    assert create(carol).status_code == 409
    assert counts(database_url, carol) == (MAX_TASKS, MAX_TASKS)


def test_a_delete_that_deletes_nothing_frees_no_place(carol: User, database_url: str) -> None:
    ids = fill(carol)
    assert carol.request("DELETE", carol.task_path(987_654_321)).status_code == 404
    assert carol.request("DELETE", carol.task_path(ids[0]), headers={"If-Match": '"999"'}).status_code == 412
    assert carol.request("DELETE", carol.task_path(ids[1])).status_code == 204
    assert carol.request("DELETE", carol.task_path(ids[1])).status_code == 404
    assert create(carol).status_code == 201
    assert create(carol).status_code == 409
    assert counts(database_url, carol) == (MAX_TASKS, MAX_TASKS)


def test_the_task_quota_is_per_user(carol: User, dave: User) -> None:
    fill(carol)
    fill(dave)
    assert create(dave).status_code == 409
    assert create(carol).status_code == 409
    assert len(titles(dave)) == MAX_TASKS


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_creates_never_pass_the_task_quota(
    quota_server: LiveServer, carol: User, database_url: str, round_: int
) -> None:
    headers = carol.headers
    creates = [
        ("POST", carol.tasks_path, {"json": {"title": f"racer {i}"}, "headers": headers}) for i in range(CONCURRENT)
    ]
    responses = send_at_once(quota_server.url, creates)
    assert sorted(response.status_code for response in responses) == [201] * MAX_TASKS + [409] * (
        CONCURRENT - MAX_TASKS
    )
    for response in responses:
        if response.status_code == 409:
            assert_quota_reached(response, carol, TASK_QUOTA, MAX_TASKS)
    assert counts(database_url, carol) == (MAX_TASKS, MAX_TASKS)


def test_concurrent_creates_and_deletes_keep_the_count_exact(
    quota_server: LiveServer, carol: User, database_url: str
) -> None:
    ids = fill(carol)
    headers = carol.headers
    deletes = [("DELETE", carol.task_path(task_id), {"headers": headers}) for task_id in ids * 2]
    creates = [("POST", carol.tasks_path, {"json": {"title": "racer"}, "headers": headers})] * 6
    responses = send_at_once(quota_server.url, deletes + creates)
    statuses = [response.status_code for response in responses]
    assert sorted(statuses[: len(deletes)]) == [204] * MAX_TASKS + [404] * MAX_TASKS
    assert set(statuses[len(deletes) :]) <= {201, 409}
    task_count, tasks = counts(database_url, carol)
    assert task_count == tasks == statuses.count(201) <= MAX_TASKS


# --- The Idempotency-Key quota --------------------------------------------------------------------------


def test_a_new_key_beyond_the_key_quota_is_409_with_the_key_quota_type(carol: User) -> None:
    for _ in range(MAX_KEYS):
        assert create(carol, key=new_key()).status_code == 201
    assert_quota_reached(create(carol, key=new_key()), carol, KEY_QUOTA, MAX_KEYS)
    assert len(titles(carol)) == MAX_KEYS


def test_a_create_without_a_key_still_works_at_the_key_quota(carol: User) -> None:
    for _ in range(MAX_KEYS):
        create(carol, key=new_key())
    assert create(carol).status_code == 201


def test_a_key_refused_for_the_key_quota_stays_unused(carol: User, database_url: str) -> None:
    held = {new_key() for _ in range(MAX_KEYS)}
    for key in held:
        create(carol, key=key)
    refused = new_key()
    assert create(carol, "refused", key=refused).status_code == 409
    assert held_keys(database_url, carol) == held
    age_keys(database_url, carol, hours=25)
    response = create(carol, "refused", key=refused)
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


def test_a_retry_with_a_held_key_is_replayed_at_the_key_quota(carol: User) -> None:
    keys = [new_key() for _ in range(MAX_KEYS)]
    first = create(carol, key=keys[0])
    create(carol, key=keys[1])
    retry = create(carol, key=keys[0])
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()


def test_a_retry_with_a_held_key_is_replayed_at_the_task_quota(carol: User) -> None:
    key = new_key()
    first = create(carol, key=key)
    fill(carol, MAX_TASKS - 1)
    retry = create(carol, key=key)
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()


def test_a_keyed_create_refused_for_the_task_quota_leaves_the_key_unused(carol: User, database_url: str) -> None:
    ids = fill(carol)
    key = new_key()
    assert_quota_reached(create(carol, key=key), carol, TASK_QUOTA, MAX_TASKS)
    assert held_keys(database_url, carol) == set()
    carol.request("DELETE", carol.task_path(ids[0]))
    response = create(carol, key=key)
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


def test_expired_keys_do_not_count_toward_the_key_quota(carol: User, database_url: str) -> None:
    for _ in range(MAX_KEYS):
        create(carol, key=new_key())
    age_keys(database_url, carol, hours=25)
    assert create(carol, key=new_key()).status_code == 201


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_creates_with_new_keys_never_pass_the_key_quota(
    quota_server: LiveServer, carol: User, database_url: str, round_: int
) -> None:
    creates = [
        ("POST", carol.tasks_path, {"json": {"title": "keyed"}, "headers": {**carol.headers, "Idempotency-Key": key}})
        for key in [new_key() for _ in range(CONCURRENT)]
    ]
    responses = send_at_once(quota_server.url, creates)
    assert sorted(response.status_code for response in responses) == [201] * MAX_KEYS + [409] * (CONCURRENT - MAX_KEYS)
    for response in responses:
        if response.status_code == 409:
            assert_quota_reached(response, carol, KEY_QUOTA, MAX_KEYS)
    assert len(held_keys(database_url, carol)) == MAX_KEYS
    assert counts(database_url, carol) == (MAX_KEYS, MAX_KEYS)


# --- A brand-new user: the first creates also create the user's row (decision 0032) -----------------


def has_no_row(database_url: str, user: User) -> bool:
    return not query(database_url, "SELECT 1 FROM users WHERE id = $1", user.id)


def first_creates(user: User, *, keyed: bool, count: int = CONCURRENT) -> list[Request]:
    def headers() -> dict[str, str]:
        return {**user.headers, "Idempotency-Key": new_key()} if keyed else user.headers

    return [("POST", user.tasks_path, {"json": {"title": f"first {i}"}, "headers": headers()}) for i in range(count)]


def test_concurrent_first_creates_of_a_new_user_give_exactly_the_task_quota(
    quota_server: LiveServer, carol: User, database_url: str
) -> None:
    assert has_no_row(database_url, carol)
    responses = send_at_once(quota_server.url, first_creates(carol, keyed=False))
    assert sorted(r.status_code for r in responses) == [201] * MAX_TASKS + [409] * (CONCURRENT - MAX_TASKS)
    assert counts(database_url, carol) == (MAX_TASKS, MAX_TASKS)


def test_concurrent_first_keyed_creates_of_a_new_user_give_exactly_the_key_quota(
    quota_server: LiveServer, carol: User, database_url: str
) -> None:
    assert has_no_row(database_url, carol)
    responses = send_at_once(quota_server.url, first_creates(carol, keyed=True))
    assert sorted(r.status_code for r in responses) == [201] * MAX_KEYS + [409] * (CONCURRENT - MAX_KEYS)
    for response in responses:
        if response.status_code == 409:
            assert_quota_reached(response, carol, KEY_QUOTA, MAX_KEYS)
    assert len(held_keys(database_url, carol)) == MAX_KEYS
    assert counts(database_url, carol) == (MAX_KEYS, MAX_KEYS)


def test_concurrent_first_creates_with_and_without_keys_keep_both_quotas(
    quota_server: LiveServer, carol: User, database_url: str
) -> None:
    half = CONCURRENT // 2
    assert has_no_row(database_url, carol)
    responses = send_at_once(
        quota_server.url, first_creates(carol, keyed=True, count=half) + first_creates(carol, keyed=False, count=half)
    )
    statuses = [response.status_code for response in responses]
    assert set(statuses) == {201, 409}
    assert statuses.count(201) == MAX_TASKS  # six unkeyed creates alone would fill the task quota
    assert statuses[:half].count(201) == len(held_keys(database_url, carol)) <= MAX_KEYS
    assert counts(database_url, carol) == (MAX_TASKS, MAX_TASKS)


@pytest.mark.parametrize("keyed", [False, True], ids=["without-keys", "with-keys"])
def test_first_creates_waiting_on_an_uncommitted_user_row_give_exactly_the_quota(
    quota_server: LiveServer, carol: User, database_url: str, keyed: bool
) -> None:
    # Another transaction inserts the user's row and holds it uncommitted: every create waits on it
    # inside PostgreSQL. Rolled back, the row is gone again, and the waiting creates race to create it.
    quota = MAX_KEYS if keyed else MAX_TASKS

    async def scenario() -> list[httpx.Response]:
        blocker = await asyncpg.connect(plain_dsn(database_url))
        try:
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("INSERT INTO users (id) VALUES ($1)", carol.id)
            sent = asyncio.create_task(
                asyncio.to_thread(send_at_once, quota_server.url, first_creates(carol, keyed=keyed))
            )
            await until_lock_waiters(blocker, at_least=2)
            await transaction.rollback()
            return await sent
        finally:
            await blocker.close()

    responses = asyncio.run(scenario())
    assert sorted(r.status_code for r in responses) == [201] * quota + [409] * (CONCURRENT - quota)
    assert counts(database_url, carol) == (quota, quota)
    assert len(held_keys(database_url, carol)) == (quota if keyed else 0)


LOCK_WAITERS = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"


async def until_lock_waiters(conn: asyncpg.Connection, *, at_least: int) -> None:
    """Return once `at_least` backends wait on a lock, and the rest of the requests had time to join them."""
    async with asyncio.timeout(10):
        # Polling: PostgreSQL offers no event for "a backend started waiting on a lock".
        while await conn.fetchval(LOCK_WAITERS) < at_least:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
