"""Idempotency-Key on create: a retry with the same key and body gets the first answer, never a second task."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.concurrency import send_at_once
from tests.support.database import plain_dsn
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.problems import assert_problem
from tests.support.users import User

BODY = {"title": "Buy milk", "description": "Two litres"}


def new_key() -> str:
    return str(uuid.uuid4())


def create(user: User, key: str | bytes, body: Any = None, **kwargs: Any) -> httpx.Response:
    if body is None and "content" not in kwargs:
        body = BODY
    headers = {"Idempotency-Key": key, **kwargs.pop("headers", {})}
    return user.request("POST", user.tasks_path, json=body, headers=headers, **kwargs)


def total(user: User) -> int:
    count: int = user.request("GET", user.tasks_path).json()["total"]
    return count


def assert_key_invalid(response: httpx.Response, message: str | None = None) -> None:
    body = assert_problem(response, 422, title="Unprocessable Content", problem_type="about:blank")
    assert [error["parameter"] for error in body["errors"]] == ["Idempotency-Key"]
    if message is not None:
        assert body["errors"][0]["message"] == message


def shift_key_age(database_url: str, user_id: str, key: str, hours: float) -> None:
    """Move the key's creation back in time, as if it had been stored `hours` earlier."""

    async def shift() -> None:
        conn = await asyncpg.connect(plain_dsn(database_url))
        try:
            status = await conn.execute(
                "UPDATE idempotency_keys SET created_at = created_at - make_interval(hours => $3)"
                " WHERE user_id = $1 AND key = $2",
                user_id,
                key,
                hours,
            )
            assert status == "UPDATE 1", status
        finally:
            await conn.close()

    asyncio.run(shift())


def test_the_first_answer_is_a_plain_201(alice: User) -> None:
    response = create(alice, new_key())
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers
    assert response.headers["location"] == alice.task_path(response.json()["id"])


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(alice: User) -> None:
    key = new_key()
    first = create(alice, key)
    retry = create(alice, key)
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["content-type"] == "application/json"


def test_a_retry_creates_no_second_task(alice: User) -> None:
    key = new_key()
    for _ in range(5):
        assert create(alice, key).status_code == 201
    assert total(alice) == 1


def test_the_same_key_with_a_different_body_is_422_and_creates_nothing(alice: User) -> None:
    key = new_key()
    first = create(alice, key, {"title": "Buy milk"})
    response = create(alice, key, {"title": "Buy bread"})
    assert_key_invalid(response, "Already used with a different request body")
    assert "Buy milk" not in response.text
    assert total(alice) == 1
    assert alice.request("GET", alice.tasks_path).json()["items"] == [first.json()]


@pytest.mark.parametrize(
    "other",
    [
        {"title": "Buy milk", "description": "Three litres"},
        {"title": "Buy milk", "description": None},
        {"title": "Buy milk"},
        {"title": "Buy milk "},
        {**BODY, "priority": "high"},
        {**BODY, "due_at": "2026-12-01T00:00:00Z"},
        {**BODY, "tags": ["home"]},
    ],
)
def test_any_change_of_the_body_counts_as_a_different_body(alice: User, other: dict[str, Any]) -> None:
    key = new_key()
    create(alice, key, {"title": "Buy milk", "description": "Two litres"})
    assert_key_invalid(create(alice, key, other))
    assert total(alice) == 1


def test_the_key_still_replays_after_a_rejected_different_body(alice: User) -> None:
    key = new_key()
    first = create(alice, key)
    create(alice, key, {"title": "Something else"})
    retry = create(alice, key)
    assert retry.status_code == 201
    assert retry.json() == first.json()


