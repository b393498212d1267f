"""Uvicorn processes as production runs them: uvloop, httptools, N workers, no access log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# httptools with a bound on the request head while it arrives, as production runs it (decision 0024).
HTTP_PROTOCOL = "impl.server_protocol:BoundedHttpToolsProtocol"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UvicornServer:
    def __init__(self, name: str, app: list[str], env: dict[str, str], *, workers: int, log_path: Path) -> None:
        self.name = name
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(self.port)]
        self.command += ["--workers", str(workers), "--loop", "uvloop", "--http", HTTP_PROTOCOL, "--no-access-log"]
        self.command += ["--timeout-graceful-shutdown", "10"]
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_until_serving()

    def _wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
            try:
                healthy = httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
                if healthy and len(self.worker_pids()) >= self.workers:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The processes serving requests: uvicorn's spawned workers, or the one process with --workers 1."""
        if self.workers == 1:
            return [self.process.pid]
        workers = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.process.pid and b"spawn_main" in command:
                workers.append(int(entry.name))
        return sorted(workers)

    def peak_rss_mib(self) -> dict[str, float]:
        """VmHWM (peak resident set) of each worker, in MiB."""
        peaks = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[str(pid)] = round(int(line.split()[1]) / 1024, 1)
        return peaks

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
