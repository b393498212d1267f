"""Raw requests with the framing a test chooses: JSON task bodies padded to a size, heads streamed without end."""

from __future__ import annotations

import time
from pathlib import Path

from devtools.live_server import LiveServer
from tests.support.raw_http import RawConnection, RawResponse
from tests.support.users import User

JSON = ("Content-Type", "application/json")


def task_body(title: str, size: int = 0) -> bytes:
    """A valid task body, padded with JSON white space to `size` bytes."""
    body = ('{"title": "' + title + '"}').encode()
    return body + b" " * (size - len(body))


def total(user: User) -> int:
    count: int = user.request("GET", user.tasks_path).json()["total"]
    return count


def peak_rss_kib(server: LiveServer) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def stream_head(server: LiveServer, start: bytes, filler: bytes, size: int) -> tuple[RawResponse, int, float]:
    """Sends `start`, then `filler` up to `size` bytes while the server takes them; its answer, bytes sent, seconds."""
    started = time.monotonic()
    with RawConnection(server.url) as connection:
        connection.send(start)
        sent = 0
        piece = filler * (65536 // len(filler))
        while sent < size and connection.send_until_refused(piece):
            sent += len(piece)
        response = connection.response()
        assert connection.closed_by_server()
    return response, sent, time.monotonic() - started
