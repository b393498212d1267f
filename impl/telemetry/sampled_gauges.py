"""The gauges sampled in the background of each worker while metrics are on: the pool's connections and the
requests in flight.

Sampled rather than counted as they change: the request path writes no gauge (decision 0037: each write to
a multiprocess file costs a few µs per request), and a scrape every 15 s or more reads a gauge no fresher
than a second anyway.
"""

from __future__ import annotations

import asyncio

from impl.db.database import Database
from impl.kit.background_task import BackgroundTask
from impl.telemetry.metrics import ServiceMetrics

SAMPLE_SECONDS = 1.0


class SampledGauges:
    def __init__(
        self, database: Database, metrics: ServiceMetrics, *, interval_seconds: float = SAMPLE_SECONDS
    ) -> None:
        self.database = database
        self.metrics = metrics
        self.interval_seconds = interval_seconds
        self._in_use = metrics.pool_connections.labels("in_use")
        self._idle = metrics.pool_connections.labels("idle")
        self._background = BackgroundTask("sampled-gauges")

    def sample(self) -> None:
        usage = self.database.pool_usage()
        self._in_use.set(usage.in_use)
        self._idle.set(usage.idle)
        self.metrics.pool_waiting.set(usage.waiting)
        self.metrics.in_flight.set(self.metrics.requests_in_flight)

    def start(self) -> None:
        self.sample()
        self._background.start(self._run())

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            self.sample()
