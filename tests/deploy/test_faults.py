"""Faults: the real PostgreSQL is stopped, crashed and restarted under a live two-worker service.

This module runs its own embedded PostgreSQL cluster (.data/fault-postgres) and its own servers, so
it can take the database away without touching the cluster every other test shares. What it proves:
an outage turns into prompt 503 problems (never a 500, a hang or a dropped connection), the service
recovers by itself, no acknowledged write is lost, and retries with an Idempotency-Key never create
a second task. Each test prints a one-line summary (see `pytest -s`), also kept in
reports/faults-summary.txt.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest

from devtools import embedded_db, migrate
from devtools.live_server import ROOT, LiveServer
from tests.support.database import plain_dsn, task_row_locked
from tests.support.environments import REPORTS, shared_secret_env
from tests.support.problems import PROBLEM_JSON, assert_problem
from tests.support.tokens import bearer, shared_secret_token
from tests.support.waiting import wait_until_async

FAULT_PGDATA = ROOT / ".data" / "fault-postgres"
SUMMARY_PATH = REPORTS / "faults-summary.txt"

# The service's database timeouts in these tests (seconds).
DB_CONNECT_TIMEOUT = 2.0
DB_POOL_TIMEOUT = 2.0
DB_COMMAND_TIMEOUT = 5.0
# The longest a request may wait for the database, even when it is away: a pooled connection, its
# pre-ping (a statement), a fresh connection, then the statement itself. Nothing may take longer.
ANSWER_BOUND = DB_POOL_TIMEOUT + DB_COMMAND_TIMEOUT + DB_CONNECT_TIMEOUT + DB_COMMAND_TIMEOUT
# The client gives up well after that, so a request that hangs shows up as a failure, not a stall.
CLIENT_TIMEOUT = ANSWER_BOUND + 10
# How long the service may take to be ready again once PostgreSQL is (it needs no restart for it).
RECOVERY_BOUND = 3 * (DB_CONNECT_TIMEOUT + DB_POOL_TIMEOUT)
# How long a writer keeps retrying one request before the test fails.
RETRY_BOUND = 30.0
SUCCESS = frozenset({200, 201})

OUTAGE_CLIENTS = 24
WRITERS = 16
UPDATES_PER_TASK = 3
# The outage test's request kinds, and those that need the database.
KINDS = ("readyz", "healthz", "list", "create", "get", "patch")
DATABASE_KINDS = frozenset(KINDS) - {"healthz"}


# ---------------------------------------------------------------------------------------------------
# The fault cluster, the service on it, and the faults themselves


@pytest.fixture(scope="module")
def fault_postgres() -> Iterator[embedded_db.PostgresServer]:
    """A PostgreSQL cluster of this module's own, the only one these tests ever stop."""
    FAULT_PGDATA.parent.mkdir(parents=True, exist_ok=True)
    with (FAULT_PGDATA.parent / "fault-postgres.lock").open("w") as lock:
        # Another run of this module (another shell, same checkout) would stop the database under us.
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = embedded_db.start(FAULT_PGDATA, stop_at_exit=False)
        try:
            yield server
        finally:
            embedded_db.restart(server)
            embedded_db.stop(server)


@pytest.fixture(scope="module")
def fault_database(fault_postgres: embedded_db.PostgresServer) -> Iterator[str]:
    name = f"faults_{os.getpid()}"
    embedded_db.create_database(fault_postgres, name, recreate=True)
    url = embedded_db.database_url(fault_postgres, name)
    migrate.upgrade(url)
    yield url
    embedded_db.restart(fault_postgres)
    embedded_db.drop_database(fault_postgres, name)


def fault_env(database_url: str, *, command_timeout: float = DB_COMMAND_TIMEOUT) -> dict[str, str]:
    return shared_secret_env(database_url) | {
        "DB_CONNECT_TIMEOUT": str(DB_CONNECT_TIMEOUT),
        "DB_POOL_TIMEOUT": str(DB_POOL_TIMEOUT),
        "DB_COMMAND_TIMEOUT": str(command_timeout),
    }


