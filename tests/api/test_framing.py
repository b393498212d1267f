"""Request framing: whatever Content-Length and Transfer-Encoding say, a body is bounded, and so is the head.

Sent over raw sockets, since httpx would normalise these headers. Some variants are refused by the HTTP
parser (httptools) before the service sees them: a 400 problem and a closed connection.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support import contract
from tests.support.contract import OPERATIONS, Operation, parameter_schema, query_parameters
from tests.support.framing import JSON, peak_rss_kib, stream_head, task_body, total
from tests.support.problems import assert_problem
from tests.support.raw_http import PROMPT_SECONDS, RawConnection, RawResponse, chunked, request_head
from tests.support.users import User, new_user_id

MAX_BODY_BYTES = 65536
MAX_TARGET_BYTES = 16384
MAX_HEADERS_BYTES = 16384


OVER_LIMIT = task_body("Over the limit", MAX_BODY_BYTES + 4096)


def assert_closed_without_reading_the_rest(connection: RawConnection, response: RawResponse) -> None:
    assert response.header("connection") == "close"
    assert connection.closed_by_server()
    assert not connection.accepts_more()


# --- The body limit, whatever the framing ----------------------------------------------------------

CHUNKED = ("Transfer-Encoding", "chunked")
CREATE = contract.operation("createTask")
TAKE_NO_BODY = [operation for operation in OPERATIONS if not operation.takes_a_body]


def headers_for(operation: Operation) -> list[tuple[str, str]]:
    """A user's operation is sent as JSON; the probes are sent as a health checker does."""
    return [JSON, CHUNKED] if operation.takes("user_id") else [CHUNKED]


# (method, path template, extra headers). The body is OVER_LIMIT, chunked, and never ends: no last chunk is
# sent. Every operation of the spec, a create with the header spelled otherwise, and a path none has.
Target = tuple[str, str, list[tuple[str, str]]]
CHUNKED_OVER_THE_LIMIT: dict[str, Target] = {
    **{str(operation): (operation.method, operation.template, headers_for(operation)) for operation in OPERATIONS},
    "create-Transfer-Encoding-Chunked": (CREATE.method, CREATE.template, [JSON, ("Transfer-Encoding", "Chunked")]),
    "create-TRANSFER-ENCODING-CHUNKED": (CREATE.method, CREATE.template, [JSON, ("TRANSFER-ENCODING", "CHUNKED")]),
    "create-transfer-encoding-tab-chunked-spaces": (
        CREATE.method,
        CREATE.template,
        [JSON, ("transfer-encoding", "\tchunked  ")],
    ),
    "unknown-path": ("POST", "/api/nowhere", [JSON, CHUNKED]),
}


def target_path(user: User, template: str) -> str:
    """The template's path for the user, on a task of theirs that exists if it names one."""
    task_id = user.create("Existing")["id"] if "{task_id}" in template else ""
    return template.format(user_id=user.id, task_id=task_id)


@pytest.mark.parametrize(("method", "template", "headers"), CHUNKED_OVER_THE_LIMIT.values(), ids=CHUNKED_OVER_THE_LIMIT)
def test_a_chunked_body_over_the_limit_is_413_and_the_connection_is_closed_whatever_the_operation(
    alice: User, server: LiveServer, method: str, template: str, headers: list[tuple[str, str]]
) -> None:
    path = target_path(alice, template)
    before = alice.request("GET", alice.tasks_path).json()
    with RawConnection(server.url) as connection:
        connection.send(request_head(method, path, [*alice.headers.items(), *headers]))
        connection.send_until_refused(chunked(OVER_LIMIT, last=False))
        response = connection.response()
        body = assert_problem(response, 413, title="Content Too Large", problem_type="about:blank")
        assert "65536" in body["detail"]
        assert_closed_without_reading_the_rest(connection, response)
    assert alice.request("GET", alice.tasks_path).json() == before


@pytest.mark.parametrize("operation", TAKE_NO_BODY, ids=str)
def test_a_declared_length_over_the_limit_is_413_on_operations_that_take_no_body(
    alice: User, server: LiveServer, operation: Operation
) -> None:
    method, path = operation.method, target_path(alice, operation.template)
    before = total(alice)
    with RawConnection(server.url) as connection:
        head = request_head(method, path, [*alice.headers.items(), ("Content-Length", str(1024**3))])
        connection.send(head + b"{")  # and the rest never comes
        response = connection.response()
        assert_problem(response, 413, title="Content Too Large", problem_type="about:blank")
        assert_closed_without_reading_the_rest(connection, response)
    assert total(alice) == before


