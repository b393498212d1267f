"""Each worker's heap after start-up: frozen out of every collection, and young objects collected in batches."""

from __future__ import annotations

import subprocess
import sys

from devtools.live_server import ROOT


def test_start_up_freezes_the_heap_and_collects_the_young_every_10000_allocations() -> None:
    script = (
        "import gc; from impl.heap import freeze_startup_heap; default = gc.get_threshold();"
        " freeze_startup_heap(); print(gc.get_freeze_count() > 1000, default, gc.get_threshold())"
    )
    output = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert output.stdout.split() == ["True", "(700,", "10,", "10)", "(10000,", "10,", "10)"]