@pytest.fixture(scope="module")
def service(fault_database: str) -> Iterator[LiveServer]:
    """Two uvicorn workers (a process tree, as production runs it) on the fault cluster."""
    live = LiveServer(fault_env(fault_database), log_path=REPORTS / "server-faults.log", workers=2)
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def database_back_up(fault_postgres: embedded_db.PostgresServer) -> Iterator[None]:
    """Whatever a test does to the cluster, the next one starts with it running."""
    yield
    embedded_db.restart(fault_postgres)


@pytest.fixture(scope="module")
def summaries() -> Iterator[list[str]]:
    lines: list[str] = []
    yield lines
    SUMMARY_PATH.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY_PATH.write_text("".join(f"{line}\n" for line in lines))


def report(summaries: list[str], line: str) -> None:
    print(line)
    summaries.append(line)


async def take_down(server: embedded_db.PostgresServer, mode: str) -> None:
    """Stop PostgreSQL: "fast" (an orderly outage) or "immediate" (a crash; recovery runs at start)."""
    await asyncio.to_thread(
        embedded_db.pg_ctl, ["-w", "-m", mode, "stop"], pgdata=server.pgdata, user=server.system_user
    )


async def bring_up(server: embedded_db.PostgresServer) -> None:
    await asyncio.to_thread(embedded_db.restart, server)


async def fetch(database_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


# ---------------------------------------------------------------------------------------------------
# Clients


def headers_for(user_id: str) -> dict[str, str]:
    return bearer(shared_secret_token(user_id, exp=int(time.time()) + 3600))


@dataclass
class Outcome:
    kind: str
    started: float
    finished: float
    status: int | None
    error: str | None = None

    @property
    def elapsed(self) -> float:
        return self.finished - self.started


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)
    malformed_503: list[str] = field(default_factory=list)

    async def send(
        self, client: httpx.AsyncClient, kind: str, method: str, url: str, **options: Any
    ) -> httpx.Response | None:
        """Send one request; None when it never got an answer (which every test here forbids)."""
        started = time.monotonic()
        try:
            response = await client.request(method, url, **options)
        except httpx.HTTPError as error:
            self.outcomes.append(Outcome(kind, started, time.monotonic(), None, repr(error)))
            return None
        self.outcomes.append(Outcome(kind, started, time.monotonic(), response.status_code))
        if response.status_code == 503:
            self.check_unavailable(response)
        return response

    def check_unavailable(self, response: httpx.Response) -> None:
        """A 503 must be a problem document that tells the client when to retry."""
        retry_after = response.headers.get("retry-after", "")
        if (
            response.headers.get("content-type") != PROBLEM_JSON
            or not retry_after.isdigit()
            or int(retry_after) < 1
            or response.json().get("status") != 503
        ):
            self.malformed_503.append(f"{response.headers} {response.text}")

    @property
    def statuses(self) -> Counter[int | None]:
        return Counter(outcome.status for outcome in self.outcomes)

    @property
    def errors(self) -> list[str]:
        return [f"{outcome.kind}: {outcome.error}" for outcome in self.outcomes if outcome.error]

    @property
    def slowest(self) -> float:
        return max((outcome.elapsed for outcome in self.outcomes), default=0.0)

    def status_text(self) -> str:
        return str(dict(sorted(self.statuses.items(), key=lambda item: item[0] or 0)))

    def answered(self, *, started_after: float, statuses: frozenset[int] | None = None) -> Counter[str]:
        """Answers per kind to requests started after a moment (with one of these statuses)."""
        return Counter(
            o.kind
            for o in self.outcomes
            if o.started >= started_after and o.status is not None and (statuses is None or o.status in statuses)
        )

    def every_kind_answered(
        self, kinds: frozenset[str], times: int, *, started_after: float, statuses: frozenset[int] | None = None
    ) -> bool:
        answered = self.answered(started_after=started_after, statuses=statuses)
        return all(answered[kind] >= times for kind in kinds)


