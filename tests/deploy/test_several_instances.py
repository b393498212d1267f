"""Several instances on one database: nothing depends on a request returning to the process that began it.

Three independent service processes (three uvicorn processes, each on its own port, not workers of
one) share the test PostgreSQL and trust one identity provider's JWKS, as instances behind a load
balancer share Neon and Better Auth. Each test's user sends its requests to them in turn (round-robin)
or names the instance. Whatever a process keeps for itself (verified tokens, the JWKS cache, the cursor
key once read, its pool) must give the same answers as the database would; these tests fail when it
does not. The SIGKILL test writes a summary to reports/instances-summary.txt.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support.concurrency import Request, send_at_once_to
from tests.support.database import query, user_row_locked
from tests.support.environments import REPORTS, jwks_env
from tests.support.idempotency_keys import held_keys
from tests.support.instances import Instances, SpreadUser
from tests.support.jwks import JwksServer, SigningKey
from tests.support.problems import assert_problem
from tests.support.quotas import KEY_QUOTA, TASK_QUOTA, assert_quota_reached, counts
from tests.support.tokens import claims_for
from tests.support.users import new_user_id

INSTANCES = 3
SUMMARY_PATH = REPORTS / "instances-summary.txt"


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    """The identity provider's key (Ed25519, as Better Auth signs by default)."""
    return SigningKey.ed25519("first")


@pytest.fixture(scope="module")
def identity_provider(signing_key: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer([signing_key])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def instances_env(database_url: str, identity_provider: JwksServer) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        **jwks_env(identity_provider.url),
        "JWKS_CACHE_SECONDS": "600",
        # Each process rate-limits its own refetches (tests/unit/auth/test_jwks_keys.py); here the question is
        # only whether each one refetches at all when a token names a key it has not seen.
        "JWKS_REFETCH_INTERVAL": "0",
    }


@pytest.fixture(scope="module")
def started_instances(instances_env: dict[str, str]) -> Iterator[Instances]:
    started = Instances(instances_env, INSTANCES, name="instances")
    yield started
    started.stop()


@pytest.fixture
def instances(started_instances: Instances) -> Instances:
    """All three serving: one a test killed is replaced before the next test needs it."""
    started_instances.replace_dead()
    return started_instances


def spread_user(instances: Instances, key: SigningKey, user_id: str | None = None) -> SpreadUser:
    user_id = user_id or new_user_id()
    return SpreadUser(user_id, key.token(claims_for(user_id, exp=int(time.time()) + 3600)), instances.urls)


@pytest.fixture
def user(instances: Instances, signing_key: SigningKey) -> Iterator[SpreadUser]:
    spread = spread_user(instances, signing_key)
    yield spread
    spread.close()


def page(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def keyed_create(user: SpreadUser, key: str, *, on: int | None = None, title: str = "Buy milk") -> httpx.Response:
    return user.request("POST", user.tasks_path, on=on, json={"title": title}, headers={"Idempotency-Key": key})


# ---------------------------------------------------------------------------------------------------
# Idempotency-Keys


def test_a_create_retried_on_another_instance_replays_the_first_answer(user: SpreadUser) -> None:
    key = str(uuid.uuid4())
    first = keyed_create(user, key, on=0)
    assert first.status_code == 201, first.text
    for retry in (keyed_create(user, key, on=1), keyed_create(user, key, on=2)):
        assert retry.status_code == 201, retry.text
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == first.json()
        assert (retry.headers["location"], retry.headers["etag"]) == (first.headers["location"], first.headers["etag"])
    assert [page(listed)["total"] for listed in user.on_each("GET", user.tasks_path)] == [1] * INSTANCES


def test_concurrent_first_uses_of_one_key_on_every_instance_create_exactly_one_task(
    instances: Instances, user: SpreadUser
) -> None:
    # A user never seen before: the instances also race to create the user's row (decision 0032).
    key, per_instance = str(uuid.uuid4()), 3
    create = ("POST", user.tasks_path, {"json": {"title": "Once"}, "headers": {**user.headers, "Idempotency-Key": key}})
    responses = send_at_once_to([(url, create) for url in instances.urls for _ in range(per_instance)])
    assert [response.status_code for response in responses] == [201] * len(responses), [r.text for r in responses]
    assert len({response.json()["id"] for response in responses}) == 1
    assert len({response.headers["etag"] for response in responses}) == 1
    replayed = Counter(response.headers.get("idempotent-replayed") for response in responses)
    assert replayed == {None: 1, "true": len(responses) - 1}
    assert [page(listed)["total"] for listed in user.on_each("GET", user.tasks_path)] == [1] * INSTANCES


# ---------------------------------------------------------------------------------------------------
# ETags


def test_an_etag_from_one_instance_is_honoured_and_enforced_by_the_others(user: SpreadUser) -> None:
    created = user.request("POST", user.tasks_path, on=0, json={"title": "Pay rent"})
    assert created.status_code == 201, created.text
    path, first_etag = created.headers["location"], created.headers["etag"]
    assert [got.headers["etag"] for got in user.on_each("GET", path)] == [first_etag] * INSTANCES

    updated = user.request("PATCH", path, on=1, json={"completed": True}, headers={"If-Match": first_etag})
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] != first_etag

    for stale in user.on_each("PATCH", path, json={"title": "Lost update"}, headers={"If-Match": first_etag}):
        assert_problem(stale, 412)
    final = user.request("GET", path, on=2)
    assert (final.json()["title"], final.json()["completed"]) == ("Pay rent", True)
    assert final.headers["etag"] == updated.headers["etag"]