@pytest.mark.parametrize("operation", TAKE_NO_BODY, ids=str)
def test_a_small_body_on_an_operation_that_takes_none_is_read_and_ignored(
    alice: User, server: LiveServer, operation: Operation
) -> None:
    path = target_path(alice, operation.template)
    with RawConnection(server.url) as connection:
        connection.send(request_head(operation.method, path, [*alice.headers.items(), JSON, CHUNKED]))
        connection.send(chunked(task_body("Ignored")))
        assert connection.response().status == operation.success
        connection.send(request_head("GET", "/healthz", []))
        assert connection.response().status == 200, "the body was read to its end: the connection serves on"


@pytest.mark.parametrize("spelling", ["chunked", "Chunked", "CHUNKED"])
def test_a_chunked_body_within_the_limit_is_accepted_in_any_case(
    alice: User, server: LiveServer, spelling: str
) -> None:
    with RawConnection(server.url) as connection:
        connection.send(
            request_head("POST", alice.tasks_path, [*alice.headers.items(), JSON, ("Transfer-Encoding", spelling)])
        )
        connection.send(chunked(task_body("Chunked", MAX_BODY_BYTES)))
        response = connection.response()
    assert response.status == 201, response.body[:300]
    assert response.json()["title"] == "Chunked"


def test_an_anonymous_chunked_body_is_never_read_it_is_401_and_the_connection_closes(
    alice: User, server: LiveServer
) -> None:
    """Authentication comes before the body (decision 0004): uvicorn must not then drain an endless one."""
    with RawConnection(server.url) as connection:
        connection.send(request_head("POST", alice.tasks_path, [JSON, ("Transfer-Encoding", "chunked")]))
        connection.send_until_refused(chunked(OVER_LIMIT, last=False))
        response = connection.response()
        assert_problem(response, 401, title="Unauthorized", problem_type="about:blank")
        assert_closed_without_reading_the_rest(connection, response)


# --- Transfer codings the service does not decode --------------------------------------------------

UNDECODED_CODINGS = {
    "gzip-then-chunked-in-two-headers": [("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
    "gzip-comma-chunked": [("Transfer-Encoding", "gzip, chunked")],
    "Deflate-comma-Chunked": [("Transfer-Encoding", "Deflate, Chunked")],
    "identity-comma-chunked": [("Transfer-Encoding", "identity, chunked")],
}


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 4096, 32])
@pytest.mark.parametrize("codings", UNDECODED_CODINGS.values(), ids=UNDECODED_CODINGS)
def test_a_transfer_coding_other_than_chunked_is_501_before_the_body_is_read(
    alice: User, server: LiveServer, codings: list[tuple[str, str]], size: int
) -> None:
    with RawConnection(server.url) as connection:
        connection.send(request_head("POST", alice.tasks_path, [*alice.headers.items(), JSON, *codings]))
        connection.send_until_refused(chunked(task_body("Coded", size), last=False))
        response = connection.response()
        body = assert_problem(response, 501, title="Not Implemented", problem_type="about:blank")
        assert "chunked" in body["detail"]
        assert_closed_without_reading_the_rest(connection, response)
    assert total(alice) == 0


# --- Framing the HTTP parser refuses before the service sees it ------------------------------------

SMALL = task_body("Small")
PARSER_REFUSES: dict[str, tuple[list[tuple[str, str]], bytes]] = {
    "chunked-and-a-length": ([("Transfer-Encoding", "chunked"), ("Content-Length", "10")], chunked(OVER_LIMIT)),
    "a-length-and-chunked": ([("Content-Length", "10"), ("Transfer-Encoding", "chunked")], chunked(OVER_LIMIT)),
    "chunked-not-last": ([("Transfer-Encoding", "chunked, gzip")], chunked(SMALL)),
    "gzip-without-chunked": ([("Transfer-Encoding", "gzip")], SMALL),
    "chunked-twice-in-a-list": ([("Transfer-Encoding", "chunked, chunked")], chunked(SMALL)),
    "chunked-in-two-headers": ([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], chunked(SMALL)),
    "space-before-the-colon": ([("Transfer-Encoding ", "chunked")], chunked(OVER_LIMIT)),
    "two-equal-lengths": ([("Content-Length", str(len(SMALL))), ("Content-Length", str(len(SMALL)))], SMALL),
    "two-different-lengths": ([("Content-Length", str(len(SMALL))), ("Content-Length", "99999999")], SMALL),
    "a-length-list": ([("Content-Length", f"{len(SMALL)}, {len(SMALL)}")], SMALL),
    "a-signed-length": ([("Content-Length", f"+{len(SMALL)}")], SMALL),
    "a-negative-length": ([("Content-Length", "-1")], SMALL),
    "a-hexadecimal-length": ([("Content-Length", hex(len(SMALL)))], SMALL),
    "a-length-over-64-bits": ([("Content-Length", "9" * 30)], SMALL),
}


