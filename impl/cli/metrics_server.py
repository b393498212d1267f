"""The metrics port of `tasks-api serve`: every worker's metrics, summed, from the process that supervises them.

Workers write their values to prometheus-client's multiprocess files in PROMETHEUS_MULTIPROC_DIR (a
fresh temporary directory unless set; emptied at each start, so it must be this service's alone); this
process reads them all on each scrape. One port whatever WEB_CONCURRENCY is, and counters that survive a
worker's restart (decision 0036). On METRICS_HOST, loopback by default, and naming no server software or
version (decision 0043).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    from prometheus_client import CollectorRegistry, MetricsHandler, multiprocess

    class QuietMetricsHandler(MetricsHandler):
        # http.server names itself and Python's version (BaseHTTP/0.6 Python/3.11.x) in every answer, its own
        # refusals included; only the status line and the date go out here.
        def send_response(self, code: int, message: str | None = None) -> None:
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    server = MetricsServer(host, port, QuietMetricsHandler.factory(registry))
    threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True).start()


class MetricsServer(ThreadingHTTPServer):
    """A thread per scrape, on an IPv4 or an IPv6 address (http.server's default is IPv4 only)."""

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        self.address_family = family
        super().__init__((str(address[0]), port), handler)