# ---------------------------------------------------------------------------------------------------
# Cursors


@pytest.mark.parametrize("sort", ["created", "title"])
def test_a_cursor_from_one_instance_pages_on_the_others(user: SpreadUser, sort: str) -> None:
    for number in range(9):
        assert user.request("POST", user.tasks_path, json={"title": f"task {(number * 4) % 9}"}).status_code == 201
    whole = [task["id"] for task in page(user.request("GET", user.tasks_path, params={"sort": sort}))["items"]]

    paged: list[int] = []
    params: dict[str, Any] = {"sort": sort, "limit": 2}
    for number in range(len(whole)):
        # Page n comes from instance n % 3, with the cursor the previous instance sealed.
        listed = page(user.request("GET", user.tasks_path, on=number % INSTANCES, params=params))
        paged += [task["id"] for task in listed["items"]]
        if listed["next_cursor"] is None:
            break
        params["cursor"] = listed["next_cursor"]
    assert number >= INSTANCES, "every instance must have opened a cursor another one sealed"
    assert paged == whole
    assert len(set(paged)) == len(paged) == 9


# ---------------------------------------------------------------------------------------------------
# Counts


def test_tag_counts_and_totals_agree_on_every_instance_after_writes_spread_over_all(user: SpreadUser) -> None:
    tag_sets = [["home"], ["work"], ["home", "urgent"], ["work", "urgent"], []]
    ids = []
    for number in range(10):
        created = user.request("POST", user.tasks_path, json={"title": f"t{number}", "tags": tag_sets[number % 5]})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    for task_id in ids[:4]:
        assert user.request("PATCH", f"{user.task_path(task_id)}/complete").status_code == 200
    for task_id in (ids[3], ids[7]):
        assert user.request("DELETE", user.task_path(task_id)).status_code == 204

    kept = [number for number in range(10) if number not in (3, 7)]
    tag_counts = Counter(tag for number in kept for tag in tag_sets[number % 5])
    expected_tags = [{"name": name, "task_count": tag_counts[name]} for name in sorted(tag_counts)]
    expected_totals = {
        ("all", None): 8,
        ("completed", None): 3,
        ("pending", None): 5,
        ("all", "home"): tag_counts["home"],
        ("pending", "urgent"): sum(1 for number in kept if number >= 4 and "urgent" in tag_sets[number % 5]),
    }
    for index in range(INSTANCES):
        assert page(user.request("GET", f"/api/{user.id}/tags", on=index))["items"] == expected_tags
        for (status, tag), total in expected_totals.items():
            params = {"status": status, "limit": 1} | ({"tag": tag} if tag else {})
            assert page(user.request("GET", user.tasks_path, on=index, params=params))["total"] == total, params


# ---------------------------------------------------------------------------------------------------
# Quotas

MAX_TASKS = 6
MAX_KEYS = 2
RACERS = 12  # four per instance


@pytest.fixture(scope="module")
def quota_instances(instances_env: dict[str, str]) -> Iterator[Instances]:
    """Three more instances, with quotas small enough to reach in a few requests."""
    env = instances_env | {"MAX_TASKS_PER_USER": str(MAX_TASKS), "MAX_IDEMPOTENCY_KEYS_PER_USER": str(MAX_KEYS)}
    started = Instances(env, INSTANCES, name="quota-instances")
    yield started
    started.stop()


def racing_creates(user: SpreadUser, urls: list[str], *, keyed: bool) -> list[httpx.Response]:
    """RACERS creates of the user's at once, dealt to the instances in turn; with a new key each when keyed."""

    def create(number: int) -> Request:
        key = {"Idempotency-Key": str(uuid.uuid4())} if keyed else {}
        return ("POST", user.tasks_path, {"json": {"title": f"racer {number}"}, "headers": {**user.headers, **key}})

    return send_at_once_to([(urls[number % len(urls)], create(number)) for number in range(RACERS)])


