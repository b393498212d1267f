"""The connection pool's gauges, sampled in the background of each worker while metrics are on.

Sampled rather than counted around each acquire: the request path keeps asyncpg's own acquire
(decision 0013), and a scrape every 15 s or more reads a gauge no fresher than a second anyway.
"""

from __future__ import annotations

import asyncio

from impl.background_task import BackgroundTask
from impl.database import Database
from impl.metrics import ServiceMetrics

SAMPLE_SECONDS = 1.0


class PoolSampler:
    def __init__(
        self, database: Database, metrics: ServiceMetrics, *, interval_seconds: float = SAMPLE_SECONDS
    ) -> None:
        self.database = database
        self.interval_seconds = interval_seconds
        self._in_use = metrics.pool_connections.labels("in_use")
        self._idle = metrics.pool_connections.labels("idle")
        self._waiting = metrics.pool_waiting
        self._background = BackgroundTask("pool-metrics")

    def sample(self) -> None:
        usage = self.database.pool_usage()
        self._in_use.set(usage.in_use)
        self._idle.set(usage.idle)
        self._waiting.set(usage.waiting)

    def start(self) -> None:
        self.sample()
        self._background.start(self._run())

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_seconds)
            self.sample()
