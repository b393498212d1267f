"""Liveness and readiness probes."""

from __future__ import annotations

from generated.api import OperationsApi
from generated.models import Health
from impl.db.database import Database


class Probes(OperationsApi):
    def __init__(self, database: Database, *, readiness_db_check_seconds: float = 0.0) -> None:
        self.database = database
        # A query every probe keeps a serverless database (Neon) from ever suspending (decision 0030).
        self.readiness_db_check_seconds = readiness_db_check_seconds

    async def get_health(self) -> Health:
        return Health(status="ok")

    async def get_readiness(self) -> Health:
        if not self.database.answered_within(self.readiness_db_check_seconds):
            async with self.database.uncounted_connection() as conn:
                await conn.fetchval("SELECT 1")
        return Health(status="ok")
