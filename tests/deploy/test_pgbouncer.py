"""Behind a real PgBouncer in transaction mode (what Neon's -pooler hosts are): the service serves with
DATABASE_TRANSACTION_POOLER on, and migrations refuse the pooled URL and run over DATABASE_URL_UNPOOLED."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy.engine import make_url

from devtools import embedded_db
from devtools.live_server import ROOT, LiveServer
from tests.support.clients import SCENARIO_STEPS, generate_typescript_types, run_typescript_scenario, scenario_env
from tests.support.database import fresh_database, query
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.pgbouncer import PgBouncer
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import User

MAX_TASKS = 5
TASK_QUOTA = "tag:tasks-api,2026:task-quota-reached"
THREADS, REQUESTS_PER_THREAD = 20, 10


@pytest.fixture(scope="module")
def pgbouncer(postgres: embedded_db.PostgresServer) -> Iterator[PgBouncer]:
    bouncer = PgBouncer(postgres)
    yield bouncer
    bouncer.stop()


@pytest.fixture(scope="module")
def direct_url(postgres: embedded_db.PostgresServer) -> Iterator[str]:
    """An empty database of its own on the embedded server, reached directly (not migrated yet)."""
    url = fresh_database(postgres, "tasks_pooler")
    yield url
    embedded_db.drop_database(postgres, str(make_url(url).database))


@pytest.fixture(scope="module")
def pooled_url(pgbouncer: PgBouncer, direct_url: str) -> str:
    return pgbouncer.url(str(make_url(direct_url).database))


def alembic_upgrade(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`alembic upgrade head` as an operator runs it, with only these database settings."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("DATABASE_")}
    command = [sys.executable, "-m", "alembic", "upgrade", "head"]
    return subprocess.run(command, cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def migrated(direct_url: str, pooled_url: str) -> str:
    """Migrated as Neon's integrations configure it: the pooled DATABASE_URL and the direct DATABASE_URL_UNPOOLED."""
    refused = alembic_upgrade({"DATABASE_URL": pooled_url, "DATABASE_TRANSACTION_POOLER": "true"})
    assert refused.returncode != 0
    done = alembic_upgrade({"DATABASE_URL": pooled_url, "DATABASE_URL_UNPOOLED": direct_url})
    assert done.returncode == 0, done.stderr
    return refused.stderr


def pooled_env(pooled_url: str, direct_url: str, **settings: str) -> dict[str, str]:
    return (
        shared_secret_env(pooled_url)
        | {"DATABASE_URL_UNPOOLED": direct_url, "MAX_TASKS_PER_USER": str(MAX_TASKS)}
        | settings
    )


@pytest.fixture(scope="module")
def pooled_server(migrated: str, pooled_url: str, direct_url: str) -> Iterator[LiveServer]:
    env = pooled_env(pooled_url, direct_url, DATABASE_TRANSACTION_POOLER="true")
    live = LiveServer(env, log_path=REPORTS / "server-pgbouncer.log")
    yield live
    live.stop()


@pytest.fixture
def user(pooled_server: LiveServer) -> Iterator[User]:
    with httpx.Client(base_url=pooled_server.url, timeout=30) as client:
        yield User(f"user_{uuid.uuid4().hex[:12]}", client)


def test_a_migration_through_the_pooler_refuses_and_says_to_set_database_url_unpooled(migrated: str) -> None:
    assert "Migrations need a direct connection" in migrated
    assert "DATABASE_TRANSACTION_POOLER is true" in migrated
    assert "Set DATABASE_URL_UNPOOLED to the direct URL" in migrated
    assert migrated.strip().splitlines()[-1].startswith("impl.db.url.DatabaseUrlError: Migrations need")


