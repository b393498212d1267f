"""Resource limits: what a request may cost the service is bounded, and going over is a 4xx problem, fast."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import h11
import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.contract import OPERATIONS, Operation, operation, parameter_schema, property_schema
from tests.support.problems import assert_problem
from tests.support.users import User

MAX_BODY_BYTES = 65536
# Generous: every answer here takes milliseconds; the bound only tells a stall from an answer.
PROMPT_SECONDS = 5.0

# The operations that take a JSON body.
BODY_OPERATIONS = [operation for operation in OPERATIONS if operation.takes_a_body]
TITLE_LENGTH = property_schema("Task", "title")["maxLength"]
DESCRIPTION_LENGTH = property_schema("Task", "description")["maxLength"]
MAX_PAGE = parameter_schema("listTasks", "limit")["maximum"]
MAX_OFFSET = parameter_schema("listTasks", "offset")["maximum"]


def body_path(user: User, operation: Operation) -> str:
    """The operation's path for the user, on a task of theirs that exists if it takes one."""
    return operation.path(user.id, user.create("Existing")["id"] if operation.takes("task_id") else "")


def padded(size: int, title: str = "Padded") -> bytes:
    """A valid task body of exactly `size` bytes: JSON white space after the object."""
    body = ('{"title": "' + title + '"}').encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def total(user: User) -> int:
    count: int = user.request("GET", user.tasks_path).json()["total"]
    return count


