"""The first time its database answers, the service compares its worst case (processes x DB_POOL_MAX_SIZE)
with the server's budget, and warns when it cannot fit."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.database import query
from tests.support.environments import REPORTS, shared_secret_env


def budget(database_url: str) -> int:
    row = query(
        database_url,
        "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
        " - coalesce(current_setting('reserved_connections', true), '0')::int AS budget",
    )[0]
    return int(row["budget"])


def json_lines(log: str) -> list[dict[str, Any]]:
    """The service's own log lines (JSON), without uvicorn's."""
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def start_log(env: dict[str, str], name: str) -> str:
    """The log of a service started with env, once its budget check (after the first query) has logged."""
    live = LiveServer(env, log_path=REPORTS / f"server-{name}.log")
    try:
        assert httpx.get(f"{live.url}/readyz").status_code == 200
        live.wait_for_log("connection budget")
        return live.log()
    finally:
        live.stop()


def test_a_worst_case_above_max_connections_logs_a_warning_that_names_the_arithmetic(database_url: str) -> None:
    allowed = budget(database_url)
    processes, max_size = 2, allowed // 2 + 1
    env = shared_secret_env(database_url) | {"DB_EXPECTED_PROCESSES": "2", "DB_POOL_MAX_SIZE": str(max_size)}
    log = start_log(env, "over-budget")
    [warning] = [line for line in json_lines(log) if "connection budget" in line["message"]]
    assert warning["level"] == "warning"
    assert (
        f"connection budget exceeded: {processes} process(es) (DB_EXPECTED_PROCESSES or WEB_CONCURRENCY)"
        f" x DB_POOL_MAX_SIZE {max_size} = {processes * max_size} connections, but the server allows {allowed}"
    ) in warning["message"]
    assert "lower DB_POOL_MAX_SIZE or the process count" in warning["message"]


def test_a_worst_case_within_max_connections_is_logged_without_a_warning(database_url: str) -> None:
    env = shared_secret_env(database_url) | {"WEB_CONCURRENCY": "3"}
    log = start_log(env, "within-budget")
    assert "connection budget: 3 process(es) (DB_EXPECTED_PROCESSES or WEB_CONCURRENCY) x DB_POOL_MAX_SIZE 10" in log
    assert f"= 30 connections of the {budget(database_url)} the server allows" in log
    assert "connection budget exceeded" not in log


@pytest.mark.parametrize("name", ["DB_POOL_SIZE", "DB_MAX_OVERFLOW"])
def test_the_service_refuses_to_start_with_an_old_pool_setting(database_url: str, name: str) -> None:
    with pytest.raises(RuntimeError, match="server exited early") as refused:
        LiveServer(shared_secret_env(database_url) | {name: "20"}, log_path=REPORTS / "server-old-pool-setting.log")
    assert f"{name} is no longer read" in str(refused.value)


def test_the_check_waits_for_the_first_use_of_the_database(database_url: str) -> None:
    """An idle service does not wake a serverless database to check, nor hold a connection open for it."""
    live = LiveServer(shared_secret_env(database_url), log_path=REPORTS / "server-budget-idle.log")
    try:
        assert httpx.get(f"{live.url}/healthz").status_code == 200
        assert "connection budget" not in live.log()
        assert httpx.get(f"{live.url}/readyz").status_code == 200
        live.wait_for_log("connection budget: 1 process(es)")
    finally:
        live.stop()
