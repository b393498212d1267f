"""How much of the machine other people's processes took during a run: the noise in that run's numbers.

The load average is no use here (the bench's own 100 wrk threads and 100 backends fill it), so this
reads CPU time from /proc for every process that is not the bench's: not a descendant of the bench
process (servers, wrk, pgbench) nor of its PostgreSQL server. On a virtual machine the host's other
guests take CPU too, which no process here shows: the kernel counts it as steal time (/proc/stat).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import NamedTuple

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


Process = tuple[int, int]  # pid, start time (a pid alone may be reused)


class Usage(NamedTuple):
    parent: int
    ticks: int  # CPU used by the process itself (user + system)
    reaped: int  # CPU of its children that ended and that it waited for (cutime + cstime)


def processes() -> dict[Process, Usage]:
    """Every process now, with its parent and CPU ticks."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command: state, ppid, ... utime, stime, cutime, cstime (12th-15th), ... starttime (20th).
        cpu = [int(value) for value in fields[11:15]]
        found[(int(entry.name), int(fields[19]))] = Usage(int(fields[1]), cpu[0] + cpu[1], cpu[2] + cpu[3])
    return found


def steal_ticks() -> int:
    """CPU time the hypervisor gave other guests while this machine's CPUs wanted to run, all CPUs."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0
    # cpu user nice system idle iowait irq softirq steal ...
    return int(fields[8]) if len(fields) > 8 else 0


def descendants(roots: set[int], parents: dict[int, int]) -> set[int]:
    family = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    return family


class OtherCpu:
    """Share of all cores used by processes outside the bench, or stolen by the host's other guests, between
    start() and stop()."""

    def __init__(self, roots: set[int]) -> None:
        self.roots = roots
        self.before: dict[Process, Usage] = {}
        self.steal_before = 0
        self.started = 0.0

    def start(self) -> None:
        self.before = processes()
        self.steal_before = steal_ticks()
        self.started = time.monotonic()

    def stop(self) -> float:
        after = processes()
        elapsed = time.monotonic() - self.started
        parents = {pid: usage.parent for (pid, _), usage in (self.before | after).items()}
        ours = descendants(self.roots, parents)
        # Reaped children's time is left out: when a long test run ends, its parent would gain minutes of
        # CPU in an instant. So a process that starts and ends within a run goes uncounted.
        ticks = sum(
            usage.ticks - (self.before[key].ticks if key in self.before else 0)
            for key, usage in after.items()
            if key[0] not in ours
        )
        ticks += steal_ticks() - self.steal_before
        capacity = elapsed * (os.cpu_count() or 1) * TICKS_PER_SECOND
        return round(max(0.0, ticks / capacity), 3) if capacity else 0.0
