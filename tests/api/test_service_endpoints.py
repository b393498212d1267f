"""Operational endpoints, the served contract, and errors outside the task rules."""

from __future__ import annotations

import httpx
import pytest
import yaml

from devtools.live_server import ROOT, LiveServer
from tests.support.contract import HTTP_METHODS, OPERATIONS, SPEC, Operation
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


# Every path of the spec with each method it does not define, and the methods it does.
UNDEFINED_METHODS = [
    (template, method.upper(), ", ".join(sorted(name.upper() for name in item if name in HTTP_METHODS)))
    for template, item in SPEC["paths"].items()
    for method in sorted(HTTP_METHODS - set(item))
]


@pytest.mark.parametrize(
    ("template", "method", "allow"),
    UNDEFINED_METHODS,
    ids=[f"{method} {path}" for path, method, _ in UNDEFINED_METHODS],
)
def test_an_undefined_method_is_405_with_the_specs_allow(alice: User, template: str, method: str, allow: str) -> None:
    response = alice.request(method, template.format(user_id=alice.id, task_id=1))
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


def test_an_unknown_path_is_404_problem(http: httpx.Client) -> None:
    response = http.get("/api/nobody/projects")
    assert_problem(response, 404, instance="/api/nobody/projects")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@pytest.mark.parametrize("authenticated", [True, False], ids=["with-token", "without-token"])
def test_a_trailing_slash_is_a_404_problem_and_never_a_redirect_built_from_the_host_header(
    alice: User, server: LiveServer, operation: Operation, authenticated: bool
) -> None:
    """Every operation's path with a slash appended."""
    task = alice.create("Existing")
    target = operation.path(alice.id, task["id"]) + "/"
    method = operation.method
    body = b'{"title": "Through the slash"}' if operation.takes_a_body else b""
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers += list(alice.headers.items()) if authenticated else []
    with RawConnection(server.url) as connection:
        connection.send(request_head(method, target, headers, host="evil.example") + body)
        response = connection.response()
    assert_problem(response, 404, title="Not Found", instance=target)
    assert response.header("location") is None
    assert b"evil.example" not in response.body
    assert alice.request("GET", alice.tasks_path).json()["items"] == [task]
