"""Slow clients are timed out and connections are bounded per process (decision 0040).

A service of its own with short deadlines (1 s for a head, 2 s for a body) and room for 20 connections,
so that each bound shows in seconds; the defaults are those of impl/settings.py.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.framing import JSON, task_body
from tests.support.problems import assert_problem
from tests.support.raw_http import RawConnection, RawResponse, request_head
from tests.support.users import User, new_user_id

HEAD_SECONDS = 1.0
BODY_SECONDS = 2.0
MAX_CONNECTIONS = 20
# Generous: a deadline is checked by the event loop's timer, the slack only absorbs a busy machine.
SLACK_SECONDS = 3.0


@pytest.fixture(scope="module")
def strict(database_url: str) -> Iterator[LiveServer]:
    env = {
        **shared_secret_env(database_url),
        "HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD_SECONDS),
        "HTTP_BODY_TIMEOUT_SECONDS": str(BODY_SECONDS),
        "HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    live = LiveServer(env, log_path=REPORTS / "slow-clients-server.log", name="strict server")
    yield live
    live.stop()


@pytest.fixture
def carol(strict: LiveServer) -> Iterator[User]:
    with httpx.Client(base_url=strict.url, timeout=10) as http:
        yield User(new_user_id(), http)


def answer_within(connection: RawConnection, seconds: float) -> tuple[RawResponse, float]:
    started = time.monotonic()
    connection.sock.settimeout(seconds)
    response = connection.response()
    return response, time.monotonic() - started


def trickle(connection: RawConnection, data: bytes, *, every: float, for_seconds: float) -> bool:
    """Sends `data` a byte at a time, one each `every` seconds, for at most `for_seconds`; False once refused."""
    deadline = time.monotonic() + for_seconds
    for byte in data:
        if time.monotonic() > deadline or not connection.send_until_refused(bytes([byte])):
            return False
        time.sleep(every)
    return True


def test_a_head_that_stops_halfway_is_408_at_its_deadline_and_the_connection_closes(strict: LiveServer) -> None:
    with RawConnection(strict.url) as connection:
        connection.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
        response, waited = answer_within(connection, HEAD_SECONDS + SLACK_SECONDS)
        problem = assert_problem(response, 408, title="Request Timeout", problem_type="about:blank")
        assert "head" in problem["detail"]
        assert response.header("connection") == "close"
        assert connection.closed_by_server()
    assert waited < HEAD_SECONDS + SLACK_SECONDS


def test_a_head_trickling_in_is_408_at_its_deadline_though_bytes_keep_coming(strict: LiveServer) -> None:
    head = request_head("GET", "/healthz", [("X-Pad", "a" * 200)])
    with RawConnection(strict.url) as connection:
        started = time.monotonic()
        completed = trickle(connection, head, every=0.1, for_seconds=HEAD_SECONDS + SLACK_SECONDS)
        assert not completed or time.monotonic() - started > HEAD_SECONDS
        response, _ = answer_within(connection, SLACK_SECONDS)
        assert_problem(response, 408, title="Request Timeout", problem_type="about:blank")
    assert time.monotonic() - started < HEAD_SECONDS + 2 * SLACK_SECONDS


def test_a_connection_that_sends_nothing_is_closed_at_the_head_deadline(strict: LiveServer) -> None:
    with RawConnection(strict.url, timeout=HEAD_SECONDS + SLACK_SECONDS) as connection:
        started = time.monotonic()
        assert connection.closed_by_server()
        assert connection.buffer == b"", "nothing was asked, so nothing is answered"
    assert time.monotonic() - started < HEAD_SECONDS + SLACK_SECONDS


def test_an_idle_kept_alive_connection_is_closed_though_it_sends_empty_lines(strict: LiveServer) -> None:
    """uvicorn's keep-alive timer stops at any byte; the head deadline does not."""
    with RawConnection(strict.url, timeout=HEAD_SECONDS + SLACK_SECONDS) as connection:
        connection.send(request_head("GET", "/healthz", []))
        assert connection.response().status == 200
        started = time.monotonic()
        while connection.send_until_refused(b"\r\n") and time.monotonic() - started < HEAD_SECONDS + SLACK_SECONDS:
            time.sleep(0.1)
        assert connection.closed_by_server()
    assert time.monotonic() - started < HEAD_SECONDS + SLACK_SECONDS


