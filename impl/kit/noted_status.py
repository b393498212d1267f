"""The one ASGI send wrapper that notes the status an answer starts with, for the layers that report it."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Send

# What a layer reports when the app inside it raised before starting an answer: the server answers 500.
NOT_STARTED = 500


class StatusNotingSend:
    """Passes every message on; notes the status of `http.response.start` and lets `on_start` amend it first."""

    __slots__ = ("_on_start", "_send", "status")

    def __init__(self, send: Send, on_start: Callable[[Message], None] | None = None) -> None:
        self._send = send
        self._on_start = on_start
        self.status = NOT_STARTED

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            if self._on_start is not None:
                self._on_start(message)
        await self._send(message)
