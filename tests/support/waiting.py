"""Waiting, a bounded time, for something the service does in the background."""

from __future__ import annotations

import time
from collections.abc import Callable


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
