"""A request that could be read two ways is refused, not answered one way (RFC 9112 section 3.2, RFC 9110 5.3).

Written byte for byte: httpx always sends exactly one Host and would not send these.
"""

from __future__ import annotations

import uuid

import pytest

from devtools.live_server import LiveServer
from tests.support.framing import JSON, task_body, total
from tests.support.problems import assert_problem
from tests.support.raw_http import RawConnection, RawResponse
from tests.support.users import User


def raw_request(
    server: LiveServer,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    *,
    body: bytes = b"",
    version: str = "1.1",
) -> RawResponse:
    """The request with exactly these header lines (no Host unless given)."""
    lines = [f"{method} {target} HTTP/{version}", *(f"{name}: {value}" for name, value in headers)]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    with RawConnection(server.url) as connection:
        connection.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return connection.response()


HOST = ("Host", "127.0.0.1")


@pytest.mark.parametrize(
    "hosts",
    [[], [HOST, HOST], [HOST, ("Host", "evil.example")], [("Host", "a b")], [("Host", "x/y")], [("Host", "u@h")]],
    ids=["none", "the-same-twice", "two-different", "a-space", "a-slash", "userinfo"],
)
@pytest.mark.parametrize("authenticated", [True, False], ids=["with-token", "without-token"])
def test_a_request_without_one_valid_host_is_400_before_authentication(
    alice: User, server: LiveServer, hosts: list[tuple[str, str]], authenticated: bool
) -> None:
    token = list(alice.headers.items()) if authenticated else []
    response = raw_request(server, "GET", alice.tasks_path, [*hosts, *token])
    problem = assert_problem(response, 400, title="Bad Request", problem_type="about:blank")
    assert "Host" in problem["detail"]
    assert response.header("connection") == "close"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8000", "api.example.com", "[::1]:443", "xn--bcher-kva.example", ""]
)
def test_one_valid_host_is_served(alice: User, server: LiveServer, host: str) -> None:
    response = raw_request(server, "GET", alice.tasks_path, [("Host", host), *alice.headers.items()])
    assert response.status == 200, response.body[:300]


def test_an_http_1_0_request_may_omit_the_host(server: LiveServer) -> None:
    assert raw_request(server, "GET", "/healthz", [], version="1.0").status == 200


def test_two_authorization_headers_are_400_not_the_first_one_silently(
    alice: User, bob: User, server: LiveServer
) -> None:
    tokens = [("Authorization", alice.headers["Authorization"]), ("Authorization", bob.headers["Authorization"])]
    response = raw_request(server, "GET", alice.tasks_path, [HOST, *tokens])
    problem = assert_problem(response, 400, title="Bad Request", problem_type="about:blank")
    assert problem["detail"] == "The request has 2 Authorization headers; send one."


def test_two_idempotency_keys_are_400_and_nothing_is_created(alice: User, server: LiveServer) -> None:
    keys = [("Idempotency-Key", str(uuid.uuid4())), ("Idempotency-Key", str(uuid.uuid4()))]
    response = raw_request(
        server, "POST", alice.tasks_path, [HOST, *alice.headers.items(), JSON, *keys], body=task_body("Keyed twice")
    )
    problem = assert_problem(response, 400, title="Bad Request", problem_type="about:blank")
    assert "2 Idempotency-Key headers" in problem["detail"]
    assert total(alice) == 0


def test_if_match_in_two_lines_is_one_list_and_either_tag_matches(alice: User, server: LiveServer) -> None:
    """RFC 9110 section 5.3: If-Match is a list, so its lines are joined; the current tag is in the second."""
    task = alice.create("Listed")
    current = alice.request("GET", alice.task_path(task["id"])).headers["ETag"]
    conditions = [("If-Match", '"999"'), ("If-Match", current)]
    body = b'{"title": "Changed"}'
    response = raw_request(
        server, "PATCH", alice.task_path(task["id"]), [HOST, *alice.headers.items(), JSON, *conditions], body=body
    )
    assert response.status == 200, response.body[:300]
    assert response.json()["title"] == "Changed"


def test_if_match_in_two_lines_naming_no_current_tag_is_412(alice: User, server: LiveServer) -> None:
    task = alice.create("Listed")
    conditions = [("If-Match", '"998"'), ("If-Match", '"999"')]
    body = b'{"title": "Changed"}'
    response = raw_request(
        server, "PATCH", alice.task_path(task["id"]), [HOST, *alice.headers.items(), JSON, *conditions], body=body
    )
    assert_problem(response, 412, title="Precondition Failed", problem_type="about:blank")
    assert alice.request("GET", alice.task_path(task["id"])).json()["title"] == "Listed"
