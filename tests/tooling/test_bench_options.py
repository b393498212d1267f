"""The bench's options (python -m bench --help)."""

from __future__ import annotations

import pytest

from bench.__main__ import parse_args


def test_with_several_workers_the_bench_also_measures_one() -> None:
    assert parse_args(["--workers", "2"]).also_workers == 1


def test_with_one_worker_the_bench_measures_no_other_count_unless_asked() -> None:
    assert parse_args(["--workers", "1"]).also_workers == 0
    assert parse_args(["--workers", "1", "--also-workers", "2"]).also_workers == 2


def test_also_workers_zero_turns_the_other_count_off() -> None:
    assert parse_args(["--workers", "2", "--also-workers", "0"]).also_workers == 0


def test_also_workers_refuses_the_main_count() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--workers", "2", "--also-workers", "2"])
