"""On SIGTERM the service stops taking connections but finishes the requests already in flight."""

from __future__ import annotations

import asyncio
import signal

import httpx

from devtools.live_server import LiveServer
from tests.support.database import task_row_locked
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.tokens import bearer, shared_secret_token
from tests.support.waiting import wait_until_async


async def refuses_connections(url: str) -> bool:
    """Whether a new connection to the server is refused (each check opens one of its own)."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as fresh:
            await fresh.get("/healthz")
    except httpx.ConnectError:
        return True
    except httpx.TransportError:  # accepted just as the shutdown began, then closed: ask again
        return False
    return False


async def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(database_url: str) -> None:
    server = LiveServer(shared_secret_env(database_url), log_path=REPORTS / "server-graceful-shutdown.log")
    headers = bearer(shared_secret_token("graceful_user"))
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
            created = await client.post("/api/graceful_user/tasks", json={"title": "slow"})
            task_path = created.headers["location"]
            # Hold the task's row lock so the next update is provably in flight inside the server.
            async with task_row_locked(database_url, created.json()["id"]) as lock:
                in_flight = asyncio.create_task(client.patch(task_path, json={"completed": True}))
                await lock.until_the_request_waits(in_flight)

                server.process.send_signal(signal.SIGTERM)
                assert await wait_until_async(lambda: refuses_connections(server.url), seconds=10), (
                    "the server still accepts connections 10 s after SIGTERM"
                )

                await lock.release()
                response = await in_flight
        assert response.status_code == 200
        assert response.json()["completed"] is True
        # uvicorn re-raises the signal once it has shut down cleanly, so the exit status says SIGTERM.
        assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
        assert "Finished server process" in server.log()
    finally:
        server.stop()
