"""Where each µs of a request goes: the service in this process behind uvicorn's own HTTP protocol, sampled.

    .venv/bin/python -m bench.request_cpu --breakdown list

The service is built as the bench serves it (metrics on, tracing off, the JSON log line written, here to
/dev/null) and driven through the protocol class of the bench's uvicorn command line
(BoundedHttpToolsProtocol: httptools parsing, the ASGI messages, the response written) over a stand-in
transport, one keep-alive connection, request after request, as wrk sends them. The database answers
canned rows (a full page of 20 and the one more that says a page follows, and the total), so the
repository's own Python runs but asyncpg's wire work and the kernel's socket work do not.

First the CPU per request is measured without sampling (median of batches), the service's and, in
batches taking turns with it, the bare app's (bench/bare_app.py, its pool answering the same rows):
the ratio of the two is the in-process counterpart of the bench's ÷bare CPU. Then a profiling timer
(ITIMER_PROF, process CPU) interrupts the process every SAMPLE_SECONDS; each sample goes to the part of
the request that the innermost frame with a category (CATEGORIES) belongs to, so a middleware's figure
is its own code, not what it calls. Each part's µs are its share of the samples times the CPU per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from asyncpg import Record
from asyncpg.protocol.protocol import _create_record
from fastapi import FastAPI
from starlette.types import ASGIApp

USER = "cpu_user"
PAGE = 20
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def canned_row(n: int) -> Record:
    """An asyncpg Record, as the pool hands back: reading it costs what reading a real one does."""
    values = {
        "id": 1000 - n,
        "title": f"Bench task {n}",
        "description": None if n % 2 else "Something to do",
        "completed": bool(n % 2),
        "priority": ("low", "medium", "high")[n % 3],
        "due_at": None if n % 4 == 0 else NOW + timedelta(hours=n),
        "tags": ["work", "home"][: n % 3],
        "created_at": NOW - timedelta(minutes=n),
        "updated_at": NOW - timedelta(minutes=n),
        "version": 1,
        "total": 100,  # the list's one statement carries the total on every row
    }
    # asyncpg's own constructor for records outside a query (its tests use it); the names map to positions.
    return _create_record({name: position for position, name in enumerate(values)}, tuple(values.values()))


ROWS = [canned_row(n) for n in range(PAGE + 1)]
REQUESTS = {"list": f"/api/{USER}/tasks?status=all&limit={PAGE}&offset=20"}
SAMPLE_SECONDS = 0.0005  # asked for; the kernel's tick (4 ms here) is the real interval
SAMPLED_ROUNDS = 3  # the sampled phase runs this many times the measured one's requests
# (category, path fragment of the code's file, function names or None for any). For each sample, the
# innermost frame that matches a row names the category; rows are tried in order for that frame.
CATEGORIES: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("request log: the line (record, JSON, write)", "/logging/", None),
    ("request log: the line (record, JSON, write)", "impl/telemetry/logs.py", ("format", "utc_time")),
    ("request log middleware: request id, headers", "impl/telemetry/logs.py", None),
    ("request log middleware: request id, headers", "impl/http/response_headers.py", None),
    ("metrics middleware", "impl/telemetry/metrics.py", None),
    ("metrics middleware", "/prometheus_client/", None),
    ("request limits middleware", "impl/http/limits.py", None),
    ("last-resort middleware", "impl/http/error_handlers.py", None),
    ("Starlette's error and exception middleware", "starlette/middleware/", None),
    ("Starlette's error and exception middleware", "starlette/_exception_handler.py", None),
    ("auth: bearer check (remembered token)", "impl/auth/", None),
    ("auth: bearer check (remembered token)", "contract_runtime/security.py", None),
    ("parameters: path, query and headers in one validation", "contract_runtime/parameters.py", None),
    ("parameters: path, query and headers in one validation", "contract_runtime/wire_types.py", ("true_or_false",)),
    ("response: checked and serialised (JsonAnswer)", "contract_runtime/answers.py", None),
    ("next-page cursor", "impl/tasks/listing/cursors.py", None),
    ("repository call (statement, binding; no wire)", "impl/tasks/repository.py", None),
    ("repository call (statement, binding; no wire)", "impl/tasks/listing/repository.py", None),
    ("repository call (statement, binding; no wire)", "impl/tasks/listing/filters.py", None),
    ("repository call (statement, binding; no wire)", "impl/db/sql.py", None),
    ("repository call (statement, binding; no wire)", "impl/db/database.py", None),
    ("repository call (statement, binding; no wire)", "impl/db/fair_pool.py", None),
    ("repository call (statement, binding; no wire)", "bench/cpu_breakdown.py", ("fetch", "fetchrow", "connection")),
    ("service: the page from rows (checked where it is answered)", "impl/tasks/", None),
    ("response: validated again and serialised (FastAPI)", "fastapi/_compat", ("validate",)),
    ("response: serialised and rendered", "fastapi/routing.py", ("serialize_response", "_prepare_response_content")),
    ("response: serialised and rendered", "starlette/responses.py", None),
    ("response: serialised and rendered", "fastapi/responses.py", None),
    ("response: serialised and rendered", "fastapi/_compat", None),
    ("response: serialised and rendered", "fastapi/encoders.py", None),
    ("FastAPI: request handler, dependencies, endpoint call", "fastapi/dependencies/", None),
    ("FastAPI: request handler, dependencies, endpoint call", "generated/", None),
    ("FastAPI: request handler, dependencies, endpoint call", "contract_runtime/", None),
    ("FastAPI: request handler, dependencies, endpoint call", "fastapi/", None),
    ("routing: matching the path", "starlette/routing.py", None),
    ("Starlette: request, headers and query objects", "starlette/", None),
    ("uvicorn + httptools: parse, ASGI messages, write", "uvicorn/", None),
    ("uvicorn + httptools: parse, ASGI messages, write", "impl/http/server_protocol.py", None),
    ("event loop, tasks, context switches", "asyncio/", None),
]


# A helper called from more than one part: its samples are shown on their own, beside the part that called it.
# Python runs a signal handler only between bytecodes, so a sample that falls while pydantic-core validates
# (Rust) waits for its next call back into Python: the RFC 3339 check of a date-time. Its row is therefore
# mostly pydantic-core's own validation; the check itself costs about 8 µs of a page of 20 (decision 0062).
HELPERS = {
    ("wire_types.py", "rfc3339_date_time"): "pydantic-core's validation, sampled at its next Python call (RFC 3339), in"
}


def category_of(frame: FrameType | None) -> str:
    helper = ""
    while frame is not None:
        code = frame.f_code
        if not helper and (helper := HELPERS.get((code.co_filename.rpartition("/")[2], code.co_name), "")):
            frame = frame.f_back
            continue
        for name, fragment, functions in CATEGORIES:
            if fragment in code.co_filename and (functions is None or code.co_name in functions):
                return f"{helper} {name.split(':')[0]}" if helper else name
        frame = frame.f_back
    return "other (the driver, the sampler, unattributed)"


class Transport(asyncio.Transport):
    """A client socket as uvicorn sees it: the response bytes go nowhere but the last status line."""

    status_line = b""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: Any) -> None:
        if data.startswith(b"HTTP/"):
            Transport.status_line = bytes(data).partition(b"\r\n")[0]

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        # Everything written went at once; asked when a connection left idle (the bare app's, while the
        # service is sampled) reaches its keep-alive timeout.
        return 0

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class CannedConnection:
    """The database: a page query answers ROWS, the count 100, the cursor key a fixed key."""

    async def fetch(self, sql: str, *args: Any) -> list[Record]:
        return ROWS

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return {"secret": b"k" * 32} if "service_keys" in sql else (100,)


def answer_canned_rows() -> None:
    from impl.db.database import Database

    @contextlib.asynccontextmanager
    async def connection(_: Database) -> AsyncIterator[CannedConnection]:
        yield CannedConnection()

    Database.connection = connection  # type: ignore[assignment,method-assign]


def connection(app: ASGIApp) -> Callable[[bytes], Any]:
    """One keep-alive connection through the bench's uvicorn protocol; `send(request)` awaits the whole answer."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from devtools.live_server import HTTP_PROTOCOL

    config = Config(app, http=HTTP_PROTOCOL, lifespan="off", log_level="warning")
    config.load()
    done = asyncio.Event()

    class Measured(config.http_protocol_class):  # type: ignore[misc,name-defined]
        def on_response_complete(self) -> None:
            super().on_response_complete()
            done.set()

    protocol = Measured(config=config, server_state=ServerState(), app_state={})
    protocol.connection_made(Transport())

    async def send(request: bytes) -> None:
        done.clear()
        protocol.data_received(request)
        await done.wait()

    return send


