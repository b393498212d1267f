"""Expired Idempotency-Keys of every user are purged in the background, without waiting for their next create.

Each process of the service purges every IDEMPOTENCY_PURGE_INTERVAL_SECONDS (0.3 s here), one at a
time across processes, and only after requests used the database since its last purge.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from devtools import embedded_db, migrate
from devtools.live_server import LiveServer
from tests.support.database import fresh_database, plain_dsn, query
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.idempotency_keys import age_keys, held_keys
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import User, new_user_id
from tests.support.waiting import wait_until

PURGE_INTERVAL = 0.3


def purge_env(database_url: str, **more: str) -> dict[str, str]:
    return shared_secret_env(database_url) | {"IDEMPOTENCY_PURGE_INTERVAL_SECONDS": str(PURGE_INTERVAL), **more}


@pytest.fixture(scope="module")
def purging_http(database_url: str) -> Iterator[httpx.Client]:
    """Two worker processes, both purging the shared test database."""
    live = LiveServer(purge_env(database_url), log_path=REPORTS / "server-purge.log", workers=2)
    with httpx.Client(base_url=live.url, timeout=10) as client:
        yield client
    live.stop()


def new_key() -> str:
    return str(uuid.uuid4())


def create_with_key(user: User, key: str) -> None:
    response = user.request("POST", user.tasks_path, json={"title": "Buy milk"}, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text


def test_expired_keys_of_every_user_are_purged_without_waiting_for_their_next_create(
    database_url: str, purging_http: httpx.Client
) -> None:
    carol, dave = User(new_user_id(), purging_http), User(new_user_id(), purging_http)
    for user in (carol, dave):
        create_with_key(user, new_key())
        age_keys(database_url, user, hours=25)
    fresh = new_key()
    create_with_key(dave, fresh)
    someone_else = User(new_user_id(), purging_http)

    def used() -> None:  # the service is in use, by somebody else, reading only
        someone_else.request("GET", someone_else.tasks_path)

    assert wait_until(
        lambda: not held_keys(database_url, carol), seconds=20 * PURGE_INTERVAL, interval=PURGE_INTERVAL / 3, poke=used
    )
    assert held_keys(database_url, dave) == {fresh}


@pytest.fixture
def own_database(postgres: embedded_db.PostgresServer) -> Iterator[str]:
    """A database of the test's own: its connections and its locks are the test's service's alone."""
    url = fresh_database(postgres, "tasks_purge")
    migrate.upgrade(url)
    yield url
    embedded_db.drop_database(postgres, f"tasks_purge_{os.getpid()}")


def store_expired_key(database_url: str, user_id: str) -> None:
    query(database_url, "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING", user_id)
    query(
        database_url,
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)"
        " VALUES ($1, $2, 'x', now() - interval '25 hours')",
        user_id,
        new_key(),
    )


def stored_keys(database_url: str) -> int:
    return int(query(database_url, "SELECT count(*) FROM idempotency_keys")[0][0])


def other_connections(database_url: str) -> int:
    return int(
        query(
            database_url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )[0][0]
    )


def test_an_idle_service_never_wakes_the_database_to_purge(own_database: str) -> None:
    store_expired_key(own_database, "idle_user")
    live = LiveServer(purge_env(own_database), log_path=REPORTS / "server-purge-idle.log")
    try:
        time.sleep(10 * PURGE_INTERVAL)
        assert stored_keys(own_database) == 1
        assert other_connections(own_database) == 0
        with httpx.Client(base_url=live.url, timeout=10) as client:
            user = User(new_user_id(), client)
            assert user.request("GET", user.tasks_path).status_code == 200
        assert wait_until(
            lambda: stored_keys(own_database) == 0, seconds=20 * PURGE_INTERVAL, interval=PURGE_INTERVAL / 3
        )
    finally:
        live.stop()


def test_the_purge_survives_a_database_that_fails_it_and_purges_once_it_answers(own_database: str) -> None:
    env = purge_env(own_database, DB_COMMAND_TIMEOUT="1")
    log_path = REPORTS / "server-purge-failing.log"
    live = LiveServer(env, log_path=log_path)

    async def scenario(client: httpx.AsyncClient) -> None:
        user_id = new_user_id()
        path, headers = f"/api/{user_id}/tasks", bearer(shared_secret_token(user_id))
        blocker = await asyncpg.connect(plain_dsn(own_database))
        try:
            async with blocker.transaction():
                # Every purge now waits on the table until its statement times out.
                await blocker.execute("LOCK TABLE idempotency_keys IN ACCESS EXCLUSIVE MODE")
                deadline = time.monotonic() + 30
                while "purging expired idempotency keys failed" not in log_path.read_text(errors="replace"):
                    assert time.monotonic() < deadline, "no purge failed"
                    assert (await client.get(path, headers=headers)).status_code == 200
                    await asyncio.sleep(PURGE_INTERVAL)
                await blocker.execute("INSERT INTO users (id) VALUES ('purge_user')")
                await blocker.execute(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)"
                    " VALUES ('purge_user', 'k', 'x', now() - interval '25 hours')"
                )
            deadline = time.monotonic() + 20 * PURGE_INTERVAL
            while await blocker.fetchval("SELECT count(*) FROM idempotency_keys"):
                assert time.monotonic() < deadline, "the purge did not come back"
                assert (await client.get(path, headers=headers)).status_code == 200
                await asyncio.sleep(PURGE_INTERVAL / 3)
        finally:
            await blocker.close()

    async def run() -> None:
        async with httpx.AsyncClient(base_url=live.url, timeout=10) as client:
            await scenario(client)

    try:
        asyncio.run(run())
    finally:
        live.stop()
    assert "Traceback" not in log_path.read_text(errors="replace")


def test_stopping_the_service_ends_the_purge_cleanly(own_database: str) -> None:
    log_path = REPORTS / "server-purge-stop.log"
    live = LiveServer(purge_env(own_database), log_path=log_path)
    with httpx.Client(base_url=live.url, timeout=10) as client:
        user = User(new_user_id(), client)
        assert user.request("GET", user.tasks_path).status_code == 200
    time.sleep(3 * PURGE_INTERVAL)  # purges have run
    started = time.monotonic()
    live.stop()
    assert live.process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it stopped for
    assert time.monotonic() - started < 5
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log
    assert "was destroyed but it is pending" not in log
    assert "Application shutdown complete" in log
    assert "Finished server process" in log