def assert_only_the_room_passed(
    responses: list[httpx.Response], user: SpreadUser, *, room: int, problem: str, limit: int
) -> None:
    """`room` creates were created, each other one answered the quota's problem; no 500, no overshoot."""
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * room + [409] * (RACERS - room), [response.text for response in responses]
    for response in responses:
        if response.status_code == 409:
            assert_quota_reached(response, user, problem, limit)


def test_the_quotas_hold_across_instances_and_a_delete_on_one_frees_room_on_the_others(
    quota_instances: Instances, signing_key: SigningKey, database_url: str
) -> None:
    user = spread_user(quota_instances, signing_key)
    try:
        # New keys first: the key quota stops them, with room left under the task quota.
        keyed = racing_creates(user, quota_instances.urls, keyed=True)
        assert_only_the_room_passed(keyed, user, room=MAX_KEYS, problem=KEY_QUOTA, limit=MAX_KEYS)
        assert len(held_keys(database_url, user)) == MAX_KEYS
        # Then creates without keys fill the tasks' remaining room, and no more.
        unkeyed = racing_creates(user, quota_instances.urls, keyed=False)
        assert_only_the_room_passed(unkeyed, user, room=MAX_TASKS - MAX_KEYS, problem=TASK_QUOTA, limit=MAX_TASKS)
        assert counts(database_url, user) == (MAX_TASKS, MAX_TASKS)

        ids = [task["id"] for task in page(user.request("GET", user.tasks_path, on=0, params={"limit": 100}))["items"]]
        for deleting_on in range(INSTANCES):
            deleted = user.request("DELETE", user.task_path(ids[deleting_on]), on=deleting_on)
            assert deleted.status_code == 204, deleted.text
            in_its_place = user.request("POST", user.tasks_path, on=(deleting_on + 1) % INSTANCES, json={"title": "in"})
            assert in_its_place.status_code == 201, in_its_place.text
            one_too_many = user.request(
                "POST", user.tasks_path, on=(deleting_on + 2) % INSTANCES, json={"title": "out"}
            )
            assert_quota_reached(one_too_many, user, TASK_QUOTA, MAX_TASKS)
        assert counts(database_url, user) == (MAX_TASKS, MAX_TASKS)
        assert len(held_keys(database_url, user)) == MAX_KEYS
    finally:
        user.close()


# ---------------------------------------------------------------------------------------------------
# Key rotation


def test_a_rotated_in_signing_key_is_picked_up_by_every_instance(
    instances: Instances, identity_provider: JwksServer, user: SpreadUser
) -> None:
    # Every instance has cached the key set without the new key.
    assert [listed.status_code for listed in user.on_each("GET", user.tasks_path)] == [200] * INSTANCES
    new_key = SigningKey.ed25519()
    # The old key stays published beside it, as Better Auth keeps its earlier keys.
    identity_provider.publish(new_key)
    fetches = identity_provider.fetches()

    rotated = spread_user(instances, new_key, user.id)
    try:
        answers = rotated.on_each("GET", user.tasks_path)
    finally:
        rotated.close()
    assert [answer.status_code for answer in answers] == [200] * INSTANCES, [answer.text for answer in answers]
    assert identity_provider.fetches() == fetches + INSTANCES, "each instance refetches once, on the unknown kid"


# ---------------------------------------------------------------------------------------------------
# SIGKILL under write load

WRITERS = 6
LOAD_BEFORE_SECONDS = 1.0
LOAD_AFTER_SECONDS = 1.5
ATTEMPTS_PER_CREATE = 6
VICTIM = 2


@dataclass
class Attempt:
    instance: int
    started: float
    status: int | None
    error: str | None = None


@dataclass
class Writer:
    """One client creating its user's tasks with Idempotency-Keys, retrying each on the next instance."""

    user: SpreadUser
    intended: list[str] = field(default_factory=list)
    acknowledged: dict[int, str] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    replayed: int = 0

    def write_until(self, stop: threading.Event) -> None:
        while not stop.is_set():
            title = f"{self.user.id} #{len(self.intended)}"
            self.intended.append(title)
            self.create(title, str(uuid.uuid4()))

    def create(self, title: str, key: str) -> None:
        """Send the create until an instance answers, as a client behind a load balancer retries."""
        for _ in range(ATTEMPTS_PER_CREATE):
            instance, started = self.user.next_instance(), time.monotonic()
            try:
                response = keyed_create(self.user, key, on=instance, title=title)
            except httpx.TransportError as error:
                self.attempts.append(Attempt(instance, started, None, type(error).__name__))
                continue
            self.attempts.append(Attempt(instance, started, response.status_code))
            assert response.status_code == 201, response.text
            self.acknowledged[response.json()["id"]] = title
            self.replayed += response.headers.get("idempotent-replayed") == "true"
            return
        raise AssertionError(f"{title}: no instance answered in {ATTEMPTS_PER_CREATE} attempts")


