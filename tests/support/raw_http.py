"""HTTP/1.1 written byte for byte, for framing that httpx would normalise, and the answers read back."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Generous: every answer expected here takes milliseconds; the bound only tells a stall from an answer.
PROMPT_SECONDS = 5.0


def request_head(method: str, target: str, headers: list[tuple[str, str]], *, host: str = "127.0.0.1") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(body: bytes, *, size: int = 4096, last: bool = True) -> bytes:
    """The body in chunked coding; without the last (empty) chunk, the body never ends."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size))
    return out + (b"0\r\n\r\n" if last else b"")


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


class RawConnection:
    def __init__(self, base_url: str, *, timeout: float = PROMPT_SECONDS) -> None:
        parts = urlsplit(base_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.buffer = b""

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_until_refused(self, data: bytes) -> bool:
        """Sends what it can (the server may answer and close before it has read it all); False once refused."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return False
        self.buffer += data
        return bool(data)

    def response(self) -> RawResponse:
        """The next response (with a Content-Length, or none for 204); raises TimeoutError when none comes."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError(f"closed before a response: {self.buffer[:200]!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = [
            (name.strip().lower(), value.strip()) for name, value in (line.split(":", 1) for line in header_lines)
        ]
        response = RawResponse(int(status_line.split()[1]), headers, b"")
        assert response.header("transfer-encoding") is None, "a chunked response: not expected here"
        length = int(response.header("content-length") or 0)
        while len(self.buffer) < length:
            if not self._fill():
                raise ConnectionError("closed in the middle of a response body")
        response.body, self.buffer = self.buffer[:length], self.buffer[length:]
        return response

    def closed_by_server(self) -> bool:
        """Whether the server closed the connection (end of stream or reset) rather than waiting for more."""
        try:
            return self.sock.recv(65536) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def accepts_more(self, size: int = 8 * 1024 * 1024) -> bool:
        """Whether the server still reads: megabytes more are refused by a closed connection."""
        try:
            self.sock.sendall(b" " * size)
        except (BrokenPipeError, ConnectionResetError):
            return False
        except TimeoutError:
            return True  # nobody reads, yet the connection is open
        return True