@pytest.mark.parametrize(
    ("first", "retry"),
    [
        ('{"title": "Buy milk", "description": "Two litres"}', '{"description": "Two litres", "title": "Buy milk"}'),
        ('{"title": "Buy milk"}', '{"title": "Buy milk", "description": null}'),
        ('{"title": "Buy milk", "description": null}', '{"title":"Buy milk"}'),
        ('{"title": "Buy milk"}', '\n {\n  "title" : "Buy milk"\n }\n'),
        ('{"title": "Caf\\u00e9"}', '{"title": "Café"}'),
        ('{"title": "Buy milk"}', '{"title": "Buy milk", "priority": "medium", "due_at": null, "tags": []}'),
        ('{"title": "Buy milk", "tags": ["Home"]}', '{"title": "Buy milk", "tags": ["home"]}'),
        (
            '{"title": "Buy milk", "due_at": "2026-12-01T09:30:00+01:00"}',
            '{"title": "Buy milk", "due_at": "2026-12-01T08:30:00Z"}',
        ),
    ],
)
def test_the_spelling_of_the_body_does_not_matter(alice: User, first: str, retry: str) -> None:
    key = new_key()
    headers = {"Content-Type": "application/json"}
    original = create(alice, key, content=first.encode(), headers=headers)
    replayed = create(alice, key, content=retry.encode(), headers=headers)
    assert (original.status_code, replayed.status_code) == (201, 201), replayed.text
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == original.json()
    assert total(alice) == 1


def test_a_replay_repeats_the_first_answer_even_after_the_task_changed(alice: User) -> None:
    key = new_key()
    first = create(alice, key)
    alice.request("PATCH", first.headers["location"], json={"completed": True})
    retry = create(alice, key)
    assert retry.json() == first.json()
    assert retry.headers["etag"] == first.headers["etag"]
    assert total(alice) == 1


def test_different_keys_create_different_tasks(alice: User) -> None:
    first = create(alice, new_key())
    second = create(alice, new_key())
    assert first.json()["id"] != second.json()["id"]
    assert "idempotent-replayed" not in second.headers
    assert total(alice) == 2


def test_without_a_key_every_create_makes_a_task(alice: User) -> None:
    for _ in range(3):
        alice.create("Buy milk")
    assert total(alice) == 3


def test_keys_are_per_user(alice: User, bob: User) -> None:
    key = new_key()
    alices = create(alice, key, {"title": "Alice's"})
    bobs = create(bob, key, {"title": "Bob's"})
    assert bobs.status_code == 201
    assert "idempotent-replayed" not in bobs.headers
    assert bobs.json()["id"] != alices.json()["id"]
    assert bobs.json()["title"] == "Bob's"
    assert bobs.headers["location"] == bob.task_path(bobs.json()["id"])
    assert (total(alice), total(bob)) == (1, 1)


def test_the_same_key_and_body_for_another_user_is_their_own_task(alice: User, bob: User) -> None:
    key = new_key()
    alices = create(alice, key)
    bobs = create(bob, key)
    assert bobs.status_code == 201
    assert "idempotent-replayed" not in bobs.headers
    assert bobs.json()["id"] != alices.json()["id"]
    assert create(bob, key).json() == bobs.json()
    assert create(alice, key).json() == alices.json()


def test_a_request_rejected_for_its_body_does_not_use_up_the_key(alice: User) -> None:
    key = new_key()
    assert create(alice, key, {"title": ""}).status_code == 422
    response = create(alice, key, {"title": "Valid now"})
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


def test_a_key_sent_without_a_valid_token_is_not_used_up(alice: User, http: httpx.Client) -> None:
    key = new_key()
    anonymous = http.post(alice.tasks_path, json={"title": "Sneaky"}, headers={"Idempotency-Key": key})
    assert anonymous.status_code == 401
    response = create(alice, key)
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


CONCURRENT_RETRIES = 10


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_creates_with_the_same_key_make_exactly_one_task(
    alice: User, server: LiveServer, round_: int
) -> None:
    key = new_key()
    create = (
        "POST",
        alice.tasks_path,
        {"json": {"title": "Once"}, "headers": {**alice.headers, "Idempotency-Key": key}},
    )
    responses = send_at_once(server.url, [create] * CONCURRENT_RETRIES)
    assert [response.status_code for response in responses] == [201] * CONCURRENT_RETRIES
    assert len({response.json()["id"] for response in responses}) == 1
    assert len({response.headers["etag"] for response in responses}) == 1
    replayed = [response.headers.get("idempotent-replayed") for response in responses]
    assert replayed.count(None) == 1
    assert replayed.count("true") == CONCURRENT_RETRIES - 1
    assert total(alice) == 1


