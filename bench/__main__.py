"""`make bench`: the service against its two limits, measured in the same run on the same data.

Starts PostgreSQL (embedded, or DATABASE_URL with --wipe-database), seeds it with SQL, starts the
service and the bare ASGI app (bench/bare_app.py) under uvicorn as production would run them, drives
each workload with wrk (HTTP) and pgbench (the same SQL straight at PostgreSQL), prints a table and
writes it as JSON to bench/results/. Everything it starts, it stops. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from jose import jwt

from bench import report, round_trips
from bench.baseline import Baseline, checkout, this_commit
from bench.database import Database, Layout, open_database, seed
from bench.loadgen import (
    FILTERED,
    MAX_FILTERED_PAGES,
    PAGE_SIZE,
    Connection,
    FilteredPlan,
    Measurement,
    combined,
    connections_for,
    filtered_scripts,
    find_pgbench,
    find_wrk,
    growth_script,
    pgbench_scripts,
    pgbench_variables,
    run_pgbench,
    run_wrk,
)
from bench.noise import OtherCpu
from bench.process_cpu import DATABASE, SERVER, CpuPerRequest
from bench.service_environment import service_environment
from bench.statements import service_sql
from bench.turns import turns
from devtools.live_server import HTTP_PROTOCOL, ROOT, SERVICE_APP, LiveServer
from impl.tasks.listing.filters import filter_values
from impl.tasks.listing.repository import list_queries, needs_count

WORKLOADS = ("mixed", "list", "list-filtered", "get", "create", "update", "delete")
# One operation each: measured for shorter by default, which keeps the whole run under 10 minutes.
OPERATION_WORKLOADS = ("get", "create", "update", "delete")
SHAPES = ("saturation", "realistic")
TARGETS = ("service", "bare", "framework-only", "database")
# framework-only (bench/raw_app.py: the service's own SQL, pool and token cache without the framework)
# splits the gap to bare into framework and SQL; measured on request only, to keep the run under 10 minutes.
DEFAULT_TARGETS = ("service", "bare", "database")
# Deletes per second the delete pool must cover in a saturation run (pgbench reached 28,000 here).
DELETE_POOL_RATE = 40_000
# Issue 22's targets are for 1 and for 2 workers: --also-workers measures these again with the other count.
OTHER_WORKERS_TARGETS = ("service", "bare")
OTHER_WORKERS_WORKLOADS = ("mixed", "list")
OTHER_WORKERS_SHAPES = ("saturation",)


@dataclass(frozen=True)
class Growth:
    key: str
    label: str
    layout: Layout
    heavy: bool  # every connection is the one user holding layout.heavy_tasks tasks
    limit: int
    offset: int
    # Instead of the offset: the cursor the service hands out for the page that starts this deep
    # (fetched once before the run); the database limit is not run for it.
    cursor_at: int | None = None


# The heavy user among the 10^6 rows: alone in a small table it would be most of it, and PostgreSQL
# would rightly read the whole table for it, which says nothing about a power user in production.
HEAVY = Layout(100_000, 10, heavy_tasks=100_000)
GROWTH = (
    # Ten tasks per user and pages of ten: every page is full, so each list also counts (as the service does).
    Growth("rows_1e3", "10^3 tasks: 10 each for 100 users", Layout(100, 10), False, 10, 0),
    Growth("rows_1e5", "10^5 tasks: 10 each for 10^4 users", Layout(10_000, 10), False, 10, 0),
    Growth("rows_1e6", "10^6 tasks: 10 each for 10^5 users", Layout(100_000, 10), False, 10, 0),
    Growth("one_user_first_page", "+ one user of 10^5 tasks: first page", HEAVY, True, 20, 0),
    Growth("one_user_deep_offset", "+ one user of 10^5 tasks: offset 99,980", HEAVY, True, 20, 99_980),
    Growth("one_user_deep_cursor", "+ one user of 10^5 tasks: cursor at 99,980", HEAVY, True, 20, 0, 99_980),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=7, help="seconds per measured run (default 7)")
    parser.add_argument(
        "--operation-duration",
        type=float,
        default=None,
        help=f"seconds per run of {', '.join(OPERATION_WORKLOADS)} (default 4, or --duration when shorter)",
    )
    parser.add_argument("--warmup", type=float, default=3, help="seconds of mixed load per server before measuring")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn workers (default: CPUs)")
    parser.add_argument(
        "--also-workers",
        type=int,
        metavar="N",
        help="after the main runs, the service and bare app again with N workers, saturation list and mixed only "
        "(default 1 when --workers is not 1; 0: not)",
    )
    parser.add_argument("--connections", type=int, default=100, help="concurrent connections, one user each")
    parser.add_argument("--users", type=int, default=100, help="users in the main data set")
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks in the main data set, spread evenly")
    parser.add_argument("--pause-ms", type=int, default=100, help="mean pause per connection, realistic shape")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"subset of {','.join(WORKLOADS)}")
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"subset of {','.join(SHAPES)}")
    parser.add_argument(
        "--targets",
        default=",".join(DEFAULT_TARGETS),
        help=f"subset of {','.join(TARGETS)} (default: all but framework-only)",
    )
    parser.add_argument(
        "--growth", action=argparse.BooleanOptionalAction, default=True, help="list latency as the table grows"
    )
    parser.add_argument("--growth-duration", type=float, default=6, help="seconds per growth run (default 6)")
    parser.add_argument(
        "--growth-connections", type=int, default=10, help="connections in growth runs (realistic shape)"
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also serve the service as of this git ref (e.g. main) and measure it beside this one in each run",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="runs of two targets that take turns (bench/turns.py): the service and --baseline, each of the full"
        " duration; else the service and the bare app in saturation list and mixed, sharing it (default 2)",
    )
    parser.add_argument(
        "--metrics",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the service (and baseline) record Prometheus metrics, as with METRICS_PORT set (default: on)",
    )
    parser.add_argument(
        "--round-trips", action=argparse.BooleanOptionalAction, default=True, help="database round trips per operation"
    )
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--wipe-database", action="store_true", help="allow emptying the database at DATABASE_URL")
    args = parser.parse_args(argv)
    for name, allowed in (("workloads", WORKLOADS), ("shapes", SHAPES), ("targets", TARGETS)):
        chosen = [item for item in getattr(args, name).split(",") if item]
        if unknown := set(chosen) - set(allowed):
            parser.error(f"--{name}: unknown {sorted(unknown)}")
        setattr(args, name, [item for item in allowed if item in chosen])
    if args.baseline:
        if "service" not in args.targets:
            parser.error("--baseline is measured against the service: keep it in --targets")
        args.targets.insert(1, "baseline")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.also_workers is None:
        args.also_workers = 1 if args.workers != 1 else 0
    if args.also_workers < 0 or args.also_workers == args.workers:
        parser.error("--also-workers must be 0 (none) or a worker count other than --workers")
    if args.connections > args.users:
        parser.error("each connection is a distinct user: --connections may not exceed --users")
    if args.tasks % args.users:
        parser.error("--tasks must be a multiple of --users")
    return args


def operation_seconds(args: argparse.Namespace) -> float:
    """Seconds per run of the one-operation workloads: --operation-duration, else 4 or --duration if shorter."""
    if args.operation_duration is not None:
        return float(args.operation_duration)
    return float(min(args.duration, 4))


def exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def other_test_runs() -> int:
    """Processes of other people's test runs on this machine (pytest, schemathesis): noise for the numbers."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"pytest" in command or b"schemathesis" in command:
                count += 1
    return count