@pytest.mark.parametrize(("headers", "payload"), PARSER_REFUSES.values(), ids=PARSER_REFUSES)
def test_ambiguous_framing_is_a_400_problem_from_the_parser_and_the_connection_is_closed(
    alice: User, server: LiveServer, headers: list[tuple[str, str]], payload: bytes
) -> None:
    with RawConnection(server.url) as connection:
        connection.send(request_head("POST", alice.tasks_path, [*alice.headers.items(), JSON, *headers]))
        connection.send_until_refused(payload)
        response = connection.response()
        problem = assert_problem(response, 400, title="Bad Request", problem_type="about:blank")
        assert "not valid HTTP/1.1" in problem["detail"]
        assert_closed_without_reading_the_rest(connection, response)
    assert total(alice) == 0


# --- Lengths that lie ------------------------------------------------------------------------------


def test_bytes_beyond_a_length_that_lies_low_are_not_body_but_a_bad_next_request(
    alice: User, server: LiveServer
) -> None:
    declared = task_body("Declared part")
    with RawConnection(server.url) as connection:
        head = request_head(
            "POST", alice.tasks_path, [*alice.headers.items(), JSON, ("Content-Length", str(len(declared)))]
        )
        connection.send(head + declared)
        assert connection.response().status == 201
        connection.send_until_refused(b" " * (2 * 1024 * 1024))
        response = connection.response()
        assert_problem(response, 400, title="Bad Request", problem_type="about:blank")
        assert_closed_without_reading_the_rest(connection, response)
    assert [task["title"] for task in alice.request("GET", alice.tasks_path).json()["items"]] == ["Declared part"]


def test_a_length_that_lies_high_is_waited_for_and_nothing_is_created_when_the_client_leaves(
    alice: User, server: LiveServer
) -> None:
    sent = task_body("Short")
    with RawConnection(server.url, timeout=1.0) as connection:
        head = request_head(
            "POST", alice.tasks_path, [*alice.headers.items(), JSON, ("Content-Length", str(len(sent) + 100))]
        )
        connection.send(head + sent)
        with pytest.raises(TimeoutError):
            connection.response()
    assert total(alice) == 0


# --- Media type ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_types",
    [
        ["application/json", "application/json"],
        ["application/json", "text/plain"],
        ["text/plain", "application/json"],
    ],
    ids=["json-twice", "json-then-text", "text-then-json"],
)
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_request_with_several_content_types_is_415(
    alice: User, server: LiveServer, content_types: list[str], framing: str
) -> None:
    body = task_body("Two types")
    framed = [("Content-Length", str(len(body)))] if framing == "length" else [("Transfer-Encoding", "chunked")]
    headers = [*alice.headers.items(), *[("Content-Type", value) for value in content_types], *framed]
    with RawConnection(server.url) as connection:
        connection.send(
            request_head("POST", alice.tasks_path, headers) + (body if framing == "length" else chunked(body))
        )
        response = connection.response()
    problem = assert_problem(response, 415, title="Unsupported Media Type", problem_type="about:blank")
    assert "2 Content-Type headers" in problem["detail"]
    assert total(alice) == 0


def test_a_content_type_list_in_one_header_is_415(alice: User, server: LiveServer) -> None:
    body = task_body("Listed types")
    headers = [
        *alice.headers.items(),
        ("Content-Type", "application/json, text/plain"),
        ("Content-Length", str(len(body))),
    ]
    with RawConnection(server.url) as connection:
        connection.send(request_head("POST", alice.tasks_path, headers) + body)
        assert_problem(connection.response(), 415, title="Unsupported Media Type", problem_type="about:blank")
    assert total(alice) == 0


# --- Target and header sizes -----------------------------------------------------------------------


def query_for(path: str, target_bytes: int) -> str:
    """A target of exactly `target_bytes` bytes (path and query, without the `?`)."""
    return path + "?x=" + "a" * (target_bytes - len(path) - len("x="))


def send_head(server: LiveServer, method: str, target: str, headers: list[tuple[str, str]]) -> RawResponse:
    with RawConnection(server.url) as connection:
        connection.send(request_head(method, target, headers))
        return connection.response()