class CannedPool:
    """The bare app's pool (bench/bare_app.py): the same canned rows as the service's connection."""

    async def fetch(self, sql: str, *args: Any) -> list[Record]:
        return ROWS

    async def fetchrow(self, sql: str, *args: Any) -> Record:
        return ROWS[0]

    async def fetchval(self, sql: str, *args: Any) -> int:
        return 1


def bare_app() -> ASGIApp:
    """The bench's bare app (JWT_SECRET from the environment, as the service's), its pool the canned rows."""
    from bench.bare_app import BareApp

    bare = BareApp()
    bare.pool = CannedPool()  # type: ignore[assignment]
    return bare


async def warmed(app: ASGIApp, request: bytes) -> Callable[[bytes], Any]:
    send = connection(app)
    await warmed_connection(send, request)
    return send


async def warmed_connection(send: Callable[[bytes], Any], request: bytes) -> None:
    for _ in range(500):  # warm: the verified token, the compiled statements, the cursor key
        await send(request)
    # A changed query shape would otherwise be measured as the cost of a 500 and its logged traceback.
    assert Transport.status_line == b"HTTP/1.1 200 OK", Transport.status_line


async def cpu_per_request(send: Callable[[bytes], Any], request: bytes, batch: int) -> float:
    before = time.process_time()
    for _ in range(batch):
        await send(request)
    return (time.process_time() - before) / batch * 1e6


