"""Waiting for a pooled connection is first come, first served, on the test database (decision 0044)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
import pytest

from impl.db.database import Database, PoolUsage, create_pool
from impl.db.errors import is_database_unavailable
from impl.settings import Settings
from tests.support.tokens import SHARED_SECRET

SIZE = 2
Acquire = Callable[[], AbstractAsyncContextManager[object]]


def pool_settings(database_url: str, *, timeout: float = 5.0) -> Settings:
    return Settings(database_url=database_url, jwt_secret=SHARED_SECRET, db_pool_max_size=SIZE, db_pool_timeout=timeout)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(pool_settings(database_url))
    yield database
    await database.close()


class Queue:
    """Requests that take a connection, note when they got it, and hold it until the test lets them go."""

    def __init__(self, acquire: Acquire) -> None:
        self.acquire = acquire
        self.tickets = itertools.count()
        self.served: list[int] = []  # tickets, in the order their requests got a connection
        self.released = 0
        self._release: dict[int, asyncio.Event] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def arrive(self) -> None:
        ticket = next(self.tickets)
        self._release[ticket] = asyncio.Event()
        self.tasks.append(asyncio.create_task(self._request(ticket)))

    async def _request(self, ticket: int) -> None:
        async with self.acquire():
            self.served.append(ticket)
            await self._release[ticket].wait()

    async def until_served(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.served) < count:  # noqa: ASYNC110
                await asyncio.sleep(0)

    def release_oldest(self) -> None:
        self._release[self.served[self.released]].set()
        self.released += 1

    async def finish(self) -> None:
        for event in self._release.values():
            event.set()
        await asyncio.gather(*self.tasks)


async def service_order(acquire: Acquire, *, waiters: int = 6, rounds: int = 10, newcomers: int = 3) -> list[int]:
    """Tickets in the order they were served, when SIZE connections are held, `waiters` queue behind them in
    ticket order, and then each release of a connection comes with newcomers, one per loop iteration."""
    queue = Queue(acquire)
    for held in range(1, SIZE + 1):
        queue.arrive()
        await queue.until_served(held)  # one at a time: opening a connection takes a varying time
    for _ in range(waiters):
        queue.arrive()
    await asyncio.sleep(0.05)  # every waiter has queued (no database work stands between it and the queue)
    for _ in range(rounds):
        served = len(queue.served)
        queue.release_oldest()
        for _ in range(newcomers):
            queue.arrive()
            await asyncio.sleep(0)
        await queue.until_served(served + 1)
    await queue.finish()
    return queue.served


async def hands_out_exactly(database: Database, count: int) -> bool:
    """Whether `count` connections come at once while one more has to wait: no slot leaked or made up."""
    async with contextlib.AsyncExitStack() as held:
        async with asyncio.timeout(2):
            for _ in range(count):
                await held.enter_async_context(database.connection())
        one_more = asyncio.create_task(hold(database))
        await asyncio.sleep(0.05)
        waits = database.pool_usage().waiting == 1 and not one_more.done()
        one_more.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await one_more
    return waits and database.pool_usage() == PoolUsage(in_use=0, idle=count, waiting=0)


async def hold(database: Database, got: asyncio.Event | None = None) -> None:
    async with database.connection():
        if got is not None:
            got.set()
        await asyncio.Event().wait()


async def until_waiting(database: Database, count: int) -> None:
    async with asyncio.timeout(5):
        while database.pool_usage().waiting != count:  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def test_waiters_get_connections_in_arrival_order_while_newcomers_keep_arriving(database: Database) -> None:
    served = await service_order(database.connection)
    assert served == sorted(served)


async def test_asyncpgs_own_pool_lets_newcomers_overtake_waiters(database_url: str) -> None:
    """Why FairPool exists. Should asyncpg's pool become fair, this fails: FairPool may then go."""
    pool: asyncpg.Pool = await create_pool(pool_settings(database_url))
    try:
        served = await service_order(lambda: pool.acquire(timeout=5))
    finally:
        await pool.close()
    assert served != sorted(served)


async def test_a_wait_past_the_pool_timeout_raises_the_timeout_answered_503_and_frees_nothing(
    database_url: str,
) -> None:
    database = Database(pool_settings(database_url, timeout=0.2))
    try:
        async with database.connection(), database.connection():
            with pytest.raises(TimeoutError) as timed_out:
                async with database.connection():
                    pass
            assert is_database_unavailable(timed_out.value)
            assert database.pool_usage() == PoolUsage(in_use=SIZE, idle=0, waiting=0)
        assert await hands_out_exactly(database, SIZE)
    finally:
        await database.close()


async def test_a_waiter_cancelled_while_waiting_gives_up_its_place_and_takes_no_slot(database: Database) -> None:
    first, second = database.connection(), database.connection()
    await first.__aenter__()
    await second.__aenter__()
    cancelled = asyncio.create_task(hold(database))
    await until_waiting(database, 1)
    next_got = asyncio.Event()
    next_waiter = asyncio.create_task(hold(database, next_got))
    await until_waiting(database, 2)
    cancelled.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cancelled
    assert database.pool_usage().waiting == 1
    await first.__aexit__(None, None, None)
    async with asyncio.timeout(2):
        await next_got.wait()
    next_waiter.cancel()
    await second.__aexit__(None, None, None)
    with contextlib.suppress(asyncio.CancelledError):
        await next_waiter
    assert await hands_out_exactly(database, SIZE)


async def test_a_waiter_cancelled_after_being_handed_a_slot_passes_it_to_the_next(database: Database) -> None:
    first, second = database.connection(), database.connection()
    await first.__aenter__()
    await second.__aenter__()
    handed = asyncio.create_task(hold(database))
    await until_waiting(database, 1)
    next_got = asyncio.Event()
    next_waiter = asyncio.create_task(hold(database, next_got))
    await until_waiting(database, 2)
    # The release hands the slot to the oldest waiter, which has not run yet when it is cancelled.
    await first.__aexit__(None, None, None)
    assert database.pool_usage().waiting == 1
    handed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await handed
    async with asyncio.timeout(2):
        await next_got.wait()
    next_waiter.cancel()
    await second.__aexit__(None, None, None)
    with contextlib.suppress(asyncio.CancelledError):
        await next_waiter
    assert await hands_out_exactly(database, SIZE)