@pytest.fixture
async def client(service: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=service.url, timeout=CLIENT_TIMEOUT, limits=limits) as http:
        yield http


async def wait_until_ready(client: httpx.AsyncClient, bound: float) -> float:
    """Poll /readyz until it answers 200; the moment it did."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        response = await client.get("/readyz")
        if response.status_code == 200:
            return time.monotonic()
        assert response.status_code == 503, response.text
        await asyncio.sleep(0.05)
    pytest.fail(f"the service was not ready {bound} s after PostgreSQL was")


async def until_acknowledged(
    tally: Tally, client: httpx.AsyncClient, kind: str, expected: int, method: str, url: str, **options: Any
) -> tuple[httpx.Response, int]:
    """Retry one request, as a careful client would, until it gets the expected status.

    Only 503 is retried (after a short pause); anything else unexpected fails the test. Returns the
    answer and how many attempts it took.
    """
    deadline = time.monotonic() + RETRY_BOUND
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        response = await tally.send(client, kind, method, url, **options)
        assert response is not None, tally.errors[-1]
        if response.status_code == expected:
            return response, attempts
        assert response.status_code == 503, f"{kind}: {response.status_code} {response.text}"
        await asyncio.sleep(0.2)
    pytest.fail(f"{kind} was still refused after {RETRY_BOUND} s")


# ---------------------------------------------------------------------------------------------------
# 1. An outage answers 503 promptly, and the service recovers by itself


async def outage_client(client: httpx.AsyncClient, user_id: str, stop: asyncio.Event, tally: Tally) -> None:
    headers = headers_for(user_id)
    base = f"/api/{user_id}/tasks"
    mine: list[int] = []
    step = 0
    while not stop.is_set():
        step += 1
        kind = KINDS[step % len(KINDS)]
        if kind in {"get", "patch"} and not mine:
            kind = "create"
        if kind in {"readyz", "healthz"}:
            await tally.send(client, kind, "GET", f"/{kind}")
        elif kind == "list":
            await tally.send(client, kind, "GET", base, params={"limit": 5}, headers=headers)
        elif kind == "create":
            response = await tally.send(client, kind, "POST", base, json={"title": "t"}, headers=headers)
            if response is not None and response.status_code == 201:
                mine.append(response.json()["id"])
        elif kind == "get":
            await tally.send(client, kind, "GET", f"{base}/{mine[-1]}", headers=headers)
        else:
            body = {"completed": step % 4 == 0}
            await tally.send(client, kind, "PATCH", f"{base}/{mine[-1]}", json=body, headers=headers)
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("shutdown", ["fast", "immediate"])
async def test_database_outage_answers_503_promptly_and_recovers_without_restart(
    fault_postgres: embedded_db.PostgresServer, client: httpx.AsyncClient, summaries: list[str], shutdown: str
) -> None:
    run = uuid.uuid4().hex[:8]
    tally, stop = Tally(), asyncio.Event()
    clients = [
        asyncio.create_task(outage_client(client, f"outage_{run}_{index}", stop, tally))
        for index in range(OUTAGE_CLIENTS)
    ]
    # Each phase lasts until every kind was answered in it as many times as there are clients.
    every_kind = frozenset(KINDS)
    try:
        # Before: every kind served, so both workers' pools hold connections the outage will kill.
        assert await wait_until_async(
            lambda: tally.every_kind_answered(every_kind, OUTAGE_CLIENTS, started_after=0, statuses=SUCCESS),
            seconds=RETRY_BOUND,
        ), f"the service did not serve every kind before the outage: {tally.status_text()}"
        stopping = time.monotonic()
        await take_down(fault_postgres, shutdown)
        down = time.monotonic()
        # During: every database kind asked (their statuses are checked below).
        assert await wait_until_async(
            lambda: tally.every_kind_answered(DATABASE_KINDS, OUTAGE_CLIENTS, started_after=down),
            seconds=CLIENT_TIMEOUT,
        ), f"the outage was not exercised on every kind: {tally.answered(started_after=down)}"
        starting = time.monotonic()
        await bring_up(fault_postgres)
        up = time.monotonic()
        ready = await wait_until_ready(client, RECOVERY_BOUND)
        # After: every kind asked again (the checks below demand it all succeeded).
        assert await wait_until_async(
            lambda: tally.every_kind_answered(every_kind, OUTAGE_CLIENTS, started_after=up), seconds=RETRY_BOUND
        ), f"traffic did not resume on every kind: {tally.answered(started_after=up)}"
    finally:
        stop.set()
        await asyncio.gather(*clients)

    # Real work on the recovered service, with no restart in between.
    user_id = f"outage_{run}_after"
    headers, base = headers_for(user_id), f"/api/{user_id}/tasks"
    created = await client.post(base, json={"title": "after the outage"}, headers=headers)
    assert created.status_code == 201, created.text
    task_path = f"{base}/{created.json()['id']}"
    patched = await client.patch(task_path, json={"completed": True}, headers=headers)
    assert patched.status_code == 200, patched.text
    fetched = await client.get(task_path, headers=headers)
    assert fetched.status_code == 200
    assert fetched.json()["completed"] is True

    during = [o for o in tally.outcomes if o.started >= down and o.finished <= starting]
    after = [o for o in tally.outcomes if o.started >= up]
    report(
        summaries,
        f"outage ({shutdown}): {OUTAGE_CLIENTS} clients, {len(tally.outcomes)} requests, "
        f"statuses {tally.status_text()}, outage {starting - stopping:.1f} s ({len(during)} requests inside it), "
        f"slowest answer {tally.slowest:.2f} s (bound {ANSWER_BOUND:.0f} s), "
        f"ready again {ready - up:.2f} s after PostgreSQL",
    )
    assert tally.errors == [], "requests that got no answer from the service"
    assert set(tally.statuses) <= {200, 201, 503}, tally.status_text()
    assert tally.malformed_503 == []
    assert tally.slowest < ANSWER_BOUND
    assert {o.kind for o in during} >= DATABASE_KINDS, "the outage must have been exercised on every kind"
    assert all(o.status == 503 for o in during if o.kind in DATABASE_KINDS), "every database request in it"
    assert all(o.status == 200 for o in tally.outcomes if o.kind == "healthz"), "liveness never needs it"
    assert after, "traffic must have continued after PostgreSQL came back"
    assert all(o.status in {200, 201} for o in after), "no request after PostgreSQL was back may fail"


# ---------------------------------------------------------------------------------------------------
# 2. No acknowledged write is lost across a restart and a crash


@dataclass
class Writer:
    """One client, the only one writing its user's tasks, and everything the service acknowledged it."""

    user_id: str
    intended: list[str] = field(default_factory=list)
    acknowledged: dict[int, dict[str, Any]] = field(default_factory=dict)
    retried_creates: int = 0
    replayed_creates: int = 0
    retried_updates: int = 0
    acknowledgements: int = 0  # writes acknowledged, creates and updates


