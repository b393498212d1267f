"""Liveness and readiness probes."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from generated.api import OperationsApi
from generated.models import Health


class Probes(OperationsApi):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get_health(self) -> Health:
        return Health(status="ok")

    async def get_readiness(self) -> Health:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return Health(status="ok")
