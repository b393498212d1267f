"""`tasks-api mock`: every operation answered from the spec's examples (decision 0058), served as `serve` serves."""

from __future__ import annotations

import argparse

import uvicorn

from impl.cli.serve import HTTP_PROTOCOL, WORKER_HEALTHCHECK_SECONDS
from impl.cli.settings_check import read_settings


def mock(args: argparse.Namespace) -> None:
    read_settings()  # here, once, rather than in each worker that would then die
    uvicorn.run(
        "impl.mock_app:create_mock_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http=HTTP_PROTOCOL,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=args.graceful_shutdown_seconds,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