async def every_writer_acknowledged_again(writers: list[Writer]) -> None:
    """Wait until each writer has had one more write acknowledged than now: writes are flowing."""
    since = [writer.acknowledgements for writer in writers]
    assert await wait_until_async(
        lambda: all(writer.acknowledgements > count for writer, count in zip(writers, since, strict=True)),
        seconds=RETRY_BOUND,
    ), "a writer had no write acknowledged"


async def until_the_writers_feel_it(tally: Tally) -> None:
    """Wait until the writers have been refused twice each, on average, since now (and so are retrying)."""
    refused = tally.statuses[503]
    assert await wait_until_async(lambda: tally.statuses[503] >= refused + 2 * WRITERS, seconds=CLIENT_TIMEOUT), (
        f"the outage was not felt: {tally.status_text()}"
    )


async def write(client: httpx.AsyncClient, writer: Writer, stop: asyncio.Event, tally: Tally) -> None:
    headers, base = headers_for(writer.user_id), f"/api/{writer.user_id}/tasks"
    number = 0
    while not stop.is_set():
        number += 1
        title = f"{writer.user_id} #{number}"
        writer.intended.append(title)
        create_headers = headers | {"Idempotency-Key": uuid.uuid4().hex}
        created, attempts = await until_acknowledged(
            tally, client, "create", 201, "POST", base, json={"title": title}, headers=create_headers
        )
        writer.retried_creates += attempts > 1
        writer.replayed_creates += created.headers.get("idempotent-replayed") == "true"
        task = created.json()
        assert task["title"] == title
        writer.acknowledged[task["id"]] = task
        writer.acknowledgements += 1
        for revision in range(UPDATES_PER_TASK):
            # Absolute values, so retrying one whose outcome is unknown is safe.
            body = {"description": f"revision {revision}", "completed": revision % 2 == 0}
            path = f"{base}/{task['id']}"
            updated, attempts = await until_acknowledged(
                tally, client, "update", 200, "PATCH", path, json=body, headers=headers
            )
            writer.retried_updates += attempts > 1
            writer.acknowledged[task["id"]] = updated.json()
            writer.acknowledgements += 1


