"""Several independent service processes on one database, and users whose requests are spread over them.

Each instance is a LiveServer of its own (its own uvicorn process, port, pool and memory), not a worker
of a shared one: all they have in common is what instances behind a load balancer have, the database
and the identity provider.
"""

from __future__ import annotations

import itertools
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from devtools.live_server import LiveServer
from tests.support.environments import REPORTS
from tests.support.tokens import bearer


class Instances:
    """`count` service processes with one environment, started side by side; a dead one can be replaced."""

    def __init__(self, env: dict[str, str], count: int, *, name: str) -> None:
        self.env = env
        self.name = name
        self._replaced = [0] * count
        with ThreadPoolExecutor(count) as pool:
            starting = [pool.submit(self._start, index) for index in range(count)]
        errors = [error for future in starting if (error := future.exception()) is not None]
        if errors:  # stop the ones that did start before saying why another did not
            for future in starting:
                if future.exception() is None:
                    future.result().stop()
            raise errors[0]
        self.servers = [future.result() for future in starting]

    def _start(self, index: int) -> LiveServer:
        generation = f"-{self._replaced[index]}" if self._replaced[index] else ""
        log_path = REPORTS / f"server-{self.name}-{index}{generation}.log"
        return LiveServer(self.env, log_path=log_path, name=f"{self.name} instance {index}")

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def kill(self, index: int) -> None:
        """SIGKILL the instance, as the kernel's OOM killer or a lost machine would end it; return once dead."""
        process = self.servers[index].process
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def replace_dead(self) -> None:
        """Start a new process in place of each one that died, as an orchestrator would."""
        for index, server in enumerate(self.servers):
            if server.process.poll() is not None:
                server.stop()
                self._replaced[index] += 1
                self.servers[index] = self._start(index)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


class SpreadUser:
    """A user whose requests go to the instances in turn, as a round-robin load balancer sends them."""

    def __init__(self, user_id: str, token: str, urls: list[str], *, timeout: float = 10) -> None:
        self.id = user_id
        self.headers = bearer(token)
        self.clients = [httpx.Client(base_url=url, timeout=timeout) for url in urls]
        self._turns = itertools.cycle(range(len(urls)))

    @property
    def tasks_path(self) -> str:
        return f"/api/{self.id}/tasks"

    def task_path(self, task_id: int) -> str:
        return f"{self.tasks_path}/{task_id}"

    def next_instance(self) -> int:
        return next(self._turns)

    def request(self, method: str, path: str, *, on: int | None = None, **kwargs: Any) -> httpx.Response:
        """Send to instance `on`, or to the next one in turn."""
        index = self.next_instance() if on is None else on
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.clients[index].request(method, path, headers=headers, **kwargs)

    def on_each(self, method: str, path: str, **kwargs: Any) -> list[httpx.Response]:
        """The same request sent to every instance, their answers in instance order."""
        return [self.request(method, path, on=index, **kwargs) for index in range(len(self.clients))]

    def close(self) -> None:
        for client in self.clients:
            client.close()
