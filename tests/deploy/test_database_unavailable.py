"""With the database unreachable the service answers 503 problems quickly, and stays alive."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.problems import assert_problem
from tests.support.tokens import bearer, shared_secret_token


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    nowhere: Path = tmp_path_factory.mktemp("no-postgres-here")
    env = shared_secret_env(f"postgresql+asyncpg://postgres@/tasks?host={nowhere}")
    live = LiveServer(env, log_path=REPORTS / "server-without-database.log")
    yield live
    live.stop()


def test_liveness_does_not_depend_on_the_database(server_without_database: LiveServer) -> None:
    assert httpx.get(f"{server_without_database.url}/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/readyz", "/api/alice/tasks"])
def test_requests_needing_the_database_get_503_with_retry_after(server_without_database: LiveServer, path: str) -> None:
    started = time.monotonic()
    response = httpx.get(f"{server_without_database.url}{path}", headers=bearer(shared_secret_token("alice")))
    assert time.monotonic() - started < 10, "a dead database must not hang requests"
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
