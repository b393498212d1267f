"""How much of the machine other people's processes took during a run: the noise in that run's numbers.

The load average is no use here (the bench's own 100 wrk threads and 100 backends fill it), so this
reads CPU time from /proc for every process that is not the bench's: not a descendant of the bench
process (servers, wrk, pgbench) nor of its PostgreSQL server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


Process = tuple[int, int]  # pid, start time (a pid alone may be reused)


def processes() -> dict[Process, tuple[int, int]]:
    """(pid, start time) -> (parent pid, CPU ticks used by the process itself).

    Reaped children's time (cutime) is left out: when a long test run ends, its parent would gain
    minutes of CPU in an instant. So a process that starts and ends within a run goes uncounted.
    """
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command: state, ppid, ... utime (12th), stime (13th), ... starttime (20th).
        found[(int(entry.name), int(fields[19]))] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


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
    """Share of all cores used by processes outside the bench between start() and stop()."""

    def __init__(self, roots: set[int]) -> None:
        self.roots = roots
        self.before: dict[Process, tuple[int, int]] = {}
        self.started = 0.0

    def start(self) -> None:
        self.before = processes()
        self.started = time.monotonic()

    def stop(self) -> float:
        after = processes()
        elapsed = time.monotonic() - self.started
        parents = {pid: parent for (pid, _), (parent, _) in (self.before | after).items()}
        ours = descendants(self.roots, parents)
        ticks = sum(cpu - self.before.get(key, (0, 0))[1] for key, (_, cpu) in after.items() if key[0] not in ours)
        capacity = elapsed * (os.cpu_count() or 1) * TICKS_PER_SECOND
        return round(max(0.0, ticks / capacity), 3) if capacity else 0.0