def test_concurrent_creates_with_one_key_and_different_bodies_make_one_task(alice: User, server: LiveServer) -> None:
    key = new_key()
    barrier = threading.Barrier(CONCURRENT_RETRIES)
    statuses: list[int] = [0] * CONCURRENT_RETRIES

    def send(index: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.get("/healthz")
            barrier.wait()
            response = client.post(
                alice.tasks_path, json={"title": f"body {index}"}, headers={**alice.headers, "Idempotency-Key": key}
            )
        statuses[index] = response.status_code

    threads = [threading.Thread(target=send, args=(index,)) for index in range(CONCURRENT_RETRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201] + [422] * (CONCURRENT_RETRIES - 1), statuses
    [task] = alice.request("GET", alice.tasks_path).json()["items"]
    assert task["title"] == f"body {statuses.index(201)}"


def test_a_key_younger_than_24_hours_still_replays(alice: User, database_url: str) -> None:
    key = new_key()
    first = create(alice, key)
    shift_key_age(database_url, alice.id, key, hours=23)
    retry = create(alice, key)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert total(alice) == 1


def test_an_expired_key_creates_a_new_task(alice: User, database_url: str) -> None:
    key = new_key()
    first = create(alice, key)
    shift_key_age(database_url, alice.id, key, hours=25)
    fresh = create(alice, key)
    assert fresh.status_code == 201
    assert "idempotent-replayed" not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]
    assert total(alice) == 2
    replay = create(alice, key)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == fresh.json()


def test_an_expired_key_may_be_reused_with_another_body(alice: User, database_url: str) -> None:
    key = new_key()
    create(alice, key, {"title": "First"})
    shift_key_age(database_url, alice.id, key, hours=25)
    response = create(alice, key, {"title": "Second"})
    assert response.status_code == 201
    assert response.json()["title"] == "Second"


def test_the_key_is_honoured_by_another_server_process(alice: User, database_url: str) -> None:
    key = new_key()
    first = create(alice, key)
    other = LiveServer(shared_secret_env(database_url), log_path=REPORTS / "server-idempotency-restart.log")
    try:
        with httpx.Client(base_url=other.url, timeout=10) as client:
            retry = User(alice.id, client).request(
                "POST", alice.tasks_path, json=BODY, headers={"Idempotency-Key": key}
            )
    finally:
        other.stop()
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert total(alice) == 1


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("k" * 256, id="256-chars"),
        pytest.param("with space", id="inner-space"),
        pytest.param("tab\there", id="inner-tab"),
        pytest.param("clé".encode(), id="non-ascii-utf8"),
        pytest.param("ключ".encode(), id="cyrillic"),
    ],
)
def test_a_key_outside_the_contract_is_422_and_creates_nothing(alice: User, key: str | bytes) -> None:
    assert_key_invalid(create(alice, key))
    assert total(alice) == 0


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("k" * 255, id="255-chars"),
        pytest.param("!", id="one-char"),
        pytest.param("~!#$%&'()*+,-./:;<=>?@[\\]^_`{|}", id="punctuation"),
    ],
)
def test_a_key_of_1_to_255_visible_ascii_characters_is_accepted(alice: User, key: str) -> None:
    first = create(alice, key)
    assert first.status_code == 201, first.text
    assert create(alice, key).json() == first.json()
    assert total(alice) == 1


def test_an_answer_stored_before_priority_due_dates_and_tags_replays_with_their_defaults(
    alice: User, database_url: str
) -> None:
    """A key stored by a 1.1.0 service (its fingerprint and answer lack the new fields) still replays."""
    key = new_key()
    task = alice.create(**BODY)
    old_answer = {
        "task": {name: task[name] for name in ("id", "title", "description", "completed", "created_at", "updated_at")},
        "headers": {"Location": alice.task_path(task["id"]), "ETag": '"1"'},
    }
    old_fingerprint = hashlib.sha256(json.dumps(BODY, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    async def store() -> None:
        conn = await asyncpg.connect(plain_dsn(database_url))
        try:
            await conn.execute(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, response) VALUES ($1, $2, $3, $4::jsonb)",
                alice.id,
                key,
                old_fingerprint,
                json.dumps(old_answer),
            )
        finally:
            await conn.close()

    asyncio.run(store())
    replayed = create(alice, key)
    assert (replayed.status_code, replayed.headers["idempotent-replayed"]) == (201, "true")
    assert replayed.json() == task
    assert total(alice) == 1