@pytest.mark.parametrize("crash", ["fast", "immediate"])
async def test_no_acknowledged_write_is_lost_when_the_database_restarts(
    fault_postgres: embedded_db.PostgresServer,
    fault_database: str,
    client: httpx.AsyncClient,
    summaries: list[str],
    crash: str,
) -> None:
    run = uuid.uuid4().hex[:8]
    writers = [Writer(f"writer_{run}_{index}") for index in range(WRITERS)]
    tally, stop = Tally(), asyncio.Event()
    tasks = [asyncio.create_task(write(client, writer, stop, tally)) for writer in writers]
    outages: list[float] = []
    try:
        # Two outages while writes are flowing: a fast stop, then the one under test (maybe a crash).
        for mode in ("fast", crash):
            await every_writer_acknowledged_again(writers)  # before the first, and again after each
            stopping = time.monotonic()
            await take_down(fault_postgres, mode)
            await until_the_writers_feel_it(tally)
            await bring_up(fault_postgres)
            outages.append(time.monotonic() - stopping)
        await every_writer_acknowledged_again(writers)
    finally:
        stop.set()
        await asyncio.gather(*tasks)

    users = [writer.user_id for writer in writers]
    rows = await fetch(
        fault_database, "SELECT id, title, description, completed FROM tasks WHERE user_id = ANY($1::text[])", users
    )
    titles = sorted(row["title"] for row in rows)
    intended = sorted(title for writer in writers for title in writer.intended)
    stored = {row["id"]: dict(row) for row in rows}
    acknowledged = {task_id: task for writer in writers for task_id, task in writer.acknowledged.items()}
    report(
        summaries,
        f"writes ({'fast stop, then ' + crash}): {WRITERS} writers, {len(tally.outcomes)} requests, statuses "
        f"{tally.status_text()}, outages {', '.join(f'{s:.1f} s' for s in outages)}, {len(intended)} tasks "
        f"created, creates retried {sum(w.retried_creates for w in writers)} (replayed "
        f"{sum(w.replayed_creates for w in writers)}), updates retried {sum(w.retried_updates for w in writers)}",
    )
    assert tally.errors == []
    assert set(tally.statuses) <= {200, 201, 503}, tally.status_text()
    assert tally.statuses[503] > 0, "the outages must have been felt"
    assert tally.malformed_503 == []
    assert len(set(titles)) == len(titles), "a retried create made a second task"
    assert titles == intended, "every intended task exists, exactly once"
    assert set(stored) == set(acknowledged), "every acknowledged task is stored"
    for task_id, task in acknowledged.items():
        row = stored[task_id]
        assert (row["title"], row["description"], row["completed"]) == (
            task["title"],
            task["description"],
            task["completed"],
        ), "the last acknowledged update of every task is what is stored"


