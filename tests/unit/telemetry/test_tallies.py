"""Counts tallied in the worker reach prometheus-client's values only when flushed, and then exactly as
`inc` and `observe` one at a time would have left them (decision 0063)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.samples import Sample

from impl.telemetry.metrics import LATENCY_BUCKETS, ServiceMetrics
from impl.telemetry.tallies import CountTally, LatencyTally

# Below the first bound, on bounds (a bound holds what equals it), between them, past the last.
LATENCIES = [0.0004, 0.001, 0.001, 0.0031, 0.025, 0.0250001, 0.7, 10.0, 12.5, 0.0004]


def latency_histogram() -> Histogram:
    registry = CollectorRegistry()
    return Histogram("latency_seconds", "Latency.", ("operation",), buckets=LATENCY_BUCKETS, registry=registry)


def samples(metric: Counter | Histogram) -> list[tuple[str, dict[str, str], float]]:
    def kept(sample: Sample) -> bool:
        return not sample.name.endswith("_created")

    return [(s.name, s.labels, s.value) for family in metric.collect() for s in family.samples if kept(s)]


def test_a_flushed_latency_tally_leaves_the_histogram_as_observing_one_at_a_time_does() -> None:
    observed, tallied = latency_histogram(), latency_histogram()
    tally = LatencyTally(tallied.labels("listTasks"))
    for seconds in LATENCIES:
        observed.labels("listTasks").observe(seconds)
        tally.observe(seconds)
    tally.flush()
    assert samples(tallied) == samples(observed)
    assert ("latency_seconds_bucket", {"operation": "listTasks", "le": "0.001"}, 4.0) in samples(tallied)


def test_a_latency_tally_writes_nothing_until_flushed_and_each_observation_once() -> None:
    histogram, reference = latency_histogram(), latency_histogram()
    tally = LatencyTally(histogram.labels("getTask"))
    untouched = samples(histogram)
    tally.observe(0.002)
    assert samples(histogram) == untouched
    tally.flush()
    tally.flush()
    tally.observe(0.2)
    tally.flush()
    reference.labels("getTask").observe(0.002)
    reference.labels("getTask").observe(0.2)
    assert samples(histogram) == samples(reference)


def test_a_count_tally_adds_its_increments_on_flush_once() -> None:
    counter = Counter("requests", "Requests.", ("status",), registry=CollectorRegistry())
    tally = CountTally(counter.labels("200"))
    for _ in range(7):
        tally.inc()
    assert counter.labels("200")._value.get() == 0
    tally.flush()
    tally.flush()
    assert counter.labels("200")._value.get() == 7


class Route:
    operation_id = "listTasks"


def test_answered_requests_are_counted_and_timed_when_the_metrics_are_flushed() -> None:
    metrics = ServiceMetrics()
    route = Route()
    for seconds in (0.004, 0.03, 0.004):
        metrics.answered(route, "GET", 200, seconds)
    metrics.answered(route, "GET", 304, 0.001)
    count = {"operation": "listTasks", "method": "GET", "status": "200"}

    def value(name: str, labels: dict[str, str]) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    assert value("tasks_api_requests_total", count) == 0  # the series exists from the first request, its count not yet
    metrics.flush()
    assert value("tasks_api_requests_total", count) == 3
    assert value("tasks_api_requests_total", count | {"status": "304"}) == 1
    assert value("tasks_api_request_duration_seconds_count", {"operation": "listTasks"}) == 4
    assert value("tasks_api_request_duration_seconds_bucket", {"operation": "listTasks", "le": "0.005"}) == 3
    assert value("tasks_api_request_duration_seconds_sum", {"operation": "listTasks"}) == pytest.approx(0.039)
