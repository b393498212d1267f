"""The service as a real uvicorn process, on the command line production uses, for the tests and the bench.

Also the two things every server the tests or the bench start needs: waiting until it answers, and
stopping it (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVICE_APP = ("impl.app:create_app", "--factory")
# httptools with a bound on the request head while it arrives (decision 0024).
HTTP_PROTOCOL = "impl.http.server_protocol:BoundedHttpToolsProtocol"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def stop_process(
    process: subprocess.Popen[bytes], *, how: signal.Signals = signal.SIGTERM, timeout: float = 10
) -> None:
    """Ask the process to stop, and kill it if it has not within timeout seconds."""
    if process.poll() is not None:
        return
    process.send_signal(how)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LiveServer:
    """Serving on a free loopback port once constructed; `app` is uvicorn's app argument, imported from `cwd`."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        log_path: Path,
        workers: int = 1,
        app: Sequence[str] = SERVICE_APP,
        cwd: Path = ROOT,
        loop: str = "auto",
        http_protocol: str = HTTP_PROTOCOL,
        name: str = "server",
        timeout: float = 30,
    ) -> None:
        self.name = name
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        command = [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(workers), "--loop", loop, "--http", http_protocol]
        command += ["--timeout-graceful-shutdown", "10", "--no-access-log"]
        self.command = command
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            self._wait_until_serving(workers, timeout)
        except BaseException:
            self.stop()  # a server that did not start in time is not left running behind the error
            raise

    def _wait_until_serving(self, workers: int, timeout: float) -> None:
        started = time.monotonic()
        wait_until_answering(self.process, f"{self.url}/healthz", name=self.name, log=self.log, timeout=timeout)
        while len(self.worker_pids()) < workers:  # the first worker answers while the others may still start
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"{self.name} started {len(self.worker_pids())} of {workers} workers:\n{self.log()}")
            time.sleep(0.05)

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
        stop_process(self.process, timeout=15)
        self._log.close()
