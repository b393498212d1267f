"""The `tasks-api` console script as an operator runs it: a process of its own, with only the environment given."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

TASKS_API = str(Path(sys.executable).parent / "tasks-api")
# Settings the machine or a developer's shell may carry that must not reach the process under test.
SERVICE_SETTINGS = ("DATABASE_URL", "DATABASE_URL_UNPOOLED", "JWT_SECRET", "BETTER_AUTH_SECRET", "JWKS_URL")


def environment(env: dict[str, str]) -> dict[str, str]:
    inherited = {name: value for name, value in os.environ.items() if name not in SERVICE_SETTINGS}
    return inherited | env


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TASKS_API, *args], env=environment(env), capture_output=True, text=True, timeout=timeout, check=False
    )


def start(
    *args: str, env: dict[str, str], log_path: Path, command: Sequence[str] = (TASKS_API,)
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        return subprocess.Popen([*command, *args], env=environment(env), stdout=log, stderr=subprocess.STDOUT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serving:
    """`tasks-api serve` (or another serving command taking --port) on a free loopback port, until stop()."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        log_path: Path,
        command: Sequence[str] = (TASKS_API, "serve", "--host", "127.0.0.1"),
    ) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process = start("--port", str(port), env=env, log_path=log_path, command=command)
        self._wait_for_health()

    def _wait_for_health(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"tasks-api serve exited ({self.process.returncode}):\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"tasks-api serve did not answer /healthz:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as an orchestrator stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
