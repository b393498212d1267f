"""CPU per request outside the database: the whole app in this process, its repository answering canned rows.

    .venv/bin/python -m bench.request_cpu              # metrics off against metrics on
    .venv/bin/python -m bench.request_cpu --batches 50 create toggle
    .venv/bin/python -m bench.request_cpu --handlers create update   # FastAPI's handler against the direct calls
    .venv/bin/python -m bench.request_cpu --breakdown list   # where a list request's µs go (bench.cpu_breakdown)

Two builds of the app, one with metrics off and one with them on (multiprocess files in a temporary
directory, as under `tasks-api serve`), take turns in batches of requests, so drift on a shared machine
weighs on both alike; each build's figure is the median over its batches of process CPU per request.
Everything but the database runs: middleware, routing, the bearer check, the service, rendering, the
JSON log line (written to /dev/null). An A/A run agrees within a few µs. Decision 0037 has the figures.
With --handlers the two builds both have metrics on: one is served by FastAPI's request handler, and one
by the direct calls the service makes (decisions 0064 and 0066).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from unittest import mock

from starlette.types import ASGIApp, Message

if TYPE_CHECKING:
    from impl.settings import Settings

USER = "cpu_user"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
ROW = {
    "id": 7,
    "user_id": USER,
    "title": "Bench task",
    "description": None,
    "completed": False,
    "priority": "medium",
    "due_at": None,
    "tags": [],
    "created_at": NOW,
    "updated_at": NOW,
    "version": 3,
}
TITLE = b'{"title":"Bench task"}'
# name: (method, path, body, expected status): the write workloads of the bench, and a read.
OPERATIONS = {
    "create": ("POST", f"/api/{USER}/tasks", TITLE, 201),
    "update": ("PATCH", f"/api/{USER}/tasks/7", TITLE, 200),
    "toggle": ("PATCH", f"/api/{USER}/tasks/7/complete", b"", 200),
    "get": ("GET", f"/api/{USER}/tasks/7", b"", 200),
}


def answer_canned_rows() -> None:
    """The repository's functions these operations call answer ROW; a connection is never opened."""
    from impl.db.database import Database
    from impl.tasks import repository

    async def canned(*_: Any, **__: Any) -> dict[str, Any]:
        return dict(ROW)

    for name in ("insert_task", "toggle_completion", "update_task", "get_task"):
        setattr(repository, name, canned)

    @contextlib.asynccontextmanager
    async def no_connection(_: Database) -> AsyncIterator[None]:
        yield None

    Database.connection = no_connection  # type: ignore[assignment,method-assign]


def request(app: ASGIApp, token: str) -> Callable[[str, str, bytes], Any]:
    async def call(method: str, path: str, body: bytes) -> int:
        headers = [(b"host", b"localhost:8000"), (b"authorization", f"Bearer {token}".encode())]
        headers += [(b"user-agent", b"wrk"), (b"accept", b"*/*")]
        if body:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
        statuses: list[int] = []

        async def receive() -> Message:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client never leaves
            raise AssertionError

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)
        return statuses[0]

    return call


async def started(app: ASGIApp) -> asyncio.Future[None]:
    """The app's lifespan, run until it has started; the future ends with the process."""
    events: asyncio.Queue[Message] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})
    ready = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(message.get("message"))
        ready.set()

    lifespan = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}}, events.get, send))
    await ready.wait()
    return lifespan


async def measure(builds: Mapping[str, ASGIApp], token: str, operations: list[str], batch: int, batches: int) -> None:
    calls = {name: request(app, token) for name, app in builds.items()}
    lifespans = [await started(app) for app in builds.values()]
    for operation in operations:
        method, path, body, expected = OPERATIONS[operation]
        for call in calls.values():
            for _ in range(200):  # warm: the verified-token cache, pydantic's and FastAPI's first calls
                status = await call(method, path, body)
                assert status == expected, f"{operation}: {status}"
        per_request: dict[str, list[float]] = {name: [] for name in builds}
        for _ in range(batches):
            for name, call in calls.items():
                before = time.process_time()
                for _ in range(batch):
                    await call(method, path, body)
                per_request[name].append((time.process_time() - before) / batch * 1e6)
        (first, a), (second, b) = ((name, statistics.median(times)) for name, times in per_request.items())
        print(f"{operation:7s} {first} {a:5.0f} µs   {second} {b:5.0f} µs   {b - a:+4.0f} µs ({b / a:.2f})", flush=True)
    del lifespans  # never shut down: the process ends here


def fastapis_handler_app(settings: Settings) -> ASGIApp:
    """The app with every ContractRoute served by FastAPI's request handler, as before decisions 0064 and 0066.

    Not through a dependency override: with any override set, FastAPI rebuilds each dependency's Dependant
    on every request, about 150 µs more than its handler costs without one.
    """
    from contract_runtime import routing
    from impl.app import create_app

    # ContractRoute takes FastAPI's handler wherever direct_handler finds no direct one.
    with mock.patch.object(routing, "direct_handler", return_value=None):
        return create_app(settings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.request_cpu", description=__doc__.split("\n")[0])
    parser.add_argument("operations", nargs="*", metavar="OPERATION", help=f"of {', '.join(OPERATIONS)} (default: all)")
    parser.add_argument("--batch", type=int, default=200, help="requests per batch (default 200)")
    parser.add_argument("--batches", type=int, default=25, help="batches per build (default 25)")
    parser.add_argument(
        "--handlers",
        action="store_true",
        help="compare FastAPI's request handler with the direct calls the service makes (metrics on for both)",
    )
    parser.add_argument(
        "--breakdown",
        choices=["list"],
        help="instead: where each µs of this operation goes, through uvicorn's protocol (bench.cpu_breakdown)",
    )
    args = parser.parse_args(argv)
    if args.breakdown:
        from bench.cpu_breakdown import main as breakdown

        breakdown(args.breakdown)
        return
    if unknown := set(args.operations) - set(OPERATIONS):
        parser.error(f"unknown operations: {', '.join(sorted(unknown))}")
    # Before prometheus_client is imported: it reads the variable then to choose where values live.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="request-cpu-metrics-")
    answer_canned_rows()
    from impl.app import create_app
    from impl.cli.token import mint
    from impl.settings import Settings

    # As the bench serves it: a random shared secret, no issuer or audience.
    settings = Settings(database_url="postgresql://unused@127.0.0.1:1/unused", jwt_secret=secrets.token_urlsafe(48))
    if args.handlers:
        metered = settings.model_copy(update={"metrics_port": 9100})
        builds: dict[str, ASGIApp] = {
            "FastAPI's handler": fastapis_handler_app(metered),
            "direct calls": create_app(metered),
        }
    else:
        builds = {
            "metrics off": create_app(settings),
            "metrics on": create_app(settings.model_copy(update={"metrics_port": 9100})),
        }
    log_handler = logging.getLogger("tasks_api").handlers[0]
    assert isinstance(log_handler, logging.StreamHandler)
    log_handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    print(f"CPU per request outside the database, median of {args.batches} batches of {args.batch}", file=sys.stderr)
    token = mint(settings, USER)
    asyncio.run(measure(builds, token, args.operations or list(OPERATIONS), args.batch, args.batches))


if __name__ == "__main__":
    main()