def test_a_target_of_16384_bytes_is_served(alice: User, server: LiveServer) -> None:
    response = send_head(server, "GET", query_for(alice.tasks_path, MAX_TARGET_BYTES), list(alice.headers.items()))
    assert response.status == 200


@pytest.mark.parametrize("size", [MAX_TARGET_BYTES + 1, 32 * 1024])
@pytest.mark.parametrize("authenticated", [True, False], ids=["with-token", "without-token"])
def test_a_target_over_16384_bytes_is_414_before_authentication_and_not_echoed(
    alice: User, server: LiveServer, size: int, authenticated: bool
) -> None:
    headers = list(alice.headers.items()) if authenticated else []
    response = send_head(server, "GET", query_for(alice.tasks_path, size), headers)
    problem = assert_problem(response, 414, title="URI Too Long", problem_type="about:blank")
    assert "16384" in problem["detail"]
    assert "instance" not in problem
    assert len(response.body) < 1024
    assert response.header("connection") == "close"


def test_the_longest_target_the_contract_allows_is_not_414(http: httpx.Client, server: LiveServer) -> None:
    """Every listTasks parameter at its longest, in 4-byte characters where any character goes."""

    def longest(name: str) -> int:
        return int(parameter_schema("listTasks", name)["maxLength"])

    def widest_choice(name: str) -> str:
        return max(parameter_schema("listTasks", name)["enum"], key=len)

    user = User(new_user_id().ljust(longest("user_id"), "x"), http)
    widest = "\U0001f600"
    tag = parameter_schema("listTasks", "tag")
    query = [("q", widest * longest("q")), *[("tag", widest * tag["items"]["maxLength"])] * tag["maxItems"]]
    query += [("cursor", "A" * longest("cursor"))]  # only the base64url alphabet goes
    query += [(name, widest_choice(name)) for name in ("sort", "order", "status")]
    query += [("limit", str(parameter_schema("listTasks", "limit")["maximum"])), ("offset", "0")]  # 0 with a cursor
    query += [("due_before", "2026-12-31T23:59:59.999999+14:00"), ("due_after", "2026-01-01T00:00:00.000000-12:00")]
    query += [("overdue", "false")]
    assert {name for name, _ in query} == set(query_parameters("listTasks")), "every parameter is given"
    target = user.tasks_path + "?" + urlencode(query)
    assert 8000 < len(target) - 1 <= MAX_TARGET_BYTES
    response = send_head(server, "GET", target, list(user.headers.items()))
    problem = assert_problem(response, 422, title="Unprocessable Content", problem_type="about:blank")
    assert [error["parameter"] for error in problem["errors"]] == ["cursor"]


def padding_headers(sizes: list[int]) -> list[tuple[str, str]]:
    """Headers whose name and value together are `size` bytes each."""
    return [(f"X-Pad-{i}", "a" * (size - len(f"X-Pad-{i}"))) for i, size in enumerate(sizes)]


def padded_to(headers: list[tuple[str, str]], head_bytes: int) -> list[tuple[str, str]]:
    """The headers, and one more, so that all names and values (Host's too) come to `head_bytes` bytes."""
    sent = sum(len(name) + len(value) for name, value in [("Host", "127.0.0.1"), *headers])
    return [*headers, *padding_headers([head_bytes - sent])]


def test_headers_of_16384_bytes_in_all_are_served(alice: User, server: LiveServer) -> None:
    response = send_head(server, "GET", alice.tasks_path, padded_to(list(alice.headers.items()), MAX_HEADERS_BYTES))
    assert response.status == 200


def test_an_authorization_header_over_8_kib_is_left_to_authentication(alice: User, server: LiveServer) -> None:
    """Within the head's bound, the Authorization header's own bound (decision 0025) answers: 401."""
    response = send_head(server, "GET", alice.tasks_path, [("Authorization", "Bearer " + "A" * 9000)])
    assert_problem(response, 401, title="Unauthorized", problem_type="about:blank")


OVERSIZED_HEADERS: dict[str, Callable[[list[tuple[str, str]]], list[tuple[str, str]]]] = {
    "16385-bytes-in-all": lambda token: padded_to(token, MAX_HEADERS_BYTES + 1),
    "a-thousand-small-headers": lambda token: [*token, *padding_headers([20] * 1000)],
    "an-authorization-of-17-KiB": lambda token: [("Authorization", "Bearer " + "A" * 17 * 1024)],
}


