"""Database round trips per operation: `python -m bench.round_trips`.

Starts the embedded PostgreSQL (the bench's, database `round_trips`), devtools.delay_proxy in front of
it, and the service as a real process (one worker, a pool of one connection, so every statement is
prepared once and then reused) reaching PostgreSQL through the proxy. Each operation is sent N times,
one request at a time, with the proxy adding nothing and then `--delay-ms` each way. Printed per
operation: the round trips the proxy counted per request, and (latency delayed - latency undelayed)
÷ RTT, what a database that far away adds (medians). `--pooler` serves as behind a transaction pooler
(asyncpg's statement cache off, DATABASE_TRANSACTION_POOLER=true), as on Neon's -pooler host.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from jose import jwt

from bench.service_environment import service_environment
from devtools import embedded_db, migrate
from devtools.delay_proxy import DelayProxy
from devtools.live_server import ROOT, LiveServer

DATA_DIR = ROOT / ".data" / "bench-postgres"
DATABASE_NAME = "round_trips"
USER = "round_trips_user"
READER = "round_trips_reader"  # lists and tags: 100 tasks that never change, so the last page stays the last
SEEDED_TASKS = 100
PAGE = 20


@dataclass
class State:
    """What the requests need: the user's seeded tasks, tasks made to be deleted, keys to replay."""

    client: httpx.Client
    reader: httpx.Client
    seeded: list[int] = field(default_factory=list)
    doomed: list[int] = field(default_factory=list)
    replayable: str = ""
    cursor: str = ""

    @property
    def tasks(self) -> str:
        return f"/api/{USER}/tasks"

    def list(self, **params: Any) -> httpx.Response:
        return self.reader.get(f"/api/{READER}/tasks", params={"limit": PAGE, **params})

    def task(self, task_id: int) -> str:
        return f"{self.tasks}/{task_id}"


def keyed_create(state: State) -> httpx.Response:
    response = state.client.post(state.tasks, json={"title": "keyed"}, headers={"Idempotency-Key": str(uuid.uuid4())})
    state.doomed.append(response.json()["id"])
    return response


def plain_create(state: State) -> httpx.Response:
    response = state.client.post(state.tasks, json={"title": "plain", "tags": ["bench"]})
    state.doomed.append(response.json()["id"])
    return response


Operation = Callable[[State], httpx.Response]
OPERATIONS: dict[str, Operation] = {
    "list, page with total": lambda s: s.list(),
    "list, last page": lambda s: s.list(offset=SEEDED_TASKS - PAGE),
    "list, by cursor": lambda s: s.list(cursor=s.cursor),
    "list, filtered (q, tag)": lambda s: s.list(q="task", tag="bench"),
    "get": lambda s: s.client.get(s.task(s.seeded[0])),
    "get, 404": lambda s: s.client.get(s.task(999_999_999)),
    "create": plain_create,
    "create, Idempotency-Key": keyed_create,
    "create, replayed key": lambda s: s.client.post(
        s.tasks, json={"title": "keyed"}, headers={"Idempotency-Key": s.replayable}
    ),
    "PATCH": lambda s: s.client.patch(s.task(s.seeded[1]), json={"title": "patched"}),
    "PATCH, If-Match fails (412)": lambda s: s.client.patch(
        s.task(s.seeded[1]), json={"title": "stale"}, headers={"If-Match": '"0"'}
    ),
    "PUT": lambda s: s.client.put(s.task(s.seeded[2]), json={"title": "replaced"}),
    "toggle": lambda s: s.client.patch(f"{s.task(s.seeded[3])}/complete"),
    "delete": lambda s: s.client.delete(s.task(s.doomed.pop())),
    "delete, 404": lambda s: s.client.delete(s.task(999_999_999)),
    "tags": lambda s: s.reader.get(f"/api/{READER}/tags"),
}


@dataclass(frozen=True)
class Measured:
    operation: str
    round_trips: float  # counted by the proxy, per request
    direct_ms: float  # median latency with the proxy adding nothing
    delayed_ms: float  # median latency with delay_ms each way

    def estimated(self, delay_ms: float) -> float:
        return (self.delayed_ms - self.direct_ms) / (2 * delay_ms)


def timed(state: State, operation: Operation, proxy: DelayProxy, requests: int) -> tuple[float, float]:
    """Median latency in ms and round trips per request over `requests` sequential requests."""
    latencies = []
    before = proxy.round_trips
    for _ in range(requests):
        started = time.perf_counter()
        response = operation(state)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 500:
            raise RuntimeError(f"{response.status_code}: {response.text}")
    return statistics.median(latencies), (proxy.round_trips - before) / requests