def test_migrations_run_over_database_url_unpooled_beside_a_pooled_database_url(migrated: str, direct_url: str) -> None:
    tables = {
        row["tablename"] for row in query(direct_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    assert {"alembic_version", "tasks", "users", "idempotency_keys"} <= tables


def test_the_whole_client_scenario_works_through_the_pooler(user: User) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = user.request("POST", user.tasks_path, json={"title": "Buy milk", "tags": ["Home"]}, headers=key)
    assert first.status_code == 201, first.text
    replay = user.request("POST", user.tasks_path, json={"title": "Buy milk", "tags": ["Home"]}, headers=key)
    assert (replay.status_code, replay.json(), replay.headers.get("idempotent-replayed")) == (201, first.json(), "true")
    task = first.json()
    others = [user.create(f"task {index}", tags=["work"])["id"] for index in range(3)]

    page = user.request("GET", user.tasks_path, params={"limit": 2, "sort": "created", "order": "asc"}).json()
    rest = user.request(
        "GET", user.tasks_path, params={"limit": 2, "sort": "created", "order": "asc", "cursor": page["next_cursor"]}
    )
    assert [t["id"] for t in page["items"] + rest.json()["items"]] == [task["id"], *others]

    got = user.request("GET", user.task_path(task["id"]))
    assert (got.status_code, got.json()["title"]) == (200, "Buy milk")
    etag = got.headers["etag"]
    updated = user.request(
        "PATCH", user.task_path(task["id"]), json={"title": "Buy oat milk"}, headers={"If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    stale = user.request("PATCH", user.task_path(task["id"]), json={"title": "Too late"}, headers={"If-Match": etag})
    assert stale.status_code == 412

    tags = user.request("GET", f"/api/{user.id}/tags").json()["items"]
    assert {tag["name"]: tag["task_count"] for tag in tags} == {"home": 1, "work": 3}

    user.create("the fifth")
    over = user.request("POST", user.tasks_path, json={"title": "one too many"})
    assert (over.status_code, over.json()["type"]) == (409, TASK_QUOTA)

    assert user.request("DELETE", user.task_path(task["id"])).status_code == 204
    assert user.request("GET", user.task_path(task["id"])).status_code == 404


def test_the_typescript_clients_scenario_runs_through_the_pooler(pooled_server: LiveServer) -> None:
    """The scenario a frontend's generated client runs (tests/tooling/clients), every operation, through PgBouncer."""
    generate_typescript_types()
    alice, bob = (f"user_{uuid.uuid4().hex[:12]}" for _ in range(2))
    steps = run_typescript_scenario(scenario_env(pooled_server.url, alice, shared_secret_token(alice), bob))
    assert [(step["step"], step["status"]) for step in steps] == SCENARIO_STEPS


def mixed_load(base_url: str) -> Counter[int]:
    """THREADS users at once, each creating, listing, reading and completing its tasks; the statuses."""

    def one_user(index: int) -> list[int]:
        user_id = f"load_{uuid.uuid4().hex[:8]}_{index}"
        headers = bearer(shared_secret_token(user_id))
        statuses = []
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            ids: list[int] = []
            for step in range(REQUESTS_PER_THREAD):
                if step < 3:
                    response = client.post(f"/api/{user_id}/tasks", json={"title": f"task {step}", "tags": ["load"]})
                    if response.status_code == 201:
                        ids.append(response.json()["id"])
                elif step % 3 == 0 and ids:
                    response = client.patch(f"/api/{user_id}/tasks/{ids[step % len(ids)]}/complete")
                elif step % 3 == 1 and ids:
                    response = client.get(f"/api/{user_id}/tasks/{ids[step % len(ids)]}")
                else:
                    response = client.get(f"/api/{user_id}/tasks", params={"status": "pending", "tag": "load"})
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        return Counter(status for statuses in pool.map(one_user, range(THREADS)) for status in statuses)


def test_concurrent_load_through_the_pooler_sees_no_errors(pooled_server: LiveServer) -> None:
    statuses = mixed_load(pooled_server.url)
    assert sum(statuses.values()) == THREADS * REQUESTS_PER_THREAD
    assert set(statuses) <= {200, 201}, statuses


def test_without_the_pooler_setting_prepared_statements_break_under_concurrency(
    migrated: str, pooled_url: str, direct_url: str
) -> None:
    """Why the setting exists: a 127.0.0.1 pooler has no -pooler name to guess from."""
    env = pooled_env(pooled_url, direct_url, DATABASE_TRANSACTION_POOLER="false")
    live = LiveServer(env, log_path=REPORTS / "server-pgbouncer-without-setting.log")
    try:
        statuses = mixed_load(live.url)
    finally:
        live.stop()
    assert statuses[500] > 0, statuses
    assert 'prepared statement \\"__asyncpg_stmt_' in live.log_path.read_text()


def test_behind_the_pooler_the_budget_named_is_the_poolers(pooled_server: LiveServer) -> None:
    assert httpx.get(f"{pooled_server.url}/readyz").status_code == 200
    pooled_server.wait_for_log("connection budget")
    log = pooled_server.log()
    assert "behind a transaction pooler" in log
    assert "x DB_POOL_MAX_SIZE 10 = 10 connections must fit the pooler's client limit" in log
