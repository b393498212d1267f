"""An asyncpg pool whose waiting acquires get their connections in the order they asked (decision 0044).

asyncpg queues waiting acquires in an asyncio.Queue, which is not fair: an acquire that runs between a
release and the wake-up of the waiter it woke takes the connection, and the woken waiter queues again at
the back. Here at most max_size acquires reach asyncpg's pool at once, so its queue has a connection
for each of them (but for two brief moments the decision names); the others wait in FifoSlots, where a
release hands its slot straight to the oldest waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from types import TracebackType

import asyncpg
from asyncpg.pool import PoolConnectionProxy


class FifoSlots:
    """At most `size` holders at once; the others wait in arrival order, and a leaving holder hands its
    slot to the oldest waiter, so nobody who arrives later can take it first."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def try_enter(self) -> bool:
        # A slot is free only while nobody waits: leave() hands a slot to a waiter rather than freeing it.
        if self._free:
            self._free -= 1
            return True
        return False

    async def enter(self) -> None:
        """Take a slot, waiting behind everyone already waiting; bound the wait with asyncio.timeout."""
        if self.try_enter():
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                # Handed a slot, then cancelled before it could run: the slot goes on to the next waiter.
                self.leave()
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(turn)
            raise

    def leave(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():  # a cancelled waiter may not have removed itself yet
                turn.set_result(None)
                return
        self._free += 1


class FairPool:
    """An asyncpg pool behind FifoSlots of its max_size; `timeout` bounds each acquire, waiting included."""

    def __init__(self, pool: asyncpg.Pool, *, timeout: float | None) -> None:
        self.pool = pool
        self.timeout = timeout
        self.slots = FifoSlots(pool.get_max_size())

    def acquire(self) -> PooledConnection:
        return PooledConnection(self)

    async def close(self) -> None:
        await self.pool.close()


class PooledConnection:
    """`async with` a connection of a FairPool: a class rather than a generator, which costs more per use."""

    __slots__ = ("_connection", "_fair")

    def __init__(self, fair: FairPool) -> None:
        self._fair = fair
        self._connection: PoolConnectionProxy | None = None

    async def __aenter__(self) -> PoolConnectionProxy:
        fair = self._fair
        # One deadline for the turn and the connection (opening one included), as asyncpg's acquire(timeout=)
        # had; asyncio.timeout rather than that acquire's wait_for, which starts a task per acquire.
        async with asyncio.timeout(fair.timeout):
            if not fair.slots.try_enter():
                await fair.slots.enter()
            try:
                self._connection = connection = await fair.pool.acquire()
            except BaseException:
                fair.slots.leave()
                raise
        return connection

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                await self._fair.pool.release(connection)
        finally:
            # After the release: asyncpg's queue has the connection back before the slot is handed on.
            self._fair.slots.leave()
