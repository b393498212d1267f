"""READINESS_DB_CHECK_SECONDS: a query that succeeded within the window answers /readyz without the database,
so probes alone do not keep a serverless database (Neon) awake; after the window the probe queries again."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from devtools import embedded_db
from devtools.live_server import LiveServer
from tests.support.database import query
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.pgbouncer import PgBouncer
from tests.support.tokens import bearer, shared_secret_token

WINDOW_SECONDS = 2.0


@pytest.fixture(scope="module")
def application_name() -> str:
    return f"readiness_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def windowed_server(database_url: str, application_name: str) -> Iterator[LiveServer]:
    separator = "&" if "?" in database_url else "?"
    env = shared_secret_env(f"{database_url}{separator}application_name={application_name}") | {
        "READINESS_DB_CHECK_SECONDS": str(WINDOW_SECONDS)
    }
    live = LiveServer(env, log_path=REPORTS / "server-readiness.log")
    assert httpx.get(f"{live.url}/readyz").status_code == 200
    live.wait_for_log("connection budget")  # the check after the first answer is done: no query after this
    yield live
    live.stop()


def last_query_start(database_url: str, application_name: str) -> float:
    """When the service's most recent statement started, as seconds since the epoch on the server's clock."""
    rows = query(
        database_url,
        "SELECT extract(epoch FROM max(query_start))::float8 AS at FROM pg_stat_activity WHERE application_name = $1",
        application_name,
    )
    return float(rows[0]["at"] or 0.0)


def server_now(database_url: str) -> float:
    return float(query(database_url, "SELECT extract(epoch FROM clock_timestamp())::float8 AS now")[0]["now"])


def test_probes_within_the_window_after_a_request_do_not_reach_the_database(
    windowed_server: LiveServer, database_url: str, application_name: str
) -> None:
    user = f"user_{uuid.uuid4().hex[:8]}"
    listing = httpx.get(f"{windowed_server.url}/api/{user}/tasks", headers=bearer(shared_secret_token(user)))
    assert listing.status_code == 200
    after_request = server_now(database_url)
    for _ in range(5):
        assert httpx.get(f"{windowed_server.url}/readyz").status_code == 200
    assert last_query_start(database_url, application_name) < after_request


def test_after_the_window_the_probe_queries_the_database_again(
    windowed_server: LiveServer, database_url: str, application_name: str
) -> None:
    assert httpx.get(f"{windowed_server.url}/readyz").status_code == 200  # within or after: the window restarts
    time.sleep(WINDOW_SECONDS + 0.2)
    before_probe = server_now(database_url)
    assert httpx.get(f"{windowed_server.url}/readyz").status_code == 200
    assert last_query_start(database_url, application_name) > before_probe
    # and that probe's answer opens a new window
    after_probe = server_now(database_url)
    assert httpx.get(f"{windowed_server.url}/readyz").status_code == 200
    assert last_query_start(database_url, application_name) < after_probe


def test_a_service_that_never_reached_its_database_is_not_ready_whatever_the_window(tmp_path: Path) -> None:
    env = shared_secret_env(f"postgresql+asyncpg://postgres@/tasks?host={tmp_path}") | {
        "READINESS_DB_CHECK_SECONDS": "3600"
    }
    live = LiveServer(env, log_path=REPORTS / "server-readiness-no-database.log")
    try:
        assert httpx.get(f"{live.url}/readyz", timeout=10).status_code == 503
    finally:
        live.stop()


def test_a_request_failing_on_the_database_makes_the_next_probe_ask_it(
    postgres: embedded_db.PostgresServer, database_url: str
) -> None:
    """The database goes away (here: the PgBouncer in front of it) inside the window."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the PgBouncer fronts the embedded PostgreSQL")
    bouncer = PgBouncer(postgres)
    env = shared_secret_env(bouncer.url(str(make_url(database_url).database))) | {
        "DATABASE_TRANSACTION_POOLER": "true",
        "READINESS_DB_CHECK_SECONDS": "3600",
    }
    live = LiveServer(env, log_path=REPORTS / "server-readiness-outage.log")
    user = f"user_{uuid.uuid4().hex[:8]}"
    tasks, headers = f"{live.url}/api/{user}/tasks", bearer(shared_secret_token(user))
    try:
        assert httpx.get(tasks, headers=headers).status_code == 200
        bouncer.stop()
        assert httpx.get(f"{live.url}/readyz").status_code == 200  # within the window, nothing asked
        assert httpx.get(tasks, headers=headers, timeout=10).status_code == 503
        assert httpx.get(f"{live.url}/readyz", timeout=10).status_code == 503
    finally:
        live.stop()
        bouncer.stop()
