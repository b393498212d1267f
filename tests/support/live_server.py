"""The service as a real uvicorn process, as production runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support import processes

ROOT = Path(__file__).resolve().parents[2]
# httptools with a bound on the request head while it arrives (decision 0024).
HTTP_PROTOCOL = "impl.server_protocol:BoundedHttpToolsProtocol"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, env: dict[str, str], *, log_path: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        command = [sys.executable, "-m", "uvicorn", "impl.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        command += ["--timeout-graceful-shutdown", "10", "--no-access-log", "--http", HTTP_PROTOCOL]
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_until_serving()

    def _wait_until_serving(self, timeout: float = 30) -> None:
        processes.wait_until_answering(
            self.process, f"{self.url}/healthz", name="server", log=self.log, timeout=timeout
        )

    def wait_for_log(self, text: str, timeout: float = 15) -> None:
        """Return once the server's log contains text (a line logged beside or after start-up)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged within {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        processes.stop(self.process, timeout=15)
        self._log.close()
