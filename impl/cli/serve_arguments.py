"""`tasks-api serve`'s options and their defaults from the environment."""

from __future__ import annotations

import argparse
import os


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
