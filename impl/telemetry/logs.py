"""One structured JSON log line per request, and a request id that follows the request everywhere.

The id comes from the caller's X-Request-ID when it is a sane token, else it is generated; it is
echoed in the response header and put into problem bodies, so a client's bug report leads straight
to the log line. Tokens and bodies are never logged. With tracing on, the line carries the request's
trace id too (impl/telemetry/tracing.py sets it), so a log line leads to its trace. The answer's start is where
the security headers every answer carries are added too (impl/http/response_headers.py).
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Any

from pydantic_core import to_json
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from impl.http.response_headers import security_headers
from impl.kit.noted_status import StatusNotingSend

REQUEST_ID_HEADER = "X-Request-ID"
ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)
access_log = logging.getLogger("tasks_api.access")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object, its time in UTC to the millisecond.

    A line is written for every request, so it is made cheaply: serialised by pydantic-core rather than
    the json module, the time's seconds formatted once per second (decision 0037).
    """

    def __init__(self) -> None:
        super().__init__()
        self._formatted_second: tuple[int, str] = (-1, "")  # one tuple, so threads never see half of it

    def utc_time(self, created: float, msecs: float) -> str:
        second = int(created)
        cached_second, text = self._formatted_second
        if second != cached_second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._formatted_second = (second, text)
        return f"{text}.{int(msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.utc_time(record.created, record.msecs),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return to_json(line, fallback=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """Send the service's own loggers to stdout as JSON lines (uvicorn keeps its own)."""
    # Thread, process and multiprocessing names are never logged; skip looking them up on every record.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    service = logging.getLogger("tasks_api")
    service.handlers[:] = [handler]
    service.setLevel(level)
    service.propagate = False


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if ACCEPTABLE_REQUEST_ID.fullmatch(candidate):
                return candidate
    return secrets.token_hex(16)  # 32 hex digits, as uuid4().hex gave, at a third of its cost


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope)
        request_id.set(rid)
        extra_headers = security_headers(scope["path"])
        started = time.perf_counter()

        def add_headers(start: Message) -> None:
            MutableHeaders(scope=start)[REQUEST_ID_HEADER] = rid  # start["headers"] is a list now
            # Here, the outermost layer that answers, so that every answer gets them (decision 0043).
            start["headers"].extend(extra_headers)

        noting = StatusNotingSend(send, on_start=add_headers)
        try:
            await self.app(scope, receive, noting)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                route = scope.get("route")
                fields = {
                    "method": scope["method"],
                    "route": getattr(route, "path", None),
                    "path": scope["path"],
                    "status": noting.status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": rid,
                    "user_id": scope.get("state", {}).get("user_id"),
                }
                if (trace := trace_id.get()) is not None:
                    fields["trace_id"] = trace
                # makeRecord with no source location: Logger.info would walk the (deep, async) stack for it.
                record = access_log.makeRecord(
                    access_log.name, logging.INFO, "", 0, "request", (), None, extra={"fields": fields}
                )
                access_log.handle(record)
