"""Every request leaves one JSON log line and carries a request id the caller can quote."""

from __future__ import annotations

import json
from typing import Any

import httpx

from devtools.live_server import LiveServer
from tests.support.users import User
from tests.support.waiting import wait_until


def log_lines(server: LiveServer, request_id: str) -> list[dict[str, Any]]:
    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in server.log().splitlines() if line.startswith("{") and request_id in line]

    wait_until(lambda: bool(lines()), seconds=10, interval=0.02)  # the line is written after the response is sent
    return lines()


def test_a_sane_request_id_is_echoed(http: httpx.Client) -> None:
    response = http.get("/healthz", headers={"X-Request-ID": "client-chosen.id:42"})
    assert response.headers["x-request-id"] == "client-chosen.id:42"


def test_a_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(http: httpx.Client) -> None:
    generated = http.get("/healthz").headers["x-request-id"]
    replaced = http.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces" + "x" * 200}).headers["x-request-id"]
    assert len(generated) == 32
    assert replaced != generated
    assert " " not in replaced


def test_problem_bodies_carry_the_request_id(alice: User) -> None:
    response = alice.request("GET", alice.task_path(424242), headers={"X-Request-ID": "trace-me-404"})
    assert response.status_code == 404
    assert response.json()["request_id"] == "trace-me-404"


def test_one_json_line_per_request_with_route_status_user_and_never_the_token(alice: User, server: LiveServer) -> None:
    response = alice.request("GET", alice.tasks_path, headers={"X-Request-ID": f"log-check-{alice.id}"})
    assert response.status_code == 200
    [line] = log_lines(server, f"log-check-{alice.id}")
    assert line["method"] == "GET"
    assert line["route"] == "/api/{user_id}/tasks"
    assert line["status"] == 200
    assert line["user_id"] == alice.id
    assert isinstance(line["duration_ms"], float)
    token = alice.headers["Authorization"].split()[1]
    assert token not in server.log()
