"""`python -m bench.request_cpu`: two builds of the app, in process, CPU per request each, taking turns."""

from __future__ import annotations

import re
import subprocess
import sys

from devtools.live_server import ROOT

# Each build must answer the operation's own status while it warms up, or the run stops (measure()).
RESULT = re.compile(r"^(\w+) +FastAPI's handler +(\d+) µs +direct calls +(\d+) µs +([+-]\d+) µs \((\d\.\d\d)\)$")


def test_with_handlers_it_prints_each_writes_cpu_through_fastapis_handler_and_through_the_direct_calls() -> None:
    small_run = ["--handlers", "--batch", "10", "--batches", "2", "create", "update"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.request_cpu", *small_run],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [RESULT.match(line) for line in done.stdout.splitlines()]
    assert [line.group(1) for line in lines if line] == ["create", "update"], done.stdout
    for line in lines:
        assert line is not None
        framework, direct, difference = (int(figure) for figure in line.groups()[1:4])
        assert direct > 0
        assert abs(difference - (direct - framework)) <= 1