# ---------------------------------------------------------------------------------------------------
# 3. A create whose answer was lost is retried safely across a restart


@pytest.mark.parametrize("crash", ["fast", "immediate"])
async def test_create_retried_with_its_idempotency_key_after_a_restart_is_replayed_not_repeated(
    fault_postgres: embedded_db.PostgresServer,
    fault_database: str,
    client: httpx.AsyncClient,
    summaries: list[str],
    crash: str,
) -> None:
    user_id = f"replay_{uuid.uuid4().hex[:8]}"
    headers = headers_for(user_id) | {"Idempotency-Key": uuid.uuid4().hex}
    base, body = f"/api/{user_id}/tasks", {"title": "pay rent", "description": "before the 5th"}

    # Committed, but suppose the answer never reached the client: it only knows it must retry.
    first = await client.post(base, json=body, headers=headers)
    assert first.status_code == 201, first.text
    stopping = time.monotonic()
    await take_down(fault_postgres, crash)
    await bring_up(fault_postgres)
    up = time.monotonic()
    ready = await wait_until_ready(client, RECOVERY_BOUND)

    # Several retries, so that both workers are most likely asked.
    retries = [await client.post(base, json=body, headers=headers) for _ in range(4)]
    different = await client.post(base, json=body | {"title": "pay rent twice"}, headers=headers)
    count = await fetch(fault_database, "SELECT count(*) FROM tasks WHERE user_id = $1", user_id)
    report(
        summaries,
        f"replay ({crash}): 6 creates with one key around a restart of {up - stopping:.1f} s, statuses "
        f"{[r.status_code for r in (first, *retries, different)]}, ready again {ready - up:.2f} s after PostgreSQL, "
        f"{count[0][0]} task stored",
    )
    for retry in retries:
        assert retry.status_code == 201, retry.text
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == first.json()
        assert (retry.headers["location"], retry.headers["etag"]) == (first.headers["location"], first.headers["etag"])
    assert "idempotent-replayed" not in first.headers
    assert count[0][0] == 1
    assert_problem(different, 422)


# ---------------------------------------------------------------------------------------------------
# 4. A request waiting inside the database when it dies answers 503 at once


async def test_request_in_flight_when_the_database_crashes_answers_503(
    fault_postgres: embedded_db.PostgresServer, fault_database: str, summaries: list[str]
) -> None:
    # A command timeout far longer than the bound below: the 503 must come from the crash, not from it.
    command_timeout = 60.0
    prompt = 3 * DB_CONNECT_TIMEOUT
    user_id = f"inflight_{uuid.uuid4().hex[:8]}"
    headers, base = headers_for(user_id), f"/api/{user_id}/tasks"
    env = fault_env(fault_database, command_timeout=command_timeout)
    server = LiveServer(env, log_path=REPORTS / "server-faults-in-flight.log")
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=command_timeout + 10) as client:
            created = await client.post(base, json={"title": "held"})
            assert created.status_code == 201, created.text
            task_path = created.headers["location"]
            async with task_row_locked(fault_database, created.json()["id"]) as lock:
                in_flight = asyncio.create_task(client.patch(task_path, json={"completed": True}))
                await lock.until_the_request_waits(in_flight)
                crashing = time.monotonic()
                await take_down(fault_postgres, "immediate")
                response = await in_flight
                answered = time.monotonic() - crashing
            await bring_up(fault_postgres)
            up = time.monotonic()
            ready = await wait_until_ready(client, RECOVERY_BOUND)
            after = await client.get(task_path)
    finally:
        server.stop()
    report(
        summaries,
        f"in flight: PATCH waiting on a row lock when PostgreSQL crashed answered {response.status_code} "
        f"in {answered:.2f} s (bound {prompt:.0f} s, command timeout {command_timeout:.0f} s); "
        f"ready again {ready - up:.2f} s after PostgreSQL",
    )
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    assert answered < prompt
    assert after.status_code == 200
    assert after.json()["completed"] is False, "the update that failed before committing left nothing behind"