def prepare(state: State) -> None:
    """Tasks to read and change, tasks to delete, a key to replay, a cursor; then one of each request, so
    that every statement is prepared on the pool's connection before anything is counted."""
    for index in range(SEEDED_TASKS):
        response = state.client.post(state.tasks, json={"title": f"task {index}", "tags": ["bench"]})
        state.seeded.append(response.json()["id"])
        state.reader.post(f"/api/{READER}/tasks", json={"title": f"task {index}", "tags": ["bench"]})
    state.replayable = str(uuid.uuid4())
    state.client.post(state.tasks, json={"title": "keyed"}, headers={"Idempotency-Key": state.replayable})
    state.cursor = state.list().json()["next_cursor"]
    for operation in OPERATIONS.values():
        operation(state)


def measure(server_url: str, secret: str, proxy: DelayProxy, *, requests: int, delay_ms: float) -> list[Measured]:
    def client(user: str) -> httpx.Client:
        now = int(time.time())
        token = jwt.encode({"sub": user, "iat": now, "exp": now + 3600}, secret, "HS256")
        return httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    with client(USER) as writer, client(READER) as reader:
        state = State(writer, reader)
        prepare(state)
        results = []
        for name, operation in OPERATIONS.items():
            if name == "delete":  # enough tasks to delete in both passes
                for _ in range(2 * requests):
                    plain_create(state)
            proxy.delay = 0
            direct_ms, counted = timed(state, operation, proxy, requests)
            proxy.delay = delay_ms / 1000
            delayed_ms, _ = timed(state, operation, proxy, requests)
            proxy.delay = 0
            results.append(Measured(name, counted, direct_ms, delayed_ms))
        return results


def table(results: list[Measured], delay_ms: float) -> str:
    lines = [
        f"{'operation':<30} {'round trips':>11} {'(delayed-direct)/RTT':>21} {'direct ms':>10} {'delayed ms':>11}",
    ]
    for result in results:
        lines.append(
            f"{result.operation:<30} {result.round_trips:>11.2f} {result.estimated(delay_ms):>21.2f} "
            f"{result.direct_ms:>10.2f} {result.delayed_ms:>11.2f}"
        )
    return "\n".join(lines)


def fresh_database(server: embedded_db.PostgresServer) -> str:
    embedded_db.create_database(server, DATABASE_NAME, recreate=True)
    url = embedded_db.database_url(server, DATABASE_NAME)
    migrate.upgrade(url)
    return url


def run(
    server: embedded_db.PostgresServer, *, requests: int, delay_ms: float, pooler: bool, log_dir: Any = None
) -> list[Measured]:
    """Round trips per operation of the service in this checkout, on the given embedded server."""
    fresh_database(server)
    proxy = DelayProxy(unix_socket=f"{embedded_db.socket_dir(server)}/.s.PGSQL.5432").start()
    secret = secrets.token_urlsafe(48)
    env = service_environment(f"postgresql://postgres@127.0.0.1:{proxy.port}/{DATABASE_NAME}", secret) | {
        "DATABASE_TRANSACTION_POOLER": "true" if pooler else "false",
        "DB_POOL_MAX_SIZE": "1",
    }
    logs = log_dir or ROOT / ".data" / "bench-logs"
    live = LiveServer(env, log_path=logs / "round-trips.log", name="service (round trips)")
    try:
        return measure(live.url, secret, proxy, requests=requests, delay_ms=delay_ms)
    finally:
        live.stop()
        proxy.stop()


def bench_section(server: embedded_db.PostgresServer | None, *, requests: int = 20, delay_ms: float = 5) -> list[Any]:
    """`make bench`'s round-trips section: the table printed, the figures for the results JSON."""
    if server is None:
        print("\nRound trips: skipped (they need the embedded PostgreSQL, not DATABASE_URL)")
        return []
    results = run(server, requests=requests, delay_ms=delay_ms, pooler=False)
    print(f"\nRound trips per request ({requests} sequential requests each, {delay_ms:g} ms each way added)")
    print(table(results, delay_ms))
    return [vars(result) | {"estimated": round(result.estimated(delay_ms), 2)} for result in results]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.round_trips", description=__doc__)
    parser.add_argument("--requests", type=int, default=20, help="sequential requests per operation and pass")
    parser.add_argument("--delay-ms", type=float, default=5, help="delay the proxy adds each way (default 5)")
    parser.add_argument("--pooler", action="store_true", help="serve as behind a transaction pooler")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    server = embedded_db.start(DATA_DIR, stop_at_exit=False)
    try:
        started = time.monotonic()
        results = run(server, requests=args.requests, delay_ms=args.delay_ms, pooler=args.pooler)
    finally:
        embedded_db.stop(server)
    mode = "statement cache off (transaction pooler)" if args.pooler else "statement cache on"
    print(f"Round trips per request, {args.requests} sequential requests each, {args.delay_ms:g} ms each way; {mode}")
    print(table(results, args.delay_ms))
    print(f"\n{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
