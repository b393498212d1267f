"""Operational endpoints, the served contract, and errors outside the task rules."""

from __future__ import annotations

import httpx
import pytest
import yaml

from devtools.live_server import ROOT, LiveServer
from tests.support.problems import assert_problem
from tests.support.raw_http import RawConnection, request_head
from tests.support.users import User

SPEC_FILE = ROOT / "openapi" / "tasks.yaml"


def test_healthz_is_public_and_ok(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database(http: httpx.Client) -> None:
    response = http.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_the_served_yaml_is_the_hand_written_file(http: httpx.Client) -> None:
    response = http.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.content == SPEC_FILE.read_bytes()


def test_the_served_json_is_the_hand_written_contract(http: httpx.Client) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == yaml.safe_load(SPEC_FILE.read_text())


@pytest.mark.parametrize(
    ("method", "suffix", "allow"),
    [
        ("DELETE", "", "GET, POST"),
        ("PUT", "", "GET, POST"),
        ("POST", "/1", "DELETE, GET, PATCH, PUT"),
        ("GET", "/1/complete", "PATCH"),
        ("DELETE", "/1/complete", "PATCH"),
    ],
)
def test_an_undefined_method_is_405_with_the_specs_allow(alice: User, method: str, suffix: str, allow: str) -> None:
    response = alice.request(method, alice.tasks_path + suffix)
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


def test_an_unknown_path_is_404_problem(http: httpx.Client) -> None:
    response = http.get("/api/nobody/projects")
    assert_problem(response, 404, instance="/api/nobody/projects")


# Paths the contract names, with a slash appended: (method, target; {tasks} and {task} are the user's).
TRAILING_SLASHES = {
    "list": ("GET", "{tasks}/"),
    "create": ("POST", "{tasks}/"),
    "get": ("GET", "{task}/"),
    "replace": ("PUT", "{task}/"),
    "delete": ("DELETE", "{task}/"),
    "toggle": ("PATCH", "{task}/complete/"),
    "health": ("GET", "/healthz/"),
}


@pytest.mark.parametrize(("method", "template"), TRAILING_SLASHES.values(), ids=TRAILING_SLASHES)
@pytest.mark.parametrize("authenticated", [True, False], ids=["with-token", "without-token"])
def test_a_trailing_slash_is_a_404_problem_and_never_a_redirect_built_from_the_host_header(
    alice: User, server: LiveServer, method: str, template: str, authenticated: bool
) -> None:
    task = alice.create("Existing")
    target = template.format(tasks=alice.tasks_path, task=alice.task_path(task["id"]))
    body = b'{"title": "Through the slash"}' if method in ("POST", "PUT") else b""
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers += list(alice.headers.items()) if authenticated else []
    with RawConnection(server.url) as connection:
        connection.send(request_head(method, target, headers, host="evil.example") + body)
        response = connection.response()
    assert_problem(response, 404, title="Not Found", instance=target)
    assert response.header("location") is None
    assert b"evil.example" not in response.body
    assert alice.request("GET", alice.tasks_path).json()["items"] == [task]
