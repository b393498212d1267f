"""What a request may send: its target (414), headers (431), body size (413), coding (501) and media type (415).

Checked before routing and authentication, on what the server hands over: uvicorn with httptools bounds
none of it (decisions 0007 and 0024).
"""

from __future__ import annotations

import re
from enum import Enum

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_runtime.routing import body_media_types
from impl.http.error_handlers import instance
from impl.http.problems import (
    PROBLEM_JSON,
    AmbiguousRequest,
    ContentTooLarge,
    HeaderFieldsTooLarge,
    RefusedRequest,
    UnsupportedMediaType,
    UnsupportedTransferCoding,
    UriTooLong,
    problem,
    problem_json,
)

# Twice the longest target the contract allows (8.4 KiB), and the whole head's bound in Node.js and h11
# (uvicorn's other parser). Headers are bounded in all, not one by one: the Authorization header has its
# own bound (decision 0025).
MAX_TARGET_BYTES = 16384
MAX_HEADERS_BYTES = 16384
CLOSE_CONNECTION = (b"connection", b"close")
END_OF_BODY: Message = {"type": "http.request", "body": b"", "more_body": False}
# RFC 9110 section 7.2: uri-host [ ":" port ], where uri-host is an IP-literal or a reg-name (possibly empty).
HOST = re.compile(rb"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:[0-9]*)?")
# Fields the service reads one value of, that are not lists: a second copy is refused rather than ignored.
# (If-Match is a list: its copies are joined, as RFC 9110 section 5.3 allows.)
# Each as it arrives (lower-cased) and as a refusal names it, in the order they are checked.
SINGLE_FIELDS = {
    b"authorization": "Authorization",
    b"idempotency-key": "Idempotency-Key",
    b"x-request-id": "X-Request-ID",
}
JOINED_FIELDS = frozenset({b"if-match", b"if-none-match"})
UNSUPPORTED_CODING = "The only transfer coding accepted is chunked; send the body as it is, chunked or with a length."


class Body(Enum):
    """What becomes of a request's body: there is none, the operation reads it, or it takes none and it is dropped."""

    NONE = "none"
    READ = "read"
    IGNORED = "ignored"


def media_type(content_type: bytes) -> str:
    return content_type.split(b";", 1)[0].strip().lower().decode("latin-1")


class RequestLimits:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_target_bytes: int = MAX_TARGET_BYTES,
        max_headers_bytes: int = MAX_HEADERS_BYTES,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_target_bytes = max_target_bytes
        self.max_headers_bytes = max_headers_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal, body = self._check_head(scope)
        if refusal is not None:
            await answer(scope, send, refusal)
            return
        too_large = f"The request body exceeds {self.max_body_bytes} bytes."
        # Whatever the framing headers said, the bytes that arrive are counted, for every request.
        received = 0
        body_complete = body is Body.NONE
        refused = started = False

        async def counted_receive() -> Message:
            nonlocal received, body_complete, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Answered here: FastAPI turns any error raised while it reads the body into a 400.
                    if not refused and not started:
                        refused = True
                        await answer(scope, send, ContentTooLarge(too_large))
                    raise ContentTooLarge(too_large)
                body_complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; the app's own answer to the error it saw is dropped
            if message["type"] == "http.response.start" and not body_complete:
                # Answered without reading the whole body: closing stops uvicorn from draining the rest.
                message = {**message, "headers": [*message.get("headers", ()), CLOSE_CONNECTION]}
            started = True
            await send(message)

        try:
            if body is Body.IGNORED:
                # The operation reads no body, so nothing else would count this one: it is read and dropped.
                if not await drained(counted_receive):
                    return
                await self.app(scope, then(END_OF_BODY, receive), guarded_send)
            else:
                await self.app(scope, counted_receive, guarded_send)
        except ContentTooLarge:
            if not refused:
                raise

    def _check_head(self, scope: Scope) -> tuple[RefusedRequest | None, Body]:
        """The refusal the request's target and headers call for, if any, and what becomes of its body."""
        if len(scope["raw_path"]) + len(scope["query_string"]) > self.max_target_bytes:
            return UriTooLong(f"The request target exceeds {self.max_target_bytes} bytes."), Body.NONE
        head_bytes = 0
        content_types: list[bytes] = []
        declared_length = 0
        body_declared = False
        transfer_codings: list[bytes] = []
        hosts: list[bytes] = []
        read_once: list[bytes] = []
        for name, value in scope["headers"]:
            head_bytes += len(name) + len(value)
            # Header names arrive lower-cased, so every spelling of these is seen, and every copy of them.
            if name == b"content-type":
                content_types.append(value)
            elif name == b"content-length":
                body_declared = body_declared or value.strip() != b"0"
                if value.isdigit():
                    declared_length = max(declared_length, int(value))
            elif name == b"transfer-encoding":
                body_declared = True
                transfer_codings.append(value)
            elif name == b"host":
                hosts.append(value)
            elif name in SINGLE_FIELDS or name in JOINED_FIELDS:
                read_once.append(name)
        if head_bytes > self.max_headers_bytes:
            return HeaderFieldsTooLarge(f"The request headers exceed {self.max_headers_bytes} bytes in all."), Body.NONE
        ambiguity = host_refusal(hosts, scope.get("http_version", "1.1"))
        if ambiguity is None and len(read_once) > 1:
            ambiguity = repeated_field_refusal(read_once)
            if ambiguity is None:
                join_list_fields(scope, read_once)
        if ambiguity is not None:
            return ambiguity, Body.NONE
        if transfer_codings and not only_chunked(transfer_codings):
            # httptools reads "gzip, chunked" as chunked and hands over the bytes still gzip-coded.
            return UnsupportedTransferCoding(UNSUPPORTED_CODING), Body.NONE
        if declared_length > self.max_body_bytes:
            return ContentTooLarge(f"The request body exceeds {self.max_body_bytes} bytes."), Body.NONE
        if not body_declared:
            return None, Body.NONE
        accepted = body_media_types(scope["app"].router.routes, scope)
        if accepted is None:
            return None, Body.IGNORED
        return media_type_refusal(content_types, accepted), Body.READ


