"""Trailer fields (after a chunked body's last chunk) never reach the service, and are bounded while they arrive.

RFC 9112 section 7.1.2: a recipient must not merge trailer fields into the header section. They are
dropped as they are parsed (decision 0040); whatever follows the head of a request that is not body
(chunk-size lines, chunk extensions, trailer fields) is bounded at 64 KiB per request.
"""

from __future__ import annotations

import uuid

import pytest

from devtools.live_server import LiveServer
from tests.support.framing import JSON, peak_rss_kib, stream_head, task_body, total
from tests.support.problems import assert_problem
from tests.support.raw_http import PROMPT_SECONDS, RawConnection, RawResponse, chunked, request_head
from tests.support.users import User

CHUNKED = ("Transfer-Encoding", "chunked")
MiB = 1024 * 1024


def with_trailers(body: bytes, trailers: list[tuple[str, str]]) -> bytes:
    """The body chunked, its last chunk followed by these trailer fields."""
    fields = b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in trailers)
    return chunked(body, last=False) + b"0\r\n" + fields + b"\r\n"


def send(server: LiveServer, head: bytes, rest: bytes) -> RawResponse:
    with RawConnection(server.url) as connection:
        connection.send(head + rest)
        return connection.response()


def test_an_authorization_only_in_the_trailer_section_is_not_seen(alice: User, server: LiveServer) -> None:
    alice.create("Private")
    head = request_head("GET", alice.tasks_path, [CHUNKED])
    response = send(server, head, with_trailers(b"", [("Authorization", alice.headers["Authorization"])]))
    assert_problem(response, 401, title="Unauthorized", problem_type="about:blank")


def test_an_if_match_in_the_trailer_section_is_not_evaluated(alice: User, server: LiveServer) -> None:
    task = alice.create("Before")
    body = b'{"title": "After"}'
    head = request_head("PATCH", alice.task_path(task["id"]), [*alice.headers.items(), JSON, CHUNKED])
    response = send(server, head, with_trailers(body, [("If-Match", '"stale"')]))
    assert response.status == 200, response.body[:300]
    assert response.json()["title"] == "After"


def test_an_idempotency_key_in_the_trailer_section_is_not_honoured(alice: User, server: LiveServer) -> None:
    key = str(uuid.uuid4())
    head = request_head("POST", alice.tasks_path, [*alice.headers.items(), JSON, CHUNKED])
    first = send(server, head, with_trailers(task_body("Twice"), [("Idempotency-Key", key)]))
    second = send(server, head, with_trailers(task_body("Twice"), [("Idempotency-Key", key)]))
    assert (first.status, second.status) == (201, 201)
    assert second.header("idempotent-replayed") is None
    assert first.json()["id"] != second.json()["id"]
    assert total(alice) == 2


def test_a_request_with_trailer_fields_is_served_and_the_connection_serves_on(alice: User, server: LiveServer) -> None:
    head = request_head("POST", alice.tasks_path, [*alice.headers.items(), JSON, CHUNKED])
    with RawConnection(server.url) as connection:
        connection.send(head + with_trailers(task_body("With trailers"), [("X-Checksum", "abc"), ("X-Other", "1")]))
        assert connection.response().status == 201
        connection.send(request_head("GET", "/healthz", []))
        assert connection.response().status == 200
    assert total(alice) == 1


# --- What follows a head that is not body is bounded while it arrives --------------------------------

START_OF_BODY = request_head("GET", "/healthz", [CHUNKED])
ENDLESS: dict[str, tuple[bytes, bytes]] = {
    # (what is sent once after the head, then what is sent over and over)
    "trailer-fields": (b"0\r\n", b"a:b\r\n"),
    "one-trailer-field": (b"0\r\nX-Pad: ", b"a"),
    "chunk-extensions": (b"1;", b"a"),
    "empty-chunks-of-leading-zeros": (b"", b"0000000000000000000000000000001\r\na\r\n"),
}


@pytest.mark.parametrize(("after_head", "filler"), ENDLESS.values(), ids=ENDLESS)
def test_an_endless_stream_after_the_head_is_refused_with_bounded_memory(
    server: LiveServer, after_head: bytes, filler: bytes
) -> None:
    """Before decision 0040, 2 MB of trailer lines grew the worker by 48 MB and the request was still served."""
    peak_before = peak_rss_kib(server)
    response, sent, elapsed = stream_head(server, START_OF_BODY + after_head, filler, 64 * MiB)
    problem = assert_problem(response, 400, title="Bad Request", problem_type="about:blank")
    assert "65536" in problem["detail"]
    assert response.header("connection") == "close"
    assert sent < 64 * MiB, "the server stopped reading"
    assert elapsed < PROMPT_SECONDS
    assert peak_rss_kib(server) - peak_before < 16 * 1024
