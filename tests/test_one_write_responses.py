"""A response leaves in one write: the head with the body, never the head alone when the body is ready.

Driven through the service's own HTTP protocol (BoundedHttpToolsProtocol, uvicorn's httptools parser and
request cycle) on a real event loop; only the socket is a recording stand-in, since what is asserted is
which bytes each write hands the kernel, which a peer cannot see (TCP joins them on its side anyway).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from impl.server_protocol import BoundedHttpToolsProtocol

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


class RecordingTransport(asyncio.Transport):
    """A client socket: each write (or writelines, one writev) is recorded as one chunk of bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.writes.append(b"".join(list_of_data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Connection:
    """One client connection to the service's protocol on this event loop, serving `app`."""

    def __init__(self, app: Callable[[dict[str, Any], Receive, Send], Awaitable[None]]) -> None:
        config = Config(app, lifespan="off", log_level="warning")
        config.load()
        self.protocol = BoundedHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
        self.transport = RecordingTransport()
        self.protocol.connection_made(self.transport)

    async def send(self, data: bytes) -> list[bytes]:
        """The writes made once the loop has turned enough for the app to answer what was sent."""
        self.protocol.data_received(data)
        for _ in range(20):
            await asyncio.sleep(0)
        return self.transport.writes

    def close(self) -> None:
        self.protocol.connection_lost(None)


async def served(app: Callable[[dict[str, Any], Receive, Send], Awaitable[None]], request: bytes) -> list[bytes]:
    connection = Connection(app)
    writes = await connection.send(request)
    connection.close()
    return writes


def answering(status: int, body: bytes) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


GET = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"


@pytest.fixture(autouse=True)
def settings_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
    monkeypatch.setenv("JWT_SECRET", secrets.token_urlsafe(48))


async def test_the_head_and_the_body_go_out_in_one_write() -> None:
    writes = await served(answering(200, b'{"status":"ok"}'), GET)
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b'\r\n\r\n{"status":"ok"}')


async def test_an_answer_without_a_body_is_one_write_of_its_head() -> None:
    writes = await served(answering(204, b""), b"DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n")
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 204 No Content\r\n")
    assert writes[0].endswith(b"\r\n\r\n")


async def test_a_head_request_is_answered_in_one_write() -> None:
    writes = await served(answering(200, b'{"status":"ok"}'), b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n")
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b"\r\n\r\n")


async def test_100_continue_is_written_at_once_before_the_answer() -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        body = (await receive())["body"]
        await answering(200, body)(scope, receive, send)

    connection = Connection(app)
    writes = await connection.send(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
    assert writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]  # the client waits for it before it sends the body
    writes = await connection.send(b"{}")
    connection.close()
    assert len(writes) == 2
    assert writes[1].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[1].endswith(b"\r\n\r\n{}")


async def test_a_streamed_answer_sends_its_head_without_waiting_for_the_body() -> None:
    body_may_follow = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await body_may_follow.wait()
        await send({"type": "http.response.body", "body": b"late", "more_body": False})

    connection = Connection(app)
    writes = list(await connection.send(GET))
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b"transfer-encoding: chunked\r\n\r\n")
    body_may_follow.set()
    writes = await connection.send(b"")
    connection.close()
    assert writes[1:] == [b"4\r\nlate\r\n0\r\n\r\n"]


async def test_each_of_two_pipelined_requests_is_answered_in_one_write() -> None:
    writes = await served(answering(200, b"{}"), GET + GET)
    assert len(writes) == 2
    for write in writes:
        assert write.startswith(b"HTTP/1.1 200 OK\r\n")
        assert write.endswith(b"\r\n\r\n{}")
