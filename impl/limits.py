"""Request bodies: at most a configured size (413, before reading it) and of the spec's media type (415)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from impl.contract_paths import body_media_types
from impl.error_handlers import problem_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


class RequestBodyLimits:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send, 413, f"The request body exceeds {self.max_bytes} bytes.")
            return
        accepted = body_media_types(scope["method"], scope["path"])
        has_body = chunked or (length is not None and length != "0")
        if has_body and accepted is not None and media_type(headers.get("content-type", "")) not in accepted:
            given = media_type(headers.get("content-type", "")) or "none"
            detail = f"The request body must be {' or '.join(accepted)}, not {given}."
            await self._refuse(scope, receive, send, 415, detail)
            return
        await self.app(scope, self._counting(receive) if chunked else receive, send)

    def _counting(self, receive: Receive) -> Receive:
        """A chunked body announces no length: stop reading it as soon as it passes the limit."""
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, f"The request body exceeds {self.max_bytes} bytes.")
            return message

        return counted

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
        response = problem_response(Request(scope, receive), status, detail)
        # The unread body stays on the connection; closing it is cheaper than draining a large one.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
