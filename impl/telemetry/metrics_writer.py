"""What each worker writes to its metrics files once a second while metrics are on: the gauges it samples
(the pool's connections, the requests in flight) and the counts it tallied since the last second.

The request path writes no metrics file (decisions 0037 and 0063: each write to a multiprocess file costs a
few µs per request), and a scrape every 15 s or more reads nothing fresher than a second anyway. The last
write happens when the worker stops, so its counts are never lost to a clean shutdown.
"""

from __future__ import annotations

import asyncio

from impl.db.database import Database
from impl.kit.background_task import BackgroundTask
from impl.telemetry.metrics import ServiceMetrics

WRITE_SECONDS = 1.0


class MetricsWriter:
    def __init__(self, database: Database, metrics: ServiceMetrics, *, interval_seconds: float = WRITE_SECONDS) -> None:
        self.database = database
        self.metrics = metrics
        self.interval_seconds = interval_seconds
        self._in_use = metrics.pool_connections.labels("in_use")
        self._idle = metrics.pool_connections.labels("idle")
        self._background = BackgroundTask("metrics-writer")

    def write(self) -> None:
        usage = self.database.pool_usage()
        self._in_use.set(usage.in_use)
        self._idle.set(usage.idle)
        self.metrics.pool_waiting.set(usage.waiting)
        self.metrics.in_flight.set(self.metrics.requests_in_flight)
        self.metrics.flush()

    def start(self) -> None:
        self.write()
        self._background.start(self._run())

    async def stop(self) -> None:
        await self._background.stop()
        self.write()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            self.write()
