"""`tasks-api serve`: uvicorn with the production defaults; it neither migrates nor starts a database."""

from __future__ import annotations

import argparse
import os

import uvicorn

from impl.cli.exit_codes import SETTINGS_INVALID, CommandFailed
from impl.cli.metrics_server import fresh_multiprocess_directory, start_metrics_server
from impl.cli.settings_check import valid_settings

# httptools with a bound on the request head while it arrives (decision 0024).
HTTP_PROTOCOL = "impl.http.server_protocol:BoundedHttpToolsProtocol"
# How long a worker may take to start, or to answer the parent's liveness ping, before uvicorn kills and
# replaces it (uvicorn's default, 5 s, killed every worker in a loop on this 2-core machine under load).
WORKER_HEALTHCHECK_SECONDS = 30


def serve(args: argparse.Namespace) -> None:
    # The service's connection budget check counts the processes sharing the database by it (decision 0030).
    os.environ["WEB_CONCURRENCY"] = str(args.workers)
    settings = valid_settings()  # here, once, rather than in each worker that would then die
    if settings.metrics_port is not None:
        fresh_multiprocess_directory()
        try:
            start_metrics_server(settings.metrics_host, settings.metrics_port)
        except OSError as error:
            raise CommandFailed(
                SETTINGS_INVALID,
                f"METRICS_PORT {settings.metrics_port} cannot be served on METRICS_HOST {settings.metrics_host}: "
                f"{error.strerror}",
            ) from None
    run_app("impl.app:create_app", args)


def run_app(factory: str, args: argparse.Namespace) -> None:
    """uvicorn serving the app `factory` makes, with serve's options and the production defaults."""
    uvicorn.run(
        factory,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http=HTTP_PROTOCOL,
        # The JSON request log (impl/telemetry/logs.py) records every request already.
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=args.graceful_shutdown_seconds,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
