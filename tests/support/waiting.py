"""Waiting, a bounded time, for something the service does in the background."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


def wait_until(
    condition: Callable[[], bool], *, seconds: float, interval: float = 0.2, poke: Callable[[], object] | None = None
) -> bool:
    """Whether the condition holds within `seconds`, checked every `interval` (calling `poke` between checks)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if poke is not None:
            poke()
        time.sleep(interval)
    return bool(condition())


async def wait_until_async(
    condition: Callable[[], bool | Awaitable[bool]], *, seconds: float, interval: float = 0.05
) -> bool:
    """wait_until inside an event loop: the condition may be a coroutine function; the loop runs meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await holds(condition):
            return True
        await asyncio.sleep(interval)
    return await holds(condition)


async def holds(condition: Callable[[], bool | Awaitable[bool]]) -> bool:
    outcome = condition()
    return bool(await outcome) if inspect.isawaitable(outcome) else bool(outcome)
