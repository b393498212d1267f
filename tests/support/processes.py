"""The servers tests start as processes of their own: waiting until one answers, and stopping it."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable

import httpx


def wait_until_answering(
    process: subprocess.Popen[bytes], url: str, *, name: str, log: Callable[[], str], timeout: float = 30
) -> None:
    """Return once GET url answers 200; RuntimeError with the log if the process exits or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{log()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not start:\n{log()}")


def stop(process: subprocess.Popen[bytes], *, how: signal.Signals = signal.SIGTERM, timeout: float = 10) -> None:
    """Ask the process to stop, and kill it if it has not within timeout seconds."""
    if process.poll() is not None:
        return
    process.send_signal(how)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
