"""Fixtures: a migrated PostgreSQL (embedded unless TEST_DATABASE_URL is set) and the live service."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy.engine import make_url

from devtools import embedded_db, migrate
from devtools.live_server import ROOT, LiveServer
from impl.db.database import Database
from impl.tasks.service import TasksService
from tests.support.cursors import read_cursor_key
from tests.support.database import fresh_database
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.in_process import in_process_settings, tasks_service
from tests.support.users import User, new_user_id


@pytest.fixture(scope="session")
def postgres() -> embedded_db.PostgresServer:
    return embedded_db.start(ROOT / ".data" / "test-postgres")


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


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    """The service's Database on the test database, for tests that call the service or repository in-process."""
    database = Database(in_process_settings(database_url))
    yield database
    await database.close()


@pytest.fixture
async def conn(database: Database) -> AsyncIterator[PoolConnectionProxy]:
    async with database.connection() as connection:
        yield connection


@pytest.fixture
def service(database: Database) -> TasksService:
    """The task service with the default quotas (tests of the quotas build their own)."""
    return tasks_service(database)


@pytest.fixture
def user_id() -> str:
    """A user of their own for each test: the tests share one database and never empty it."""
    return new_user_id()


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(shared_secret_env(database_url), log_path=REPORTS / "server.log")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


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
