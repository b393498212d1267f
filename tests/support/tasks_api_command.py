"""The `tasks-api` console script as an operator runs it: a process of its own, with only the environment given."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from devtools.live_server import free_port, stop_process, wait_until_answering

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

    def _wait_for_health(self) -> None:
        wait_until_answering(self.process, f"{self.url}/healthz", name="tasks-api serve", log=self.log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as an orchestrator stops it; its exit code."""
        stop_process(self.process, timeout=20)
        return self.process.returncode
