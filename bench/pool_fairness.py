"""asyncpg's own pool against impl.db.fair_pool.FairPool in one process: waits under contention, and the cost.

    .venv/bin/python -m bench.pool_fairness                    # 100 clients on a pool of 10, SELECT 1
    .venv/bin/python -m bench.pool_fairness --rounds 6 --operations 20000 --clients 100 --pool 10

Contention: `--clients` tasks each loop acquire, one statement, release, on the embedded PostgreSQL (in
.data/pool-fairness-postgres, started and stopped here) or DATABASE_URL, until a round's `--operations`
are done; the two pools take turns by round (plain, fair, fair, plain, ...) so that drift on a shared
machine weighs on both alike. Printed: p50/p90/p99 of the wait for a connection and of the whole
operation, over all rounds of each pool, and fair ÷ plain. Cost: one client acquiring and releasing with
nobody waiting, process CPU per cycle, median over alternating batches. Decision 0044 has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import uvloop

from devtools import embedded_db
from impl.db.database import create_pool
from impl.db.fair_pool import FairPool
from impl.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".data" / "pool-fairness-postgres"
TIMEOUT = 30.0  # far above any wait here: a round measures waits, it never times out
Acquire = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


def percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[89], cuts[98]


async def contend(acquire: Acquire, sql: str, clients: int, operations: int) -> tuple[list[float], list[float]]:
    """Seconds each operation waited for its connection, and took in all."""
    waits: list[float] = []
    totals: list[float] = []
    remaining = operations

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            async with acquire() as conn:
                got = time.perf_counter()
                await conn.fetchval(sql)
            waits.append(got - started)
            totals.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(clients)))
    return waits, totals


async def cycle_cpu(acquire: Acquire, cycles: int) -> float:
    """Process CPU µs per acquire and release with nobody else waiting."""
    before = time.process_time()
    for _ in range(cycles):
        async with acquire():
            pass
    return (time.process_time() - before) / cycles * 1e6


def ratio_line(name: str, plain: tuple[float, float, float], fair: tuple[float, float, float]) -> str:
    cells = "  ".join(f"{p * 1e3:8.2f} {f * 1e3:8.2f} {f / p:6.2f}" for p, f in zip(plain, fair, strict=True))
    return f"{name:10s} {cells}"


async def measure(url: str, args: argparse.Namespace) -> None:
    settings = Settings(
        database_url=url, jwt_secret=secrets.token_urlsafe(48), db_pool_max_size=args.pool, db_pool_timeout=TIMEOUT
    )
    plain_pool: asyncpg.Pool = await create_pool(settings)
    fair_pool = FairPool(await create_pool(settings), timeout=TIMEOUT)
    builds: dict[str, Acquire] = {
        "plain": lambda: plain_pool.acquire(timeout=TIMEOUT),
        "fair": fair_pool.acquire,
    }
    try:
        for acquire in builds.values():  # open every connection, warm the statement cache
            await contend(acquire, args.sql, args.clients, args.operations // 10)
        waits: dict[str, list[float]] = {name: [] for name in builds}
        totals: dict[str, list[float]] = {name: [] for name in builds}
        seconds_taken = dict.fromkeys(builds, 0.0)
        for round_number in range(args.rounds):
            order = list(builds) if round_number % 2 == 0 else list(reversed(builds))
            for name in order:
                started = time.perf_counter()
                round_waits, round_totals = await contend(builds[name], args.sql, args.clients, args.operations)
                seconds = time.perf_counter() - started
                seconds_taken[name] += seconds
                waits[name] += round_waits
                totals[name] += round_totals
                p50, p90, p99 = percentiles(round_totals)
                print(
                    f"round {round_number + 1} {name:5s} {args.operations / seconds:7.0f} op/s"
                    f"  operation p50/p90/p99 {p50 * 1e3:.2f}/{p90 * 1e3:.2f}/{p99 * 1e3:.2f} ms",
                    file=sys.stderr,
                    flush=True,
                )
        print(f"\n{args.clients} clients, pool of {args.pool}, {args.rounds} rounds of {args.operations} {args.sql!r}")
        header = "  ".join(f"{'plain ' + q:>8s} {'fair ' + q:>8s} {'÷':>6s}" for q in ("p50", "p90", "p99"))
        print(f"{'ms':10s} {header}")
        print(ratio_line("wait", percentiles(waits["plain"]), percentiles(waits["fair"])))
        print(ratio_line("operation", percentiles(totals["plain"]), percentiles(totals["fair"])))
        rates = {name: len(totals[name]) / seconds_taken[name] for name in builds}
        plain_rate, fair_rate = rates["plain"], rates["fair"]
        print(f"op/s       plain {plain_rate:.0f}, fair {fair_rate:.0f}, ÷ {fair_rate / plain_rate:.2f}")

        cpu: dict[str, list[float]] = {name: [] for name in builds}
        for batch in range(args.batches):
            for name in builds if batch % 2 == 0 else reversed(builds):
                cpu[name].append(await cycle_cpu(builds[name], args.cycles))
        plain, fair = statistics.median(cpu["plain"]), statistics.median(cpu["fair"])
        print(
            f"\nacquire + release, nobody waiting, CPU per cycle (median of {args.batches} batches of {args.cycles}):"
            f" plain {plain:.1f} µs, fair {fair:.1f} µs, {fair - plain:+.1f} µs"
        )
    finally:
        await plain_pool.close()
        await fair_pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pool_fairness", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients (default 100)")
    parser.add_argument("--pool", type=int, default=10, help="DB_POOL_MAX_SIZE (default 10)")
    parser.add_argument("--operations", type=int, default=20_000, help="operations per round (default 20000)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per pool, alternating (default 4)")
    parser.add_argument("--sql", default="SELECT 1", help="the statement of each operation (default SELECT 1)")
    parser.add_argument("--batches", type=int, default=20, help="CPU batches per pool (default 20)")
    parser.add_argument("--cycles", type=int, default=5_000, help="acquire+release cycles per batch (default 5000)")
    parser.add_argument("--asyncio", action="store_true", help="asyncio's own loop, not uvloop (the service's)")
    args = parser.parse_args(argv)
    # The embedded server stops when this process exits.
    url = os.environ.get("DATABASE_URL") or embedded_db.database_url(embedded_db.start(DATA_DIR))
    if args.asyncio:
        asyncio.run(measure(url, args))
    else:
        uvloop.run(measure(url, args))


if __name__ == "__main__":
    main()
