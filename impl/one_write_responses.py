"""A response's head and its first body bytes written to the socket together, in one write.

uvicorn writes the status line and headers as soon as the app starts its response, and the body when
the app sends it a moment later (in the same turn of the event loop): two send() calls, two segments on
the wire and, on the client's side, two wake-ups and two reads for what is one answer. The send() that
wakes the client is the costly one: under load the two writes were a fifth of a worker's CPU, and the
second a quarter of that (decision 0053). Held until the body's write, the head goes out with it in one
writev(); a head whose body does not follow in the same turn of the loop (a streamed answer) is written
at the end of that turn, so nothing waits on the next event.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle


class HeadWithBodyTransport:
    """The transport one request's cycle writes through; every call but the head's write goes straight on."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._cycle: RequestResponseCycle | None = None
        self._head: bytes | None = None
        self._head_seen = False

    def serve(self, cycle: RequestResponseCycle) -> None:
        self._cycle = cycle
        cycle.transport = self  # type: ignore[assignment]

    def write(self, data: bytes) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.writelines((head, data))
        elif not self._head_seen and self._cycle is not None and self._cycle.response_started:
            # The first write once the response has started is its head (a 100 Continue comes before).
            self._head_seen = True
            self._head = data
            self._loop.call_soon(self._write_head)
        else:
            self._transport.write(data)

    def _write_head(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        self._write_head()
        self._transport.close()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