def host_refusal(hosts: list[bytes], http_version: str) -> AmbiguousRequest | None:
    """RFC 9112 section 3.2: one Host, a valid one, and on HTTP/1.1 always one."""
    if len(hosts) > 1:
        return AmbiguousRequest(f"The request has {len(hosts)} Host headers; send one.")
    if not hosts:
        return AmbiguousRequest("An HTTP/1.1 request needs a Host header.") if http_version == "1.1" else None
    if HOST.fullmatch(hosts[0]) is None:
        return AmbiguousRequest("The Host header is not a host name or address with an optional port.")
    return None


def repeated_field_refusal(names: list[bytes]) -> AmbiguousRequest | None:
    """A 400 for the first field the service reads once (not a list) that the request has more than once."""
    for name, spelled in SINGLE_FIELDS.items():
        if (copies := names.count(name)) > 1:
            return AmbiguousRequest(f"The request has {copies} {spelled} headers; send one.")
    return None


def join_list_fields(scope: Scope, names: list[bytes]) -> None:
    """Copies of a list field (If-Match) joined into one, in order: the field's reader sees them all."""
    repeated = {name for name in JOINED_FIELDS if names.count(name) > 1}
    if not repeated:
        return
    joined: dict[bytes, list[bytes]] = {name: [] for name in repeated}
    headers = []
    for name, value in scope["headers"]:
        if name in joined:
            if not joined[name]:
                headers.append((name, b""))  # its place, filled below
            joined[name].append(value)
        else:
            headers.append((name, value))
    scope["headers"] = [(name, b", ".join(joined[name]) if name in joined else value) for name, value in headers]


def only_chunked(transfer_encodings: list[bytes]) -> bool:
    """Whether the Transfer-Encoding headers, all copies joined as one list, name chunked and nothing else."""
    return [coding.strip().lower() for coding in b",".join(transfer_encodings).split(b",")] == [b"chunked"]


def media_type_refusal(content_types: list[bytes], accepted: tuple[str, ...]) -> UnsupportedMediaType | None:
    """A 415 unless the one Content-Type (the header the body reader reads) is one the operation accepts."""
    if len(content_types) > 1:
        return UnsupportedMediaType(f"The request has {len(content_types)} Content-Type headers; send one.")
    given = media_type(content_types[0]) if content_types else ""
    if given in accepted:
        return None
    return UnsupportedMediaType(f"The request body must be {' or '.join(accepted)}, not {given or 'none'}.")


async def answer(scope: Scope, send: Send, refusal: RefusedRequest) -> None:
    # An over-long target is not repeated back as the problem's instance.
    where = None if isinstance(refusal, UriTooLong) else instance(Request(scope))
    body = problem_json(problem(refusal.status, refusal.detail, instance=where))
    response = Response(body, status_code=refusal.status, headers=refusal.headers, media_type=PROBLEM_JSON)
    await response(scope, receive_nothing, send)


async def drained(receive: Receive) -> bool:
    """Reads a body to its end; False when the client left first."""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return False
        if not message.get("more_body", False):
            return True


def then(first: Message, receive: Receive) -> Receive:
    """A receive that answers `first`, then whatever `receive` does."""
    pending = [first]

    async def replaying() -> Message:
        return pending.pop() if pending else await receive()

    return replaying


async def receive_nothing() -> Message:
    return {"type": "http.disconnect"}
