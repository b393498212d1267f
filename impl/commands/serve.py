"""`tasks-api serve`: uvicorn with the production defaults; it neither migrates nor starts a database."""

from __future__ import annotations

import argparse
import os

import uvicorn

from impl.commands.settings_check import valid_settings

# httptools with a bound on the request head while it arrives (decision 0024).
HTTP_PROTOCOL = "impl.server_protocol:BoundedHttpToolsProtocol"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default: 0.0.0.0)")  # noqa: S104
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="default: PORT or 8000")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="worker processes (default: WEB_CONCURRENCY or 1)",
    )
    parser.add_argument(
        "--graceful-shutdown-seconds",
        type=float,
        default=float(os.environ.get("GRACEFUL_SHUTDOWN_SECONDS", "10")),
        help="on SIGTERM, how long requests in flight may finish (default: GRACEFUL_SHUTDOWN_SECONDS or 10)",
    )


def serve(args: argparse.Namespace) -> None:
    # The service's connection budget check counts the processes sharing the database by it (decision 0030).
    os.environ["WEB_CONCURRENCY"] = str(args.workers)
    valid_settings()  # here, once, rather than in each worker that would then die
    uvicorn.run(
        "impl.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http=HTTP_PROTOCOL,
        # The JSON request log (impl/observability.py) records every request already.
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=args.graceful_shutdown_seconds,
    )