async def run(
    app: ASGIApp, bare: ASGIApp, request: bytes, batch: int, batches: int
) -> tuple[float, float, Counter[str]]:
    """The service's and the bare app's CPU per request (batches taking turns, medians), then the service sampled."""
    from bench.request_cpu import started

    lifespan = await started(app)
    send, send_bare = await warmed(app, request), await warmed(bare, request)
    per_request: list[float] = []
    per_bare_request: list[float] = []
    for _ in range(batches):
        per_request.append(await cpu_per_request(send, request, batch))
        per_bare_request.append(await cpu_per_request(send_bare, request, batch))
    samples: Counter[str] = Counter()

    def sample(_: int, frame: FrameType | None) -> None:
        samples[category_of(frame)] += 1

    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, SAMPLE_SECONDS, SAMPLE_SECONDS)
    try:
        for _ in range(SAMPLED_ROUNDS * batch * batches):
            await send(request)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
    del lifespan
    return statistics.median(per_request), statistics.median(per_bare_request), samples


def served_app(operation: str) -> tuple[FastAPI, bytes]:
    """The service as the bench serves it (metrics on, the log line to /dev/null), its database the canned
    rows, and the `operation` request as wrk sends it, with a token it accepts."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="request-cpu-metrics-")
    answer_canned_rows()
    import logging

    from impl.app import create_app
    from impl.cli.token import mint
    from impl.settings import Settings

    # The protocol class reads its bounds from the environment's settings, as under uvicorn.
    os.environ |= {"DATABASE_URL": "postgresql://unused@127.0.0.1:1/unused", "JWT_SECRET": secrets.token_urlsafe(48)}
    settings = Settings(metrics_port=9100)
    app = create_app(settings)
    handler = logging.getLogger("tasks_api").handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    request = (
        f"GET {REQUESTS[operation]} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
        f"Authorization: Bearer {mint(settings, USER)}\r\n\r\n"
    ).encode()
    return app, request


def main(operation: str, *, batch: int = 500, batches: int = 40) -> None:
    app, request = served_app(operation)
    print(
        f"{operation}: {batch * batches} requests per phase, sampled every {SAMPLE_SECONDS * 1e6:g} µs", file=sys.stderr
    )
    cpu, bare_cpu, samples = asyncio.run(run(app, bare_app(), request, batch, batches))
    total = sum(samples.values())
    print(f"CPU per {operation} request outside the database: {cpu:.0f} µs (median of {batches} batches of {batch})")
    print(
        f"The bare app (bench/bare_app.py), the same request through the same driver, batches taking turns: "
        f"{bare_cpu:.0f} µs; the service's ÷ the bare app's: {cpu / bare_cpu:.2f}"
    )
    print(f"{'part of the request':<68}{'share':>7}{'µs':>7}")
    for name, count in samples.most_common():
        print(f"{name:<68}{count / total:>7.1%}{count / total * cpu:>7.0f}")
    print(f"({total:,} samples)")
