"""uvicorn's httptools protocol with a bound on the request head while it arrives (httptools has none).

Run the service with `--http impl.server_protocol:BoundedHttpToolsProtocol`. Without it a 100 MiB header
is buffered whole, quadratically (about 200 MB and 16 s of one worker's CPU, measured), before any
middleware can see it (decision 0024). The bound is well above the middleware's (impl/limits.py), which
gives the usual problem document with a request id; this one only stops what it could not. The
parser's own refusals (400) are problem documents too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from impl.limits import MAX_TARGET_BYTES
from impl.problems import PROBLEM_JSON, problem, problem_json
from impl.response_headers import API_HEADERS

MAX_HEAD_BYTES = 64 * 1024
# A 414 is cacheable by default (RFC 9110 15.1) and the target may not have been read: the strictest (decision 0043).
SECURITY_HEADERS = b"".join(b"%s: %s\r\n" % header for header in API_HEADERS)


def refusal(status: int, detail: str) -> bytes:
    body = problem_json(problem(status, detail, instance=None))
    reason = {400: b"Bad Request", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}[status]
    head = b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%sconnection: close\r\n\r\n"
    return head % (status, reason, PROBLEM_JSON.encode(), len(body), SECURITY_HEADERS) + body


TARGET_TOO_LONG = refusal(414, f"The request target exceeds {MAX_TARGET_BYTES} bytes.")
HEAD_TOO_LARGE = refusal(431, f"The request line and headers exceed {MAX_HEAD_BYTES} bytes.")
# httptools' refusals (ambiguous or malformed framing among them) as a problem, not uvicorn's plain text.
NOT_HTTP = refusal(400, "The request is not valid HTTP/1.1 (its framing may be ambiguous or malformed).")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = MAX_HEAD_BYTES

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.reading_head = True
        self.head_ended = False
        self.head_bytes = 0

    def data_received(self, data: bytes) -> None:
        # Counted only when the whole read was head: it began in one, no head ended in it, one goes on.
        # A read holding the end of a message and a new head's start is not: at most one read (256 KiB)
        # more than the bound is buffered for a head.
        counted = self.reading_head
        self.head_ended = False
        super().data_received(data)
        if not counted or self.head_ended or not self.reading_head or self.transport.is_closing():
            return
        self.head_bytes += len(data)
        if self.head_bytes > self.max_head_bytes:
            url_bytes = len(getattr(self, "url", b""))
            self.transport.write(TARGET_TOO_LONG if url_bytes > MAX_TARGET_BYTES else HEAD_TOO_LARGE)
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self.transport.write(NOT_HTTP)
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self.head_ended = True
        self.head_bytes = 0
        super().on_headers_complete()
