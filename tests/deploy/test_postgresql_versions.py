"""PostgreSQL 17 and newer (decision 0031): the oldest supported major runs the migrations and the service;
an older server is refused with a message that says why, at migrate and at start-up.

The embedded PostgreSQL 18 that the rest of the tests use covers the newest major.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from devtools import migrate
from devtools.live_server import LiveServer
from impl.db.errors import is_database_unavailable
from impl.db.postgresql_version import UnsupportedPostgreSQL, require_supported
from tests.support import tasks_api_command
from tests.support.database import query
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.listing import listing, titles
from tests.support.problems import assert_problem
from tests.support.schema import run_sync, schema_differences, table_names
from tests.support.throwaway_postgres import (
    ThrowawayPostgres,
    oldest_supported_bin_dir,
    throwaway_postgres,
    unsupported_bin_dir,
)
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import User, new_user_id


def too_old_message(server: ThrowawayPostgres) -> str:
    """The refusal, naming the server's own version as PostgreSQL reports it (e.g. 16.15)."""
    [row] = query(server.url(), "SHOW server_version")
    version = row[0].split()[0]
    return f"PostgreSQL {version} is too old: tasks-api needs 17 or newer (on Neon, create the project with"


@pytest.fixture(scope="module")
def oldest_supported() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres(oldest_supported_bin_dir()) as started:
        yield started


@pytest.fixture(scope="module")
def too_old() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres(unsupported_bin_dir()) as started:
        yield started


@pytest.mark.parametrize("version", [(16, 9), (15, 18), (14, 0)])
def test_a_major_below_17_is_refused_with_its_version_and_the_way_out(version: tuple[int, int]) -> None:
    with pytest.raises(UnsupportedPostgreSQL) as refused:
        require_supported(version)
    assert str(refused.value) == (
        f"PostgreSQL {version[0]}.{version[1]} is too old: tasks-api needs 17 or newer"
        " (on Neon, create the project with PostgreSQL 17 or newer)"
    )


@pytest.mark.parametrize("version", [(17, 0), (17, 11), (18, 6), (19, 0)])
def test_17_and_newer_are_accepted(version: tuple[int, int]) -> None:
    require_supported(version)


def test_a_refused_server_counts_as_an_unavailable_database() -> None:
    # So background work (the idempotency-key purge) logs a warning and retries, without a traceback.
    assert is_database_unavailable(UnsupportedPostgreSQL("PostgreSQL 15.18 is too old"))


def test_the_migrations_build_exactly_the_models_on_the_oldest_supported_major(
    oldest_supported: ThrowawayPostgres,
) -> None:
    url = oldest_supported.url()
    assert oldest_supported.major == 17
    migrate.upgrade(url)
    assert run_sync(url, schema_differences) == []
    migrate.downgrade(url, "base")
    assert run_sync(url, table_names) == set()
    migrate.upgrade(url)
    assert run_sync(url, schema_differences) == []


def test_the_service_works_on_the_oldest_supported_major(oldest_supported: ThrowawayPostgres) -> None:
    url = oldest_supported.url()
    migrate.upgrade(url)
    server = LiveServer(shared_secret_env(url), log_path=REPORTS / "server-oldest-postgresql.log")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            alice = User(new_user_id(), http)
            alice.create("Vacances d'été", tags=["Home", "summer"])
            alice.create("ΣΟΦΙΑ's book", tags=["home"])
            alice.create("Buy milk")
            assert listing(alice)["total"] == 3
            # Case folding beyond ASCII is what needs pg_c_utf8, i.e. PostgreSQL 17.
            assert titles(listing(alice, q="ÉTÉ")) == ["Vacances d'été"]
            assert titles(listing(alice, q="σοφια")) == ["ΣΟΦΙΑ's book"]
            assert sorted(titles(listing(alice, tag="home"))) == ["Vacances d'été", "ΣΟΦΙΑ's book"]
            tags = alice.request("GET", f"/api/{alice.id}/tags").json()["items"]
            assert tags == [{"name": "home", "task_count": 2}, {"name": "summer", "task_count": 1}]
            first = listing(alice, limit=2, sort="title", order="asc")
            second = listing(alice, limit=2, sort="title", order="asc", cursor=first["next_cursor"])
            assert titles(first) + titles(second) == ["Buy milk", "Vacances d'été", "ΣΟΦΙΑ's book"]
            assert second["next_cursor"] is None
    finally:
        server.stop()


def test_migrate_refuses_an_older_major_before_changing_anything(too_old: ThrowawayPostgres) -> None:
    with pytest.raises(UnsupportedPostgreSQL, match=re.escape(too_old_message(too_old))):
        migrate.upgrade(too_old.url())
    assert query(too_old.url(), "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []


def test_the_service_starts_on_an_older_major_but_answers_503_and_logs_why(too_old: ThrowawayPostgres) -> None:
    server = LiveServer(shared_secret_env(too_old.url()), log_path=REPORTS / "server-too-old-postgresql.log")
    try:
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive, so an orchestrator need not loop it
        for path in ("/readyz", "/api/alice/tasks"):
            response = httpx.get(f"{server.url}{path}", headers=bearer(shared_secret_token("alice")))
            assert_problem(response, 503)
            assert "Retry-After" in response.headers
            assert "PostgreSQL" not in response.text, "clients are not told about the database"
    finally:
        server.stop()
    assert server.log_path.read_text().count(too_old_message(too_old)) == 2, "one error line per refused request"


def test_tasks_api_migrate_and_check_exit_5_on_an_older_major(too_old: ThrowawayPostgres) -> None:
    for command in ("migrate", "check"):
        result = tasks_api_command.run(command, env=shared_secret_env(too_old.url()))
        assert result.returncode == 5, result.stderr
        assert too_old_message(too_old) in result.stderr
