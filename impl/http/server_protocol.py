"""uvicorn's httptools protocol with the bounds httptools and uvicorn lack: bytes, time and connections.

Run the service with `--http impl.http.server_protocol:BoundedHttpToolsProtocol` (as `tasks-api serve`, the tests
and the bench do). Per connection, what a client sends is bounded before any middleware sees it
(decisions 0024 and 0040):
- a head (request line and headers) past 64 KiB while it arrives: 431 (414 when the target is the long part);
- whatever else of a request is not body (chunk-size lines, chunk extensions, trailer fields) past 64 KiB: 400;
- trailer fields are dropped as they are parsed, never merged into the headers (RFC 9112 section 7.1.2);
- a head must arrive within HTTP_HEAD_TIMEOUT_SECONDS of its first byte (or of the connection, or of the
  previous response), a body within HTTP_BODY_TIMEOUT_SECONDS of its head: 408 and the connection closes;
- an answer the client stops reading (the transport's buffer stays over its high-water mark) for
  HTTP_BODY_TIMEOUT_SECONDS is dropped and the connection aborted;
- past HTTP_MAX_CONNECTIONS open connections, a new one is answered 503 and closed at once.
The bodies themselves are counted by impl/http/limits.py, which answers with a request id.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from impl.http.limits import MAX_TARGET_BYTES
from impl.http.problems import PROBLEM_JSON, problem, problem_json
from impl.http.response_headers import API_HEADERS
from impl.settings import get_settings

MAX_HEAD_BYTES = 64 * 1024
MAX_FRAMING_BYTES = 64 * 1024
REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}
# A 414 is cacheable by default (RFC 9110 15.1) and the target may not have been read: the strictest (decision 0043).
SECURITY_HEADERS = b"".join(b"%s: %s\r\n" % header for header in API_HEADERS)


def refusal(status: int, detail: str, *, retry_after_seconds: int | None = None) -> bytes:
    body = problem_json(problem(status, detail, instance=None))
    head = b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%sconnection: close\r\n" % (
        status,
        REASONS[status],
        PROBLEM_JSON.encode(),
        len(body),
        SECURITY_HEADERS,
    )
    if retry_after_seconds is not None:
        head += b"retry-after: %d\r\n" % retry_after_seconds
    return head + b"\r\n" + body


TARGET_TOO_LONG = refusal(414, f"The request target exceeds {MAX_TARGET_BYTES} bytes.")
HEAD_TOO_LARGE = refusal(431, f"The request line and headers exceed {MAX_HEAD_BYTES} bytes.")
FRAMING_TOO_LARGE = refusal(
    400, f"The chunk-size lines, chunk extensions and trailer fields of the request exceed {MAX_FRAMING_BYTES} bytes."
)
# httptools' refusals (ambiguous or malformed framing among them) as a problem, not uvicorn's plain text.
NOT_HTTP = refusal(400, "The request is not valid HTTP/1.1 (its framing may be ambiguous or malformed).")


class Awaiting(Enum):
    """What the connection waits for from the client, and so which deadline runs."""

    NOTHING = "nothing"  # the service is answering: the client owes nothing
    HEAD = "head"  # a request's head, or the first byte of the next one
    BODY = "body"  # the rest of a request whose head has arrived


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.timeouts = {
            Awaiting.HEAD: settings.http_head_timeout_seconds,
            Awaiting.BODY: settings.http_body_timeout_seconds,
        }
        self.max_connections = settings.http_max_connections
        self.in_message = False
        self.reading_head = False
        self.began_in_read = False
        self.body_in_read = 0
        # Bytes of the request in progress that are not body, over the reads after the one it began in (that
        # read is bounded by the transport's read size, 256 KiB with uvloop).
        self.framing_bytes = 0
        self.awaiting = Awaiting.NOTHING
        self.deadline: asyncio.TimerHandle | None = None
        self.write_stalled: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            detail = f"This server process has {self.max_connections} open connections; retry shortly."
            transport.write(refusal(503, detail, retry_after_seconds=1))
            transport.close()
            return
        self._await(Awaiting.HEAD)

    def connection_lost(self, exc: Exception | None) -> None:
        self._await(Awaiting.NOTHING)
        if self.write_stalled is not None:
            self.write_stalled.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.began_in_read = False
        self.body_in_read = 0
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self.in_message and not self.began_in_read:
            self.framing_bytes += len(data) - self.body_in_read
            if self.reading_head and self.framing_bytes > MAX_HEAD_BYTES:
                self._refuse(TARGET_TOO_LONG if len(getattr(self, "url", b"")) > MAX_TARGET_BYTES else HEAD_TOO_LARGE)
                return
            if self.framing_bytes > MAX_HEAD_BYTES + MAX_FRAMING_BYTES:
                self._refuse(FRAMING_TOO_LARGE)
                return
        self._await(self._awaited())

    def send_400_response(self, msg: str) -> None:
        self._refuse(NOT_HTTP)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_message = self.reading_head = self.began_in_read = True
        self.framing_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.reading_head:
            super().on_header(name, value)
        # else a trailer field: dropped (RFC 9112 section 7.1.2), its bytes counted as framing.

    def on_headers_complete(self) -> None:
        self.reading_head = False
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self.body_in_read += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self.in_message = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            # uvicorn's keep-alive timer runs now, but any byte (a bare CRLF) stops it: this one does not.
            self._await(self._awaited())

    def pause_writing(self) -> None:
        # The client reads less than is written to it: unless it catches up in time, it is cut off.
        super().pause_writing()
        if self.write_stalled is None:
            self.write_stalled = self.loop.call_later(self.timeouts[Awaiting.BODY], self._stalled_too_long)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.write_stalled is not None:
            self.write_stalled.cancel()
            self.write_stalled = None

    def timeout_keep_alive_handler(self) -> None:
        if not self.transport.is_closing():
            self._end_idle()

    def _end_idle(self) -> None:
        """End a connection with no request in progress; close() would wait for the unsent answers of a
        client that stopped reading, holding the connection, so those are dropped."""
        if self.transport.get_write_buffer_size():
            self.transport.abort()
        else:
            self.transport.close()

    def _stalled_too_long(self) -> None:
        self.write_stalled = None
        self._await(Awaiting.NOTHING)
        self.transport.abort()  # what is unsent is dropped; the operation's send sees a disconnect

    def _awaited(self) -> Awaiting:
        if self.in_message:
            return Awaiting.HEAD if self.reading_head else Awaiting.BODY
        if self.cycle is None or self.cycle.response_complete:
            return Awaiting.HEAD
        return Awaiting.NOTHING

    def _await(self, awaited: Awaiting) -> None:
        """Run the deadline for what is awaited; one already running for the same thing keeps its time."""
        if awaited is self.awaiting:
            return
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        self.awaiting = awaited
        if awaited is not Awaiting.NOTHING:
            self.deadline = self.loop.call_later(self.timeouts[awaited], self._deadline_passed, awaited)

    def _deadline_passed(self, awaited: Awaiting) -> None:
        self.deadline = None
        self.awaiting = Awaiting.NOTHING
        if self.transport.is_closing():
            return
        if not self.in_message:
            self._end_idle()  # nothing was asked, so nothing is answered
            return
        seconds = self.timeouts[awaited]
        part = "head (request line and headers)" if awaited is Awaiting.HEAD else "body"
        self._refuse(refusal(408, f"The request's {part} did not arrive within {seconds:g} seconds."))

    def _refuse(self, answer: bytes) -> None:
        """Answer and close, unless an answer is already on its way; the request's app then sees a disconnect."""
        if self.reading_head or not self.in_message:
            # The request has no cycle yet; the connection's previous one may still be answering.
            answering = self.cycle is not None and not self.cycle.response_complete
        else:
            answering = self.cycle.response_started or bool(self.pipeline)
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if not answering:
            self.transport.write(answer)
        self._await(Awaiting.NOTHING)
        self.transport.close()