def send_or_fail(user: SpreadUser, key: str, on: int) -> httpx.Response | httpx.TransportError:
    try:
        return keyed_create(user, key, on=on, title="held")
    except httpx.TransportError as error:
        return error


async def test_an_instance_killed_under_write_load_loses_nothing_it_acknowledged(
    instances: Instances, signing_key: SigningKey, database_url: str
) -> None:
    writers = [Writer(spread_user(instances, signing_key)) for _ in range(WRITERS)]
    held = spread_user(instances, signing_key)
    assert held.request("POST", held.tasks_path, on=0, json={"title": "first"}).status_code == 201
    held_key, stop = str(uuid.uuid4()), threading.Event()
    try:
        with ThreadPoolExecutor(WRITERS + 1) as pool:
            loads = [pool.submit(writer.write_until, stop) for writer in writers]
            try:
                await asyncio.sleep(LOAD_BEFORE_SECONDS)
                async with user_row_locked(database_url, held.id) as lock:
                    # A keyed create provably inside the victim's transaction when it dies.
                    in_flight = pool.submit(send_or_fail, held, held_key, VICTIM)
                    await lock.until_the_request_waits(in_flight)
                    instances.kill(VICTIM)
                    killed_at = time.monotonic()
                    died = await asyncio.wrap_future(in_flight)
                await asyncio.sleep(LOAD_AFTER_SECONDS)
            finally:
                stop.set()
            for load in loads:
                load.result()
        survivors = [index for index in range(INSTANCES) if index != VICTIM]
        retries = [keyed_create(held, held_key, on=index, title="held") for index in survivors]
    finally:
        for client in (held, *(writer.user for writer in writers)):
            client.close()

    users = [writer.user.id for writer in writers]
    rows = await asyncio.to_thread(
        query, database_url, "SELECT id, title FROM tasks WHERE user_id = ANY($1::text[])", users
    )
    stored = {row["id"]: row["title"] for row in rows}
    held_titles = await asyncio.to_thread(
        query, database_url, "SELECT title FROM tasks WHERE user_id = $1 ORDER BY id", held.id
    )
    attempts = [attempt for writer in writers for attempt in writer.attempts]
    at_survivors = [attempt for attempt in attempts if attempt.instance != VICTIM]
    at_victim = [attempt for attempt in attempts if attempt.instance == VICTIM]
    acknowledged = {task_id: title for writer in writers for task_id, title in writer.acknowledged.items()}
    intended = sorted(title for writer in writers for title in writer.intended)
    summary = (
        f"instances: {WRITERS} writers over {INSTANCES} instances, instance {VICTIM} killed (SIGKILL) after "
        f"{LOAD_BEFORE_SECONDS:.1f} s: {len(attempts)} creates sent, {len(acknowledged)} acknowledged, "
        f"{sum(writer.replayed for writer in writers)} of them replays; survivors answered "
        f"{dict(Counter(attempt.status for attempt in at_survivors))}, "
        f"{sum(attempt.started > killed_at for attempt in at_survivors)} after the kill; the victim "
        f"{dict(Counter(attempt.status or attempt.error for attempt in at_victim))}"
    )
    print(summary)
    SUMMARY_PATH.write_text(summary + "\n")

    assert isinstance(died, httpx.TransportError), "the held create must have died with its instance"
    assert [retry.status_code for retry in retries] == [201, 201], [retry.text for retry in retries]
    assert retries[0].json() == retries[1].json()
    assert [row["title"] for row in held_titles] == ["first", "held"], "the retried create exists exactly once"

    assert set(acknowledged.items()) <= set(stored.items()), "every acknowledged create is stored"
    assert sorted(stored.values()) == intended, "every create exists exactly once"

    assert all(attempt.status == 201 for attempt in at_survivors), "the others kept serving"
    assert any(attempt.started > killed_at for attempt in at_survivors), "load must have continued after the kill"
    assert all(attempt.status in (201, None) for attempt in at_victim)
    assert all(attempt.status is None for attempt in at_victim if attempt.started > killed_at)
    assert any(attempt.error for attempt in at_victim), "the writers must have felt the kill"