def timed(send: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


# --- Body size -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", BODY_OPERATIONS, ids=str)
def test_a_body_over_65536_bytes_with_a_content_length_is_413(alice: User, sent: Operation) -> None:
    path = body_path(alice, sent)
    before = alice.request("GET", alice.tasks_path).json()
    response = alice.request(
        sent.method, path, content=padded(MAX_BODY_BYTES + 1), headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 413, title="Content Too Large", problem_type="about:blank")
    assert body["instance"] == path
    assert "65536" in body["detail"]
    assert alice.request("GET", alice.tasks_path).json() == before


@pytest.mark.parametrize("sent", BODY_OPERATIONS, ids=str)
def test_a_chunked_body_over_65536_bytes_is_413(alice: User, sent: Operation) -> None:
    path = body_path(alice, sent)
    before = alice.request("GET", alice.tasks_path).json()
    response = alice.request(
        sent.method, path, content=chunks(padded(MAX_BODY_BYTES + 1)), headers={"Content-Type": "application/json"}
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, title="Content Too Large", problem_type="about:blank")
    assert alice.request("GET", alice.tasks_path).json() == before


@pytest.mark.parametrize("sent", BODY_OPERATIONS, ids=str)
def test_a_body_of_exactly_65536_bytes_is_accepted(alice: User, sent: Operation) -> None:
    response = alice.request(
        sent.method,
        body_path(alice, sent),
        content=padded(MAX_BODY_BYTES),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (200, 201), response.text
    assert response.json()["title"] == "Padded"


def test_a_chunked_body_of_exactly_65536_bytes_is_accepted(alice: User) -> None:
    response = alice.request(
        "POST", alice.tasks_path, content=chunks(padded(MAX_BODY_BYTES)), headers={"Content-Type": "application/json"}
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 201, response.text


def test_an_oversized_body_is_refused_before_authentication(alice: User, http: httpx.Client) -> None:
    response = http.post(alice.tasks_path, content=padded(MAX_BODY_BYTES + 1))
    assert_problem(response, 413, title="Content Too Large", problem_type="about:blank")


def test_a_huge_body_is_refused_quickly(alice: User) -> None:
    body = padded(20 * 1024 * 1024)
    response, elapsed = timed(
        lambda: alice.request("POST", alice.tasks_path, content=body, headers={"Content-Type": "application/json"})
    )
    assert_problem(response, 413, title="Content Too Large", problem_type="about:blank")
    assert elapsed < PROMPT_SECONDS


class RawConnection:
    """An HTTP/1.1 connection that sends a request's head and as much of its body as a test wants."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=PROMPT_SECONDS)
        self.http = h11.Connection(our_role=h11.CLIENT)

    def send(self, event: Any) -> None:
        self.sock.sendall(self.http.send(event) or b"")

    def response(self) -> tuple[h11.Response, bytes]:
        """The response, read without finishing the request: a server waiting for the body times out here."""
        head: h11.Response | None = None
        body = b""
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA:
                self.http.receive_data(self.sock.recv(65536))
            elif isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return head, body

    def close(self) -> None:
        self.sock.close()


def request_head(user: User, headers: dict[str, str]) -> h11.Request:
    all_headers = {"Host": "127.0.0.1", "Content-Type": "application/json", **user.headers, **headers}
    return h11.Request(method="POST", target=user.tasks_path, headers=list(all_headers.items()))


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(alice: User, server: LiveServer) -> None:
    connection = RawConnection(server.url)
    try:
        connection.send(request_head(alice, {"Content-Length": str(1024 * 1024 * 1024)}))
        connection.send(h11.Data(data=b'{"title": "'))  # and then nothing: the rest never comes
        started = time.monotonic()
        head, body = connection.response()
    finally:
        connection.close()
    assert head.status_code == 413
    assert time.monotonic() - started < PROMPT_SECONDS
    assert (b"connection", b"close") in [(name.lower(), value.lower()) for name, value in head.headers]
    assert b'"status":413' in body
    assert total(alice) == 0


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(alice: User, server: LiveServer) -> None:
    connection = RawConnection(server.url)
    try:
        connection.send(request_head(alice, {"Transfer-Encoding": "chunked"}))
        for chunk in chunks(padded(MAX_BODY_BYTES + 4096)):
            connection.send(h11.Data(data=chunk))
        started = time.monotonic()  # the body never ends: no last chunk is sent
        head, body = connection.response()
    finally:
        connection.close()
    assert head.status_code == 413
    assert time.monotonic() - started < PROMPT_SECONDS
    assert b'"status":413' in body
    assert total(alice) == 0


def test_the_client_is_served_again_on_a_new_connection_after_a_chunked_body_was_refused(alice: User) -> None:
    with httpx.Client(base_url=str(alice.http.base_url), timeout=10) as client:
        refused = client.post(
            alice.tasks_path,
            content=chunks(padded(MAX_BODY_BYTES * 4)),
            headers={**alice.headers, "Content-Type": "application/json"},
        )
        assert refused.status_code == 413
        after = client.post(alice.tasks_path, json={"title": "Next"}, headers=alice.headers)
    assert after.status_code == 201
    assert total(alice) == 1


# --- Media type ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/merge-patch+json",
        "application/jsonx",
        "json",
        None,
    ],
)
@pytest.mark.parametrize("sent", BODY_OPERATIONS, ids=str)
def test_a_body_that_is_not_application_json_is_415(alice: User, sent: Operation, content_type: str | None) -> None:
    path = body_path(alice, sent)
    before = alice.request("GET", alice.tasks_path).json()
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = alice.request(sent.method, path, content=b'{"title": "Sneaked in"}', headers=headers)
    body = assert_problem(response, 415, title="Unsupported Media Type", problem_type="about:blank")
    assert body["instance"] == path
    assert alice.request("GET", alice.tasks_path).json() == before


def test_a_chunked_body_without_a_media_type_is_415(alice: User) -> None:
    response = alice.request("POST", alice.tasks_path, content=chunks(b'{"title": "Sneaked in"}'))
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem(response, 415, title="Unsupported Media Type", problem_type="about:blank")
    assert total(alice) == 0


def test_form_data_is_415(alice: User) -> None:
    response = alice.request("POST", alice.tasks_path, data={"title": "Sneaked in"})
    assert_problem(response, 415, title="Unsupported Media Type", problem_type="about:blank")
    assert total(alice) == 0


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/json ;x=y"]
)
def test_application_json_with_parameters_or_any_case_is_accepted(alice: User, content_type: str) -> None:
    response = alice.request(
        "POST", alice.tasks_path, content=b'{"title": "Fine"}', headers={"Content-Type": content_type}
    )
    assert response.status_code == 201, response.text


# --- Parameters and strings ------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [str(MAX_PAGE + 1), "1000", "1000000", str(2**63), str(10**100)])
def test_a_page_larger_than_the_contracts_maximum_is_422(alice: User, limit: str) -> None:
    response = alice.request("GET", alice.tasks_path, params={"limit": limit})
    body = assert_problem(response, 422, title="Unprocessable Content", problem_type="about:blank")
    assert [error["parameter"] for error in body["errors"]] == ["limit"]


def test_a_page_of_the_contracts_maximum_is_the_largest(alice: User) -> None:
    response = alice.request("GET", alice.tasks_path, params={"limit": str(MAX_PAGE)})
    assert response.status_code == 200
    assert response.json()["limit"] == MAX_PAGE


@pytest.mark.parametrize("offset", [str(MAX_OFFSET + 1), str(2**63), str(10**100)])
def test_an_offset_beyond_the_contract_is_422(alice: User, offset: str) -> None:
    response = alice.request("GET", alice.tasks_path, params={"offset": offset})
    body = assert_problem(response, 422, title="Unprocessable Content", problem_type="about:blank")
    assert [error["parameter"] for error in body["errors"]] == ["offset"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"title": "x" * (TITLE_LENGTH + 1)}, "/title"),
        ({"title": "x" * 60_000}, "/title"),
        ({"title": "ok", "description": "x" * (DESCRIPTION_LENGTH + 1)}, "/description"),
        ({"title": "ok", "description": "x" * 60_000}, "/description"),
        ({"title": "é" * (TITLE_LENGTH + 1)}, "/title"),
    ],
)
@pytest.mark.parametrize("sent", BODY_OPERATIONS, ids=str)
def test_over_long_strings_are_422_and_not_stored(
    alice: User, sent: Operation, body: dict[str, Any], pointer: str
) -> None:
    path = body_path(alice, sent)
    before = alice.request("GET", alice.tasks_path).json()
    response = alice.request(sent.method, path, json=body)
    problem = assert_problem(response, 422, title="Unprocessable Content", problem_type="about:blank")
    assert pointer in [error.get("pointer") for error in problem["errors"]]
    assert "x" * (TITLE_LENGTH + 1) not in response.text, "the input is not echoed back"
    assert alice.request("GET", alice.tasks_path).json() == before


def test_multibyte_strings_are_limited_by_characters_not_bytes(alice: User) -> None:
    title = "日" * TITLE_LENGTH
    assert alice.create(title, description="é" * DESCRIPTION_LENGTH)["title"] == title


@pytest.mark.parametrize(("header", "operation_id"), [("If-Match", "updateTask"), ("Idempotency-Key", "createTask")])
def test_over_long_headers_are_422(alice: User, header: str, operation_id: str) -> None:
    task = alice.create("Existing")
    sent, limit = operation(operation_id), parameter_schema(operation_id, header)["maxLength"]
    path = sent.path(alice.id, task["id"])
    response = alice.request(sent.method, path, json={"title": "Changed"}, headers={header: "x" * (limit + 1)})
    body = assert_problem(response, 422, title="Unprocessable Content", problem_type="about:blank")
    assert [error["parameter"] for error in body["errors"]] == [header]
    assert alice.request("GET", alice.tasks_path).json()["items"] == [task]


def test_an_over_long_user_id_is_422(http: httpx.Client) -> None:
    user = User("u" * (parameter_schema("listTasks", "user_id")["maxLength"] + 1), http)
    body = assert_problem(
        user.request("GET", user.tasks_path), 422, title="Unprocessable Content", problem_type="about:blank"
    )
    assert [error["parameter"] for error in body["errors"]] == ["user_id"]


# --- Pathological JSON within the size limit -------------------------------------------------------


def nested_arrays(depth: int) -> bytes:
    return b'{"title": ' + b"[" * depth + b"]" * depth + b"}"


def nested_objects(depth: int) -> bytes:
    return b'{"title": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


def many_keys(count: int) -> bytes:
    return ("{" + ",".join(f'"k{i}":0' for i in range(count)) + ',"title":"ok"}').encode()


def many_items(count: int) -> bytes:
    return b'{"title": [' + b",".join([b"0"] * count) + b"]}"


PATHOLOGICAL = [
    pytest.param(nested_arrays(10_000), id="10k-nested-arrays"),
    pytest.param(nested_objects(10_000), id="10k-nested-objects"),
    pytest.param(b"[" * 30_000 + b"]" * 30_000, id="30k-nested-arrays-at-top"),
    pytest.param(nested_arrays(900), id="900-nested-arrays"),
    pytest.param(many_keys(6_000), id="6k-unknown-keys"),
    pytest.param(many_items(30_000), id="30k-array-items"),
    pytest.param(b"[" + b",".join([b"{}"] * 20_000) + b"]", id="20k-objects-at-top"),
    pytest.param(b'{"title": ' + b"9" * 60_000 + b"}", id="60k-digit-integer"),
    pytest.param(b'{"title": "ok", "description": ' + b"9" * 60_000 + b"}", id="60k-digit-integer-description"),
    pytest.param(b'{"title": 1e999999}', id="float-overflow"),
    pytest.param(b"{" + b'"x": 0, ' * 6_000 + b'"title": "ok"}', id="6k-duplicate-unknown-keys"),
    pytest.param(b'{"title": "' + b"\\u00e9" * 10_000 + b'"}', id="10k-escapes"),
]


@pytest.mark.parametrize("body", PATHOLOGICAL)
@pytest.mark.parametrize("sent", BODY_OPERATIONS, ids=str)
def test_pathological_json_within_the_size_limit_is_a_prompt_4xx_problem(
    alice: User, sent: Operation, body: bytes
) -> None:
    assert len(body) <= MAX_BODY_BYTES
    path = body_path(alice, sent)
    before = alice.request("GET", alice.tasks_path).json()
    response, elapsed = timed(
        lambda: alice.request(sent.method, path, content=body, headers={"Content-Type": "application/json"})
    )
    assert_problem(response, range(400, 500))
    assert elapsed < PROMPT_SECONDS
    assert alice.request("GET", alice.tasks_path).json() == before


def test_a_validation_problem_is_no_larger_than_the_largest_request(alice: User) -> None:
    response = alice.request(
        "POST", alice.tasks_path, content=many_keys(6_000), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, title="Unprocessable Content", problem_type="about:blank")
    assert len(response.content) <= MAX_BODY_BYTES
    assert len(response.json()["errors"]) == 20
    assert "of 6000 invalid inputs" in response.json()["detail"]


def test_the_service_is_healthy_after_pathological_json(alice: User, http: httpx.Client) -> None:
    for param in PATHOLOGICAL:
        (body,) = param.values
        alice.request("POST", alice.tasks_path, content=body, headers={"Content-Type": "application/json"})
    assert http.get("/healthz").status_code == 200
    assert alice.create("Still works")["title"] == "Still works"
