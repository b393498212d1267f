"""CPU time per request of a load run, by the group of processes that spent it: the server under test,
PostgreSQL, and the load generator.

Requests per second swing with whatever else the shared machine runs; the CPU a request costs each
group barely does, and it shows where one server's gap to another is (bench/README.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from bench.noise import TICKS_PER_SECOND, Process, Usage, descendants, processes

Snapshot = Mapping[Process, Usage]
# The groups' names: the bench measures the server under test and PostgreSQL as process trees; wrk is
# the bench's own child that ends during a run, so its CPU is this process's reaped time (os.times()).
SERVER, DATABASE, LOAD_GENERATOR = "server", "db", "wrk"


def group_ticks(before: Snapshot, after: Snapshot, root: int) -> int:
    """CPU ticks `root` and its descendants used between the two snapshots.

    A process in both counts its difference; one that started since `before` counts all it used. One that
    ended since is gone from `after`, but the parent that waited for it gained its lifetime's CPU as reaped
    time: counting reaped time too, as a difference like the rest, counts what it used after `before`.
    """
    parents = {pid: usage.parent for (pid, _), usage in {**before, **after}.items()}
    family = descendants({root}, parents)

    def total(snapshot: Snapshot) -> int:
        return sum(usage.ticks + usage.reaped for (pid, _), usage in snapshot.items() if pid in family)

    return total(after) - total(before)


def microseconds_per_request(seconds: float, requests: int) -> float:
    return round(seconds / requests * 1e6, 1) if requests else 0.0


def children_seconds() -> float:
    """CPU seconds of this process's children that ended and were waited for."""
    times = os.times()
    return times.children_user + times.children_system


class CpuPerRequest:
    """start() before a wrk run, stop(requests) after it: µs of CPU per request for each group (a name and
    the pid at its root) and for wrk."""

    def __init__(self, groups: Mapping[str, int]) -> None:
        self.groups = dict(groups)
        self.before: Snapshot = {}
        self.children_before = 0.0

    def start(self) -> None:
        self.children_before = children_seconds()
        self.before = processes()

    def stop(self, requests: int) -> dict[str, float]:
        after = processes()
        seconds = {name: group_ticks(self.before, after, root) / TICKS_PER_SECOND for name, root in self.groups.items()}
        seconds[LOAD_GENERATOR] = children_seconds() - self.children_before
        return {name: microseconds_per_request(spent, requests) for name, spent in seconds.items()}
