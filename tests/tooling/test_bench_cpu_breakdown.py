"""`python -m bench.request_cpu --breakdown list` (bench/cpu_breakdown.py): the service's CPU per request in
process, beside the bare app's through the same driver, and where the service's goes."""

from __future__ import annotations

import re
import subprocess
import sys

from devtools.live_server import ROOT

# Both apps must answer 200 after their warm-up, or the run stops (an assert in cpu_breakdown.warmed).
SMALL_RUN = "from bench.cpu_breakdown import main; main('list', batch=20, batches=3)"
SERVICE_LINE = re.compile(r"CPU per list request outside the database: (\d+) µs")
BARE_LINE = re.compile(r"the same driver, batches taking turns: (\d+) µs; the service's ÷ the bare app's: ([\d.]+)")


def test_the_breakdown_gives_the_bare_apps_cpu_per_request_and_the_ratio_beside_the_services() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SMALL_RUN], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    service, bare = SERVICE_LINE.search(done.stdout), BARE_LINE.search(done.stdout)
    assert service, done.stdout
    assert bare, done.stdout
    service_us, bare_us, ratio = int(service[1]), int(bare[1]), float(bare[2])
    assert bare_us > 0
    # The printed figures are rounded to whole µs; the ratio is of the unrounded ones.
    assert abs(ratio - service_us / bare_us) < 0.05
    # The table of where the µs go; which parts a run this small samples is chance.
    assert re.search(r"^part of the request +share +µs$", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^\(\d+ samples\)$", done.stdout, re.MULTILINE), done.stdout
