"""The bench's CPU per request by process group (bench/process_cpu.py), from two /proc snapshots."""

from __future__ import annotations

import pytest

from bench.noise import TICKS_PER_SECOND, Usage
from bench.process_cpu import CpuPerRequest, group_ticks, microseconds_per_request

SERVER, WORKER, OTHER_WORKER, STRANGER = 100, 101, 102, 200


def test_a_process_in_both_snapshots_counts_what_it_used_between_them() -> None:
    before = {(SERVER, 1): Usage(1, ticks=50, reaped=0), (WORKER, 2): Usage(SERVER, ticks=300, reaped=0)}
    after = {(SERVER, 1): Usage(1, ticks=55, reaped=0), (WORKER, 2): Usage(SERVER, ticks=420, reaped=0)}

    assert group_ticks(before, after, SERVER) == 5 + 120


def test_a_process_that_started_during_the_run_counts_all_it_used() -> None:
    before = {(SERVER, 1): Usage(1, ticks=50, reaped=0)}
    after = {(SERVER, 1): Usage(1, ticks=50, reaped=0), (WORKER, 9): Usage(SERVER, ticks=40, reaped=0)}

    assert group_ticks(before, after, SERVER) == 40


def test_a_process_that_ended_during_the_run_counts_what_it_used_after_the_start() -> None:
    """Gone from /proc at the end, its lifetime's 130 ticks show in its parent's reaped time."""
    before = {(SERVER, 1): Usage(1, ticks=50, reaped=0), (WORKER, 2): Usage(SERVER, ticks=100, reaped=0)}
    after = {(SERVER, 1): Usage(1, ticks=50, reaped=130)}

    assert group_ticks(before, after, SERVER) == 30


def test_a_process_that_started_and_ended_during_the_run_counts_through_its_parent() -> None:
    before = {(SERVER, 1): Usage(1, ticks=50, reaped=0)}
    after = {(SERVER, 1): Usage(1, ticks=50, reaped=25)}

    assert group_ticks(before, after, SERVER) == 25


def test_a_reused_pid_is_another_process() -> None:
    before = {(SERVER, 1): Usage(1, ticks=0, reaped=0), (WORKER, 2): Usage(SERVER, ticks=100, reaped=0)}
    after = {(SERVER, 1): Usage(1, ticks=0, reaped=110), (WORKER, 7): Usage(SERVER, ticks=15, reaped=0)}

    assert group_ticks(before, after, SERVER) == 10 + 15


def test_processes_outside_the_group_do_not_count() -> None:
    before = {(SERVER, 1): Usage(1, ticks=0, reaped=0), (STRANGER, 3): Usage(1, ticks=0, reaped=0)}
    after = {(SERVER, 1): Usage(1, ticks=7, reaped=0), (STRANGER, 3): Usage(1, ticks=900, reaped=0)}

    assert group_ticks(before, after, SERVER) == 7


def test_descendants_of_descendants_belong_to_the_group() -> None:
    before = {(SERVER, 1): Usage(1, 0, 0), (WORKER, 2): Usage(SERVER, 0, 0), (OTHER_WORKER, 3): Usage(WORKER, 0, 0)}
    after = {(SERVER, 1): Usage(1, 1, 0), (WORKER, 2): Usage(SERVER, 2, 0), (OTHER_WORKER, 3): Usage(WORKER, 4, 0)}

    assert group_ticks(before, after, SERVER) == 7


def test_cpu_per_request_is_in_microseconds() -> None:
    assert microseconds_per_request(0.5, 1_000) == 500.0


def test_no_requests_is_no_cpu_per_request() -> None:
    assert microseconds_per_request(0.5, 0) == 0.0


def test_the_recorder_reports_each_group_and_wrk(monkeypatch: pytest.MonkeyPatch) -> None:
    snapshots = iter(
        [
            {(SERVER, 1): Usage(1, ticks=0, reaped=0)},
            {(SERVER, 1): Usage(1, ticks=TICKS_PER_SECOND, reaped=0)},
        ]
    )
    children = iter([10.0, 10.25])
    monkeypatch.setattr("bench.process_cpu.processes", lambda: next(snapshots))
    monkeypatch.setattr("bench.process_cpu.children_seconds", lambda: next(children))
    recorder = CpuPerRequest({"server": SERVER})

    recorder.start()

    assert recorder.stop(requests=2_000) == {"server": 500.0, "wrk": 125.0}