def tool_version(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "?"


class Bench:
    def __init__(
        self, args: argparse.Namespace, database: Database, *, wrk: str, pgbench: str, baseline: Baseline | None
    ) -> None:
        self.args = args
        self.baseline = baseline
        self.database = database
        self.wrk = wrk
        self.pgbench = pgbench
        self.sql = service_sql()
        self.secret = secrets.token_urlsafe(48)
        self.tokens: dict[str, str] = {}
        self.servers: dict[str, LiveServer] = {}
        self.log_dir = ROOT / ".data" / "bench-logs"
        self.metrics_dir = ROOT / ".data" / "bench-metrics"
        self.current: Layout | None = None
        self.anchor = datetime.now(UTC)  # the seeding's "now": due dates are spread around it
        postmaster = database.postmaster_pid()
        self.other_cpu = OtherCpu({os.getpid()} | ({postmaster} if postmaster else set()))

    def token(self, uid: str) -> str:
        if uid not in self.tokens:
            now = int(time.time())
            self.tokens[uid] = jwt.encode({"sub": uid, "iat": now, "exp": now + 6 * 3600}, self.secret, "HS256")
        return self.tokens[uid]

    def environment(self) -> dict[str, str]:
        environment = service_environment(self.database.url, self.secret)
        if self.args.metrics:
            # The workers record as under `tasks-api serve` with METRICS_PORT set: into multiprocess files
            # (start_servers empties the directory). Nothing scrapes them: a scrape runs in serve's parent.
            environment |= {"METRICS_PORT": "9100", "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir)}
        return environment

    def start_servers(self, targets: list[str], workers: int) -> None:
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        self.metrics_dir.mkdir(parents=True)
        apps = {
            "service": SERVICE_APP,
            "baseline": SERVICE_APP,
            "bare": ("bench.bare_app:app",),
            "framework-only": ("bench.raw_app:app",),
        }
        baseline = self.baseline
        for name in apps:
            if name in targets:
                self.servers[name] = LiveServer(
                    self.environment(),
                    log_path=self.log_dir / f"{name}.log",
                    workers=workers,
                    app=apps[name],
                    # The baseline's own impl/ and generated/, imported from its checkout, with its own protocol.
                    cwd=baseline.directory if name == "baseline" and baseline else ROOT,
                    loop="uvloop",
                    http_protocol=baseline.http_protocol if name == "baseline" and baseline else HTTP_PROTOCOL,
                    name=name,
                    timeout=60,
                )

    def stop_server(self, name: str) -> None:
        server = self.servers.pop(name, None)
        if server is not None:
            server.stop()

    def stop_all(self) -> None:
        for name in list(self.servers):
            self.stop_server(name)

    def seed(self, layout: Layout) -> None:
        self.anchor = datetime.now(UTC).replace(microsecond=0)
        seconds = asyncio.run(seed(self.database, layout, self.anchor))
        self.current = layout
        if seconds > 3:
            print(f"  (seeded {layout.total_tasks:,} tasks in {seconds:.1f} s)", flush=True)

    def seconds(self, workload: str) -> float:
        return operation_seconds(self.args) if workload in OPERATION_WORKLOADS else float(self.args.duration)

    def main_layout(self, workload: str, shape: str) -> Layout:
        per_user = self.args.tasks // self.args.users
        if workload != "delete":
            return Layout(self.args.users, per_user)
        offered = 2 * self.args.connections * 1000 / self.args.pause_ms
        per_second = DELETE_POOL_RATE if shape == "saturation" else offered
        pool = math.ceil(self.seconds(workload) * per_second / self.args.connections) + 10
        return Layout(self.args.users, per_user, pool=pool)

    def warm_up(self) -> None:
        if self.args.warmup <= 0:
            return
        layout = Layout(self.args.users, self.args.tasks // self.args.users)
        self.seed(layout)
        connections = connections_for(layout, self.token, self.args.connections)
        for name, server in self.servers.items():
            run_wrk(self.wrk, server.url, connections, target=name, mode="mixed", seconds=self.args.warmup)

    def task_count(self) -> int:
        async def count() -> int:
            conn = await self.database.connect()
            try:
                return int(await conn.fetchval("SELECT count(*) FROM tasks"))
            finally:
                await conn.close()

        return asyncio.run(count())

    def filtered_plans(self, layout: Layout) -> list[FilteredPlan]:
        """Each filter combination on the data just seeded, run as the service runs it: how many tasks
        it matches for each connection's user (the seeding makes that one number), and on which of the
        pages the workload asks for the service runs the count (repository.needs_count)."""
        users = [c.uid for c in connections_for(layout, self.token, self.args.connections)]

        async def plan() -> list[FilteredPlan]:
            conn = await self.database.connect()
            try:
                plans = []
                for filtered in FILTERED:
                    filters = filtered.filters(self.anchor)
                    page, count = list_queries(filtered.status, filtered.sort, filtered.order, filters.shape)  # type: ignore[arg-type]
                    values = {"limit": PAGE_SIZE, **filter_values(filters)}
                    totals = {(await count.one_or_none(conn, **values, user_id=uid) or [0])[0] for uid in users}
                    if len(totals) != 1:
                        raise RuntimeError(f"{filtered.name} matches {sorted(totals)} tasks: users differ")
                    matches = totals.pop()
                    pages = min(MAX_FILTERED_PAGES, max(1, math.ceil(matches / PAGE_SIZE)))
                    counted = []
                    for offset in range(0, pages * PAGE_SIZE, PAGE_SIZE):
                        rows = await page.all(conn, **values, user_id=users[0], offset=offset)
                        counted.append(needs_count(returned=len(rows), limit=PAGE_SIZE, offset=offset, by_cursor=False))
                    plans.append(FilteredPlan(filtered, matches, tuple(counted)))
                return plans
            finally:
                await conn.close()

        return asyncio.run(plan())

    def measure(
        self, target: str, workload: str, shape: str, layout: Layout, plans: list[FilteredPlan], seconds: float
    ) -> Measurement:
        pause = self.args.pause_ms if shape == "realistic" else 0
        if target == "database":
            constants: dict[str, str] = {}
            if workload == "list-filtered":
                scripts = filtered_scripts(plans, self.anchor, constants)
            else:
                scripts = pgbench_scripts(self.sql, workload, constants)
            variables = {**pgbench_variables(layout, self.args.connections), **constants}
            rate = self.args.connections * 1000 / pause if pause else None
            before = self.task_count()
            measurement = run_pgbench(
                self.pgbench,
                self.database.conninfo,
                scripts,
                variables,
                target=target,
                clients=self.args.connections,
                seconds=seconds,
                threads=os.cpu_count() or 1,
                rate=rate,
            )
            # pgbench cannot see whether a DELETE matched: count what went, from the table itself.
            ops = measurement.operations
            deleted = before + ops.get("create", 0) - self.task_count()
            if (missed := ops.get("delete", 0) - deleted) > 0:
                measurement.notes.append(
                    f"{missed} of {ops['delete']} deletes matched no row (the client had no task left to delete)"
                )
            return measurement
        connections = connections_for(layout, self.token, self.args.connections)
        return self.run_wrk_with_cpu(
            target,
            connections,
            mode=workload,
            seconds=seconds,
            pause_ms=pause,
            filtered=[(plan.filtered.query(self.anchor), len(plan.counted)) for plan in plans],
        )

    def run_wrk_with_cpu(
        self, target: str, connections: list[Connection], *, mode: str, seconds: float, **options: Any
    ) -> Measurement:
        """run_wrk against the target's server, with the CPU per request of it, PostgreSQL and wrk."""
        server = self.servers[target]
        groups = {SERVER: server.process.pid}
        if (postmaster := self.database.postmaster_pid()) is not None:
            groups[DATABASE] = postmaster
        cpu = CpuPerRequest(groups)
        cpu.start()
        measurement = run_wrk(self.wrk, server.url, connections, target=target, mode=mode, seconds=seconds, **options)
        measurement.cpu_us_per_request = cpu.stop(measurement.requests)
        return measurement

    def main_runs(self) -> list[dict[str, Any]]:
        return self.runs(self.args.shapes, self.args.workloads, self.args.targets, self.args.workers)

    def other_workers_runs(self, workers: int) -> list[dict[str, Any]]:
        """Saturation list and mixed again, the service and the bare app restarted with `workers` workers.
        Stops every server: growth starts the service again with --workers."""
        shapes = [shape for shape in self.args.shapes if shape in OTHER_WORKERS_SHAPES]
        workloads = [workload for workload in self.args.workloads if workload in OTHER_WORKERS_WORKLOADS]
        targets = [target for target in self.args.targets if target in OTHER_WORKERS_TARGETS]
        if not (shapes and workloads and targets):
            return []
        print(f"bench: {', '.join(targets)} restarted with {report.workers_label(workers)}", flush=True)
        self.stop_all()
        self.start_servers(targets, workers)
        self.warm_up()
        runs = self.runs(shapes, workloads, targets, workers)
        self.stop_all()
        return runs

    def runs(self, shapes: list[str], workloads: list[str], targets: list[str], workers: int) -> list[dict[str, Any]]:
        """Each workload in each shape, each target on freshly seeded data, the servers serving with `workers`."""
        runs = []
        for shape in shapes:
            for workload in workloads:
                layout = self.main_layout(workload, shape)
                rounds: dict[str, list[Measurement]] = {}
                loads: dict[str, str] = {}
                plans: list[FilteredPlan] = []
                for target, seconds in turns(
                    targets, shape=shape, workload=workload, rounds=self.args.rounds, seconds=self.seconds(workload)
                ):
                    self.seed(layout)
                    plans = self.filtered_plans(layout) if workload == "list-filtered" else []
                    loads.setdefault(target, load_average())
                    self.other_cpu.start()
                    measurement = self.measure(target, workload, shape, layout, plans, seconds)
                    measurement.other_cpu = self.other_cpu.stop()
                    rounds.setdefault(target, []).append(measurement)
                measurements = {target: combined(runs) for target, runs in rounds.items()}
                run = {
                    "workers": workers,
                    "shape": shape,
                    "workload": workload,
                    "tasks": layout.total_tasks,
                    "filtered": [
                        {
                            "name": p.filtered.name,
                            "query": p.filtered.query(self.anchor),
                            "matches": p.matches,
                            "pages": len(p.counted),
                            "counted": list(p.counted),
                        }
                        for p in plans
                    ],
                    "load_average_before": loads,
                    "measurements": measurements,
                    "rounds": {target: runs for target, runs in rounds.items() if len(runs) > 1},
                    "ratios": {
                        other: report.ratios(measurements.get("service"), measurements.get(other))
                        for other in ("baseline", "bare", "framework-only", "database")
                        if other in measurements
                    },
                }
                runs.append(run)
                summary = ", ".join(
                    f"{name} {m.rps:,.0f}/s p99 {m.p99_ms:.1f} ms err {m.errors} (others' CPU {m.other_cpu:.0%})"
                    for name, m in measurements.items()
                )
                print(f"{shape:<10} {workload:<13} {report.workers_label(workers)}: {summary}", flush=True)
        return runs

    def cursor_at(self, layout: Layout, limit: int, position: int) -> str:
        """The heavy user's `next_cursor` from the page ending just before `position` (default order)."""
        uid = layout.heavy_uid
        response = httpx.get(
            f"{self.servers['service'].url}/api/{uid}/tasks",
            params={"limit": limit, "offset": position - limit},
            headers={"Authorization": f"Bearer {self.token(uid)}"},
            timeout=60,
        )
        response.raise_for_status()
        cursor: str = response.json()["next_cursor"]
        return cursor

    def growth_runs(self) -> list[dict[str, Any]]:
        entries = []
        clients = self.args.growth_connections
        pause = self.args.pause_ms
        for scenario in GROWTH:
            layout, heavy, limit, offset = scenario.layout, scenario.heavy, scenario.limit, scenario.offset
            if layout != self.current:
                self.seed(layout)
            measurements: dict[str, Measurement] = {}
            self.other_cpu.start()
            list_query = f"?limit={limit}&offset={offset}"
            if scenario.cursor_at is not None and "service" in self.servers:
                list_query = f"?limit={limit}&cursor={self.cursor_at(layout, limit, scenario.cursor_at)}"
            if "service" in self.servers:
                connections = connections_for(layout, self.token, clients, heavy=heavy)
                measurements["service"] = self.run_wrk_with_cpu(
                    "service",
                    connections,
                    mode="list",
                    seconds=self.args.growth_duration,
                    pause_ms=pause,
                    list_query=list_query,
                )
            if "database" in self.args.targets and scenario.cursor_at is None:
                constants: dict[str, str] = {}
                scripts = growth_script(constants)
                variables = {
                    **pgbench_variables(layout, clients, heavy=heavy, limit=limit, offset=offset),
                    **constants,
                }
                measurements["database"] = run_pgbench(
                    self.pgbench,
                    self.database.conninfo,
                    scripts,
                    variables,
                    target="database",
                    clients=clients,
                    seconds=self.args.growth_duration,
                    threads=os.cpu_count() or 1,
                    # The rate the service sustained, so both see the same offered load.
                    rate=measurements["service"].rps if "service" in measurements else clients * 1000 / pause,
                )
            other_cpu = self.other_cpu.stop()
            for measurement in measurements.values():
                measurement.other_cpu = other_cpu
            rows = layout.total_tasks
            entries.append({"key": scenario.key, "label": scenario.label, "rows": rows, "measurements": measurements})
            summary = ", ".join(
                f"{name} p50 {m.p50_ms:.2f} p99 {m.p99_ms:.2f} ms err {m.errors}" for name, m in measurements.items()
            )
            print(f"growth     {scenario.label}: {summary}", flush=True)
        return entries


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_signal)
    started, started_at = time.monotonic(), datetime.now(UTC)
    document: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "config": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_start": load_average(),
            "other_test_processes_start": other_test_runs(),
        },
    }
    print(
        f"bench: {args.connections} connections, {args.workers} workers, {args.tasks:,} tasks over {args.users} "
        f"users, {args.duration:g} s per run ({operation_seconds(args):g} s for {', '.join(OPERATION_WORKLOADS)}); "
        f"metrics {'on' if args.metrics else 'off'}, tracing off; load average {load_average()}",
        flush=True,
    )
    wrk, pgbench = find_wrk(), find_pgbench()
    document["tools"] = {"wrk": tool_version([wrk, "--version"]), "pgbench": tool_version([pgbench, "--version"])}
    document["service_commit"] = this_commit()
    baseline = checkout(args.baseline) if args.baseline else None
    if baseline is not None:
        document["baseline"] = {"ref": baseline.ref, "commit": baseline.commit, "alembic_head": baseline.alembic_head}
        print(f"bench: baseline {baseline.label}, served from {baseline.directory}", flush=True)
    database = open_database(wipe_external=args.wipe_database)
    bench: Bench | None = None
    runs: list[dict[str, Any]] = []
    growth: list[dict[str, Any]] = []
    peak_rss: dict[str, dict[str, float]] = {}
    interrupted = True
    try:
        document["database"] = database.settings()
        bench = Bench(args, database, wrk=wrk, pgbench=pgbench, baseline=baseline)
        bench.start_servers(args.targets, args.workers)
        bench.warm_up()
        runs = bench.main_runs()
        for name, server in bench.servers.items():
            peak_rss[name] = server.peak_rss_mib()
        if args.also_workers:
            runs += bench.other_workers_runs(args.also_workers)
        if args.growth:
            for name in ("bare", "framework-only", "baseline"):
                bench.stop_server(name)
            if "service" in args.targets and "service" not in bench.servers:
                bench.start_servers(["service"], args.workers)
                bench.warm_up()
            growth = bench.growth_runs()
            if "service" in bench.servers:
                peak_rss["service_after_growth"] = bench.servers["service"].peak_rss_mib()
        if args.round_trips:  # its own database, service and proxy (bench/round_trips.py), about 25 s
            document["round_trips"] = round_trips.bench_section(database.server)
        interrupted = False
    finally:
        if interrupted:
            print("bench: stopped early; stopping the servers and PostgreSQL it started", file=sys.stderr)
        if bench is not None:
            bench.stop_all()
        database.stop()
    wall = time.monotonic() - started
    document["machine"] |= {"load_average_end": load_average(), "other_test_processes_end": other_test_runs()}
    document |= {"wall_seconds": round(wall, 1), "runs": runs, "peak_rss_mib": peak_rss, "growth": growth}
    checks = report.target_checks(runs, growth, baseline=baseline.label if baseline else None)
    document["targets"] = checks
    document["list_filtered_vs_list"] = report.filtered_vs_plain(runs)

    for workers, runs_with_workers in report.by_workers(runs).items():
        print(f"\nWith {report.workers_label(workers)}:")
        print(report.run_table(runs_with_workers))
    print(
        "\nserver µs / db µs / wrk µs: CPU time per request of the server under test (uvicorn and its workers), "
        "PostgreSQL and wrk, from /proc; ÷bare CPU: the service's server µs divided by the bare app's.\n"
        "÷bare / ÷db: the service's figure divided by the Python stack limit's (bench/bare_app.py) / the "
        "database limit's."
    )
    if "framework-only" in args.targets:
        print(
            "÷fw: the service's figure divided by framework-only's (bench/raw_app.py: the service's SQL, no framework)."
        )
    if baseline is None and args.rounds > 1 and {"service", "bare"} <= set(args.targets):
        print(
            f"In saturation list and mixed the service and the bare app took turns: each of the two the sum of "
            f"{args.rounds} alternating runs sharing the run's duration (bench/turns.py)."
        )
    if baseline is not None:
        print(
            f"÷base: the service's figure divided by the baseline's, {baseline.label}; each of the two the "
            f"sum of {args.rounds} alternating runs (req/s: all requests over all seconds; latencies: the runs' mean)."
        )
    print("Peak RSS per worker (VmHWM, MiB): " + "; ".join(f"{k} {v}" for k, v in peak_rss.items()))
    if growth:
        print(f"\nGrowth: list latency in ms, {args.growth_connections} connections, realistic shape")
        print(report.growth_table(growth))
    print("\nTargets (issues 4, 6, 13 and 22):" if baseline else "\nTargets (issues 4, 6 and 22):")
    for check in checks:
        print(f"  {check}")
    notes = report.notes(runs, growth)
    if notes:
        print("\nNotes:")
        for note in notes:
            print(f"  {note}")
    path = report.write_json(args.results_dir, document)
    print(f"\nWall time {wall:.0f} s. Results: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
