"""Counts kept in the worker's memory per request, and added to prometheus-client's values once a second.

In multiprocess mode each write to a value takes a lock, asks for the process id (a system call) and
writes an mmapped file. A request made four such writes (its count, its latency's sum and bucket, its
token check): 17-30 µs of CPU among its other work, where adding to an integer costs well under one
(decision 0063). A scrape every 15 s or more reads nothing fresher than a second anyway, as decision 0037
argued for the gauges.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Protocol

from prometheus_client import Counter, Histogram


class Tally(Protocol):
    def flush(self) -> None:
        """Add what was counted since the last flush to the metric's value, and start again from nothing."""


class CountTally:
    """Increments of one labelled counter (a `Counter.labels(...)` child)."""

    __slots__ = ("counter", "pending")

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.pending = 0

    def inc(self) -> None:
        self.pending += 1

    def flush(self) -> None:
        if self.pending:
            pending, self.pending = self.pending, 0
            self.counter.inc(pending)


class LatencyTally:
    """Observations of one labelled histogram (a `Histogram.labels(...)` child), counted per bucket.

    prometheus-client has no call that adds many observations at once, so the flush adds to the
    histogram's own sum and bucket values, as `Histogram.observe` does for one observation at a time.
    tests/unit/telemetry/test_tallies.py holds it to `observe`'s result, so an upgrade that changes those
    attributes fails there.
    """

    __slots__ = ("counts", "histogram", "total", "upper_bounds")

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram
        self.upper_bounds: list[float] = histogram._upper_bounds  # ends with +Inf
        self.counts = [0] * len(self.upper_bounds)
        self.total = 0.0

    def observe(self, amount: float) -> None:
        self.total += amount
        self.counts[bisect_left(self.upper_bounds, amount)] += 1  # the first bound >= amount, as observe()

    def flush(self) -> None:
        if not any(self.counts):
            return
        counts, total = self.counts, self.total
        self.counts, self.total = [0] * len(counts), 0.0
        self.histogram._sum.inc(total)
        for bucket, count in zip(self.histogram._buckets, counts, strict=True):
            if count:
                bucket.inc(count)