@pytest.mark.parametrize("headers", OVERSIZED_HEADERS.values(), ids=OVERSIZED_HEADERS)
@pytest.mark.parametrize("authenticated", [True, False], ids=["with-token", "without-token"])
def test_headers_over_16384_bytes_in_all_are_431_before_authentication(
    alice: User,
    server: LiveServer,
    headers: Callable[[list[tuple[str, str]]], list[tuple[str, str]]],
    authenticated: bool,
) -> None:
    token = list(alice.headers.items()) if authenticated else []
    response = send_head(server, "GET", alice.tasks_path, headers(token))
    problem = assert_problem(response, 431, title="Request Header Fields Too Large", problem_type="about:blank")
    assert "16384" in problem["detail"]
    assert problem["instance"] == alice.tasks_path
    assert response.header("connection") == "close"


def test_a_request_with_oversized_headers_creates_nothing(alice: User, server: LiveServer) -> None:
    body = task_body("Padded head")
    headers = [*alice.headers.items(), JSON, ("Content-Length", str(len(body)))]
    with RawConnection(server.url) as connection:
        connection.send(request_head("POST", alice.tasks_path, padded_to(headers, MAX_HEADERS_BYTES + 1)) + body)
        assert_problem(connection.response(), 431, title="Request Header Fields Too Large", problem_type="about:blank")
    assert total(alice) == 0


# --- Heads too large to buffer ---------------------------------------------------------------------
# Over 64 KiB, the server protocol (impl/http/server_protocol.py) refuses a head while it is still arriving:
# httptools would otherwise buffer it whole, at a cost quadratic in its size.

MAX_HEAD_BYTES = 64 * 1024
MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("start", "filler", "status", "title"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ", b"a", 431, "Request Header Fields Too Large"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X-Pad: aaaaaaaaaa\r\n", 431, "Request Header Fields Too Large"),
        (b"GET /healthz?x=", b"a", 414, "URI Too Long"),
    ],
    ids=["one-header-of-100-MiB", "100-MiB-of-small-headers", "a-target-of-100-MiB"],
)
def test_a_head_growing_past_64_kib_is_refused_before_it_is_buffered(
    server: LiveServer, start: bytes, filler: bytes, status: int, title: str
) -> None:
    peak_before = peak_rss_kib(server)
    response, sent, elapsed = stream_head(server, start, filler, 100 * MiB)
    problem = assert_problem(response, status, title=title, problem_type="about:blank")
    assert "instance" not in problem
    assert response.header("connection") == "close"
    assert sent < 100 * MiB, "the server stopped reading"
    assert elapsed < PROMPT_SECONDS
    assert peak_rss_kib(server) - peak_before < 32 * 1024


def test_a_body_arriving_with_its_head_is_not_counted_as_head(alice: User, server: LiveServer) -> None:
    """Head and 64 KiB of body in one write: only the head counts towards the protocol's 64 KiB."""
    body = task_body("Head and body", MAX_BODY_BYTES)
    headers = [*alice.headers.items(), JSON, ("Content-Length", str(len(body)))]
    with RawConnection(server.url) as connection:
        connection.send(request_head("POST", alice.tasks_path, headers) + body)
        response = connection.response()
    assert response.status == 201, response.body[:300]


WARM_UP_REQUESTS = 10


def test_pipelined_requests_with_large_bodies_are_not_taken_for_a_large_head(alice: User, server: LiveServer) -> None:
    """One read that starts in a head and holds two whole requests and the start of a third: only head is head."""
    body = task_body("Pipelined", MAX_BODY_BYTES)
    head = request_head("POST", alice.tasks_path, [*alice.headers.items(), JSON, ("Content-Length", str(len(body)))])
    with RawConnection(server.url) as connection:
        for _ in range(WARM_UP_REQUESTS):  # the kernel widens the connection's receive window with use
            connection.send(head + body)
            assert connection.response().status == 201
        connection.send(head[:100])
        time.sleep(0.2)
        # A busy server then finds the rest waiting and reads it at once (uvloop reads up to 256,000 bytes).
        server.process.send_signal(signal.SIGSTOP)
        try:
            connection.send(head[100:] + body + head + body + head[:100])
            time.sleep(0.2)
        finally:
            server.process.send_signal(signal.SIGCONT)
        time.sleep(0.2)
        connection.send(head[100:] + body)
        statuses = [connection.response().status for _ in range(3)]
    assert statuses == [201, 201, 201]
    assert total(alice) == WARM_UP_REQUESTS + 3
