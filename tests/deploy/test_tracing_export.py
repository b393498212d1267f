"""`tasks-api serve` with OTEL_EXPORTER_OTLP_ENDPOINT set exports its spans over OTLP/HTTP to that collector."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support import tasks_api_command
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.tokens import bearer, shared_secret_token
from tests.support.users import new_user_id


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on a free loopback port: keeps the span names of every export."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CollectorHandler)
        self.span_names: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class CollectorHandler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            export = ExportTraceServiceRequest.FromString(body)
            scopes = [scope for group in export.resource_spans for scope in group.scope_spans]
            names = [span.name for scope in scopes for span in scope.spans]
            with self.server.lock:
                self.server.span_names.extend(names)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    yield server
    server.shutdown()


def test_spans_reach_the_configured_otlp_endpoint(database_url: str, collector: Collector) -> None:
    env = shared_secret_env(database_url) | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds between the batch processor's exports
    }
    serving = tasks_api_command.Serving(env, log_path=REPORTS / "tracing-export.log")
    try:
        user = new_user_id()
        listing = httpx.get(f"{serving.url}/api/{user}/tasks", headers=bearer(shared_secret_token(user)))
        assert listing.status_code == 200
        deadline = time.monotonic() + 10
        while "GET /api/{user_id}/tasks" not in collector.span_names:
            assert time.monotonic() < deadline, collector.span_names
            time.sleep(0.1)
        assert "SELECT" in collector.span_names
    finally:
        serving.stop()
