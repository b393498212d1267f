"""The metrics port of `tasks-api serve`: every worker's metrics, summed, from the process that supervises them.

Workers write their values to prometheus-client's multiprocess files in PROMETHEUS_MULTIPROC_DIR (a
fresh temporary directory unless set; emptied at each start, so it must be this service's alone); this
process reads them all on each scrape. One port whatever WEB_CONCURRENCY is, and counters that survive a
worker's restart (decision 0036).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def fresh_multiprocess_directory() -> Path:
    """PROMETHEUS_MULTIPROC_DIR emptied of an earlier run's files (or a new one), set for the workers to inherit.

    Before prometheus_client is first imported: it reads the variable then, to choose how values are stored.
    """
    given = os.environ.get(MULTIPROC_DIR)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix="tasks-api-metrics-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_DIR] = str(directory)
    return directory


def start_metrics_server(host: str, port: int) -> None:
    """Serve the workers' summed metrics on host:port from a daemon thread of this process."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)