def test_a_body_trickling_in_is_408_at_its_deadline_and_nothing_is_created(carol: User, strict: LiveServer) -> None:
    body = task_body("Slowly")
    headers = [*carol.headers.items(), JSON, ("Content-Length", str(len(body)))]
    with RawConnection(strict.url) as connection:
        connection.send(request_head("POST", carol.tasks_path, headers))
        started = time.monotonic()
        trickle(connection, body, every=0.5, for_seconds=BODY_SECONDS + SLACK_SECONDS)
        response, _ = answer_within(connection, SLACK_SECONDS)
        problem = assert_problem(response, 408, title="Request Timeout", problem_type="about:blank")
        assert "body" in problem["detail"]
        assert connection.closed_by_server()
    assert time.monotonic() - started < BODY_SECONDS + 2 * SLACK_SECONDS
    assert carol.request("GET", carol.tasks_path).json()["total"] == 0


def test_a_head_and_a_body_within_their_deadlines_are_served(carol: User, strict: LiveServer) -> None:
    """Each deadline runs for its part: a head taking most of its time, then a body most of its own."""
    body = task_body("In time")
    headers = [*carol.headers.items(), JSON, ("Content-Length", str(len(body)))]
    head = request_head("POST", carol.tasks_path, headers)
    with RawConnection(strict.url) as connection:
        connection.send(head[:20])
        time.sleep(HEAD_SECONDS * 0.6)
        connection.send(head[20:] + body[:5])
        time.sleep(BODY_SECONDS * 0.6)
        connection.send(body[5:])
        assert connection.response().status == 201
        # A kept-alive connection's next head has a deadline of its own.
        time.sleep(HEAD_SECONDS * 0.6)
        connection.send(request_head("GET", "/healthz", []))
        assert connection.response().status == 200


def test_connections_past_the_bound_are_503_and_closed_while_those_within_are_served(strict: LiveServer) -> None:
    with ExitStack() as stack:
        held = [stack.enter_context(RawConnection(strict.url)) for _ in range(MAX_CONNECTIONS)]
        time.sleep(0.2)  # each is accepted before the next one is made
        with RawConnection(strict.url) as extra:
            response = extra.response()
            problem = assert_problem(response, 503, title="Service Unavailable", problem_type="about:blank")
            assert str(MAX_CONNECTIONS) in problem["detail"]
            assert response.header("retry-after") == "1"
            assert extra.closed_by_server()
        held[0].send(request_head("GET", "/healthz", []))
        assert held[0].response().status == 200
    time.sleep(0.2)  # the held connections are closed
    with RawConnection(strict.url) as connection:
        connection.send(request_head("GET", "/healthz", []))
        assert connection.response().status == 200


def reading_nothing(server: LiveServer) -> socket.socket:
    """A connection with a tiny receive window that asks for megabytes of answers and reads none of them."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(request_head("GET", "/openapi.json", []) * 100)  # 100 answers of 45 KB each
    return sock


def test_clients_that_stop_reading_are_cut_off_at_the_deadline_and_free_their_connections(
    strict: LiveServer,
) -> None:
    with ExitStack() as stack:
        stalled = [stack.enter_context(reading_nothing(strict)) for _ in range(MAX_CONNECTIONS)]
        time.sleep(0.5)
        with RawConnection(strict.url) as extra:
            assert extra.response().status == 503, "every connection is held by a client that reads nothing"
        time.sleep(BODY_SECONDS + SLACK_SECONDS)
        with RawConnection(strict.url) as connection:
            connection.send(request_head("GET", "/healthz", []))
            assert connection.response().status == 200, "the stalled connections were cut off"
        assert all(ended_after_what_was_sent(sock) for sock in stalled)


def ended_after_what_was_sent(sock: socket.socket) -> bool:
    """Whether the server ended the connection: once what reached the client is read, an end or a reset."""
    sock.settimeout(SLACK_SECONDS)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_a_pipeline_answered_for_longer_than_the_head_deadline_is_answered_in_full(
    carol: User, strict: LiveServer
) -> None:
    """Requests queued on a connection owe nothing while the service answers them: no deadline runs."""
    count = 3000
    head = request_head("GET", carol.tasks_path, list(carol.headers.items()))
    started = time.monotonic()
    with RawConnection(strict.url, timeout=30) as connection:
        sender = threading.Thread(target=connection.send, args=(head * count,))
        sender.start()
        statuses = [connection.response().status for _ in range(count)]
        sender.join()
    assert statuses == [200] * count
    assert time.monotonic() - started > HEAD_SECONDS, "the pipeline outlasted a head deadline, or proves nothing"
