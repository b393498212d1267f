"""100 concurrent users doing a mixed workload: zero 5xx and zero connection errors.

A correctness check under load, not a benchmark: the summary is printed, never asserted on timing.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.tokens import bearer, shared_secret_token

USERS = 100
DURATION_SECONDS = 10.0


@pytest.fixture(scope="module")
def two_worker_server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(shared_secret_env(database_url), log_path=REPORTS / "server-load.log", workers=2)
    yield live
    live.stop()


class Tally:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.connection_errors: list[str] = []
        self.latencies_ms: list[float] = []

    def summary(self) -> str:
        total = sum(self.statuses.values())
        cuts = statistics.quantiles(self.latencies_ms, n=100) if len(self.latencies_ms) > 1 else [0.0] * 99
        return (
            f"load: {USERS} users, {DURATION_SECONDS:.0f} s: {total} requests ({total / DURATION_SECONDS:.0f}/s), "
            f"statuses {dict(sorted(self.statuses.items()))}, connection errors {len(self.connection_errors)}, "
            f"p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms"
        )


async def one_user(client: httpx.AsyncClient, index: int, deadline: float, tally: Tally) -> None:
    user_id = f"load_user_{index}"
    headers = bearer(shared_secret_token(user_id, exp=int(time.time()) + 3600))
    base = f"/api/{user_id}/tasks"
    rng = random.Random(index)
    mine = [(await client.post(base, json={"title": "seed"}, headers=headers)).json()["id"] for _ in range(3)]
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.6 or not mine:
            status = rng.choice(["all", "pending", "completed"])
            request = client.build_request("GET", base, params={"status": status, "limit": 20}, headers=headers)
        elif roll < 0.75:
            request = client.build_request("GET", f"{base}/{rng.choice(mine)}", headers=headers)
        elif roll < 0.85:
            request = client.build_request("POST", base, json={"title": f"task {rng.random()}"}, headers=headers)
        elif roll < 0.95:
            request = client.build_request("PATCH", f"{base}/{rng.choice(mine)}/complete", headers=headers)
        else:
            request = client.build_request("DELETE", f"{base}/{mine.pop(rng.randrange(len(mine)))}", headers=headers)
        started = time.perf_counter()
        try:
            response = await client.send(request)
        except httpx.TransportError as error:
            tally.connection_errors.append(repr(error))
            continue
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        tally.statuses[response.status_code] += 1
        if response.status_code == 201:
            mine.append(response.json()["id"])


async def test_a_hundred_concurrent_users_see_no_errors(two_worker_server: LiveServer) -> None:
    tally = Tally()
    # One client (one keep-alive connection) per user, as real users are; one shared pool of 100
    # connections costs httpx far more CPU per request than the service spends.
    clients = [httpx.AsyncClient(base_url=two_worker_server.url, timeout=30) for _ in range(USERS)]
    try:
        deadline = time.monotonic() + DURATION_SECONDS
        await asyncio.gather(*(one_user(client, index, deadline, tally) for index, client in enumerate(clients)))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    print(tally.summary())
    (REPORTS / "load-summary.txt").write_text(tally.summary() + "\n")
    assert tally.connection_errors == []
    assert not [status for status in tally.statuses if status >= 500], tally.summary()
    assert set(tally.statuses) <= {200, 201, 204}, tally.summary()
