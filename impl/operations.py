"""Liveness and readiness probes."""

from __future__ import annotations

from generated.api import OperationsApi
from generated.models import Health
from impl.database import Database


class Probes(OperationsApi):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def get_health(self) -> Health:
        return Health(status="ok")

    async def get_readiness(self) -> Health:
        async with self.database.connection() as conn:
            await conn.fetchval("SELECT 1")
        return Health(status="ok")
