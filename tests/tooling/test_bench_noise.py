"""What the bench counts as other people's share of the machine during a run (bench/noise.py)."""

from __future__ import annotations

import os
import time

import pytest

from bench import noise
from bench.noise import OtherCpu, steal_ticks


def test_steal_time_is_read_from_the_kernels_cpu_line() -> None:
    first = steal_ticks()
    assert isinstance(first, int)
    assert 0 <= first <= steal_ticks()


def test_cpu_the_host_gave_other_guests_counts_as_others_share(monkeypatch: pytest.MonkeyPatch) -> None:
    stolen = iter([0, 10**9])  # at start, then at stop: far more than the run's capacity
    monkeypatch.setattr(noise, "steal_ticks", lambda: next(stolen))
    other = OtherCpu({os.getpid()})
    other.start()
    time.sleep(0.05)
    assert other.stop() > 1
