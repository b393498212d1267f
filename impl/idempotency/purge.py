"""The periodic purge of every user's expired Idempotency-Keys, in the background of each process.

A create removes its own user's expired keys; this removes everyone else's, so a user who stops
creating does not leave keys behind for ever. Every process runs it; an advisory lock lets one purge at
a time and the others skip their turn. It only runs after requests used the database since the last
purge, so an idle service lets a serverless database (Neon) scale to zero (decision 0027).
"""

from __future__ import annotations

import asyncio
import logging

from impl.db.database import Database
from impl.db.errors import is_database_unavailable
from impl.idempotency import repository
from impl.kit.background_task import BackgroundTask

logger = logging.getLogger("tasks_api.purge")

# The advisory lock's key, the same in every process: the bytes of "tasks-ik" (idempotency keys).
PURGE_LOCK_ID = int.from_bytes(b"tasks-ik", "big", signed=True)
BATCH_SIZE = 1000  # keys per transaction: short row locks, and an outage loses at most one batch's work


async def purge_expired_keys(database: Database, *, ttl_seconds: float) -> int:
    """Delete every expired key, one batch per transaction, unless another process is at it; how many."""
    purged = 0
    while True:
        async with database.transaction() as conn:
            if not await repository.try_purge_lock(conn, lock_id=PURGE_LOCK_ID):
                return purged
            deleted = await repository.purge_expired_keys(conn, ttl_seconds=ttl_seconds, batch_size=BATCH_SIZE)
        purged += deleted
        if deleted < BATCH_SIZE:
            return purged


class ExpiredKeyPurge:
    """Runs purge_expired_keys every interval_seconds from start() to stop(); a failed purge is tried again
    at the next turn, whether or not requests came in between."""

    def __init__(self, database: Database, *, interval_seconds: float, ttl_seconds: float) -> None:
        self.database = database
        self.interval_seconds = interval_seconds
        self.ttl_seconds = ttl_seconds
        self._background = BackgroundTask("idempotency-key-purge")

    def start(self) -> None:
        self._background.start(self._run())

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        used_before = self.database.connections_handed_out
        while True:
            await asyncio.sleep(self.interval_seconds)
            if self.database.connections_handed_out == used_before:
                continue  # no request used the database: do not wake it for this
            if await self._purge_once():
                used_before = self.database.connections_handed_out

    async def _purge_once(self) -> bool:
        try:
            purged = await purge_expired_keys(self.database, ttl_seconds=self.ttl_seconds)
        except Exception as exc:
            if is_database_unavailable(exc):
                logger.warning(
                    "purging expired idempotency keys failed (%s); next try in %g s",
                    type(exc).__name__,
                    self.interval_seconds,
                )
            else:
                logger.exception("purging expired idempotency keys failed; next try in %g s", self.interval_seconds)
            return False
        if purged:
            logger.info("purged %d expired idempotency keys", purged)
        return True
