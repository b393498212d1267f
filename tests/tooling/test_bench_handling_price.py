"""`python -m bench.handling_price`: what FastAPI's request handler would cost a list request, in process."""

from __future__ import annotations

import re
import subprocess
import sys

from devtools.live_server import ROOT

# Both ways must answer 200 after their warm-up, or the run stops (cpu_breakdown.warmed_connection).
SMALL_RUN = "from bench.handling_price import main; main(batch=20, batches=3)"
RESULT = re.compile(
    r"with FastAPI's request handler (\d+) µs, with the direct calls the service makes (\d+) µs; "
    r"the direct calls save (-?\d+) µs"
)


def test_it_prints_the_list_requests_cpu_both_ways_and_the_difference() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SMALL_RUN], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    result = RESULT.search(done.stdout)
    assert result, done.stdout
    framework, direct, difference = (int(figure) for figure in result.groups())
    assert direct > 0
    # The printed figures are rounded to whole µs; the difference is of the unrounded ones.
    assert abs(difference - (framework - direct)) <= 1
