"""The service's Prometheus metrics: what each worker records, and the middleware that counts requests.

Recorded only when METRICS_PORT is set; `tasks-api serve` then serves them on that port from its own
process, summed over the workers through prometheus-client's multiprocess files (decision 0036). Every
label value comes from a closed set: operationIds or route templates, never paths or user ids.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from starlette.types import ASGIApp, Receive, Scope, Send

from impl.kit.noted_status import StatusNotingSend
from impl.telemetry.tallies import CountTally, LatencyTally, Tally

# From 1 ms (a cached list) to the 10 s statement timeout, denser where the realistic p99 (25 ms) lies.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Requests no route matched: refused before routing (413, 414, 431, ...) or for a path the API does not have.
UNMATCHED = "unmatched"


def operation_of(route: Any) -> str:
    """The operationId of a spec operation, else the route's template, else UNMATCHED."""
    if route is None:
        return UNMATCHED
    return getattr(route, "operation_id", None) or getattr(route, "path", None) or UNMATCHED


class ServiceMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # Each instance registers its own metrics: in multiprocess mode the values live in files anyway,
        # and apps built in one test process do not collide.
        registry = registry or CollectorRegistry(auto_describe=False)
        self.registry = registry
        self.requests = Counter(
            "tasks_api_requests",
            "Requests answered, by operationId (or route template), method and status.",
            ("operation", "method", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "tasks_api_request_duration_seconds",
            "Time from the request's arrival to the end of its answer, by operationId (or route template).",
            ("operation",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        # The worker's own count, which impl/telemetry/metrics_writer.py writes to the gauge once a second.
        self.requests_in_flight = 0
        self.in_flight = Gauge(
            "tasks_api_requests_in_flight",
            "Requests being answered now; sampled every second.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.pool_connections = Gauge(
            "tasks_api_db_pool_connections",
            "Database connections open in the workers' pools, by state (in_use, idle); sampled every second.",
            ("state",),
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.pool_waiting = Gauge(
            "tasks_api_db_pool_waiting",
            "Requests waiting for a pooled database connection; sampled every second.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.database_errors = Counter(
            "tasks_api_database_errors",
            "Database errors that failed a request, by SQLSTATE class (two characters), or connection, timeout,"
            " unusable (server too old, schema not at head) for errors the server sent no SQLSTATE for.",
            ("sqlstate_class",),
            registry=registry,
        )
        self.token_verifications = Counter(
            "tasks_api_token_verifications",
            "Bearer token checks by outcome (accepted, cache_hit, refused, keys_unavailable) and refusal reason.",
            ("outcome", "reason"),
            registry=registry,
        )
        self.jwks_fetches = Counter(
            "tasks_api_jwks_fetches",
            "JWKS fetches by outcome (ok, http_error, invalid_document, timeout).",
            ("outcome",),
            registry=registry,
        )
        self._answered: dict[tuple[int, str, int], Callable[[float], None]] = {}
        # What each request counts, kept in the worker and written once a second (decision 0063).
        self._tallies: list[Tally] = []
        self._latencies: dict[str, LatencyTally] = {}

    def count_tally(self, counter: Counter) -> CountTally:
        """A tally of the labelled counter `counter`, written with the others by flush()."""
        tally = CountTally(counter)
        self._tallies.append(tally)
        return tally

    def latency_tally(self, operation: str) -> LatencyTally:
        """The tally of `operation`'s latencies, one per operation whatever its statuses, written by flush()."""
        tally = self._latencies.get(operation)
        if tally is None:
            tally = self._latencies[operation] = LatencyTally(self.latency.labels(operation))
            self._tallies.append(tally)
        return tally

    def flush(self) -> None:
        """Write every tally to its metric (once a second, and when the worker stops)."""
        for tally in self._tallies:
            tally.flush()

    def answered(self, route: Any, method: str, status: int, seconds: float) -> None:
        # By the route's identity (routes are not hashable): the app's routes live as long as it does.
        key = (id(route), method if method in KNOWN_METHODS else "OTHER", status)
        record = self._answered.get(key)
        if record is None:
            # Resolved once per (route, method, status): labels() takes a lock and builds a key each call.
            operation = operation_of(route)
            count = self.count_tally(self.requests.labels(operation, key[1], str(status))).inc
            observe = self.latency_tally(operation).observe

            def record(seconds: float) -> None:
                count()
                observe(seconds)

            self._answered[key] = record
        record(seconds)


class RequestMetricsMiddleware:
    """ASGI middleware: counts and times every request, the refused ones included."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        noting = StatusNotingSend(send)
        metrics = self.metrics
        metrics.requests_in_flight += 1
        started = time.perf_counter()
        try:
            await self.app(scope, receive, noting)
        finally:
            metrics.requests_in_flight -= 1
            metrics.answered(scope.get("route"), scope["method"], noting.status, time.perf_counter() - started)


def worker_stopped() -> None:
    """A worker's end: its in-flight and pool gauges leave the sums (its counters stay, as counters must)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
