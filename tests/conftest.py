"""Fixtures: a migrated PostgreSQL (embedded unless TEST_DATABASE_URL is set) and the live service."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from devtools import embedded_db, migrate
from tests.support.cursors import read_cursor_key
from tests.support.live_server import ROOT, LiveServer
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET, bearer, shared_secret_token

REPORTS = ROOT / "reports"


@pytest.fixture(scope="session")
def postgres() -> embedded_db.PostgresServer:
    return embedded_db.start(ROOT / ".data" / "test-postgres")


def fresh_database(postgres: embedded_db.PostgresServer, name: str) -> str:
    """A new empty database; named per test process, so concurrent test runs never share one."""
    embedded_db.create_database(postgres, f"{name}_{os.getpid()}", recreate=True)
    return embedded_db.database_url(postgres, f"{name}_{os.getpid()}")


@pytest.fixture(scope="session")
def database_url(postgres: embedded_db.PostgresServer) -> Iterator[str]:
    given = os.environ.get("TEST_DATABASE_URL")
    url = given or fresh_database(postgres, "tasks_test")
    migrate.upgrade(url)
    yield url
    if not given:
        embedded_db.drop_database(postgres, str(make_url(url).database))


@pytest.fixture(scope="session")
async def cursor_key(database_url: str) -> bytes:
    """The key the service seals list cursors with (migration 0005 made it; every instance reads it)."""
    return await read_cursor_key(database_url)


def shared_secret_env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "JWT_SECRET": SHARED_SECRET,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWKS_URL": "",
        "BETTER_AUTH_SECRET": "",
    }


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(shared_secret_env(database_url), log_path=REPORTS / "server.log")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@dataclass
class User:
    """A user of the service with a valid token, and the paths they own."""

    id: str
    http: httpx.Client

    @property
    def headers(self) -> dict[str, str]:
        return bearer(shared_secret_token(self.id))

    @property
    def tasks_path(self) -> str:
        return f"/api/{self.id}/tasks"

    def task_path(self, task_id: int) -> str:
        return f"{self.tasks_path}/{task_id}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def create(self, title: str = "Buy milk", **fields: Any) -> dict[str, Any]:
        response = self.request("POST", self.tasks_path, json={"title": title, **fields})
        assert response.status_code == 201, response.text
        task: dict[str, Any] = response.json()
        return task


def new_user_id() -> str:
    return f"user_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def alice(http: httpx.Client) -> User:
    return User(new_user_id(), http)


@pytest.fixture
def bob(http: httpx.Client) -> User:
    return User(new_user_id(), http)


SESSION_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the figures the load and fault tests wrote during this run (they assert, these inform)."""
    summaries = [path for path in sorted(REPORTS.glob("*-summary.txt")) if path.stat().st_mtime >= SESSION_STARTED]
    if summaries:
        terminalreporter.write_sep("-", "load and fault summaries")
        for path in summaries:
            terminalreporter.write(path.read_text())
