"""The order the bench runs its targets in (bench/turns.py): the two of a verdict take turns."""

from __future__ import annotations

from bench.turns import Turn, turns


def test_without_a_baseline_the_service_and_the_bare_app_take_turns_in_issue_22s_runs() -> None:
    order = turns(["service", "bare", "database"], shape="saturation", workload="list", rounds=2, seconds=7)
    assert order == [Turn("service", 4), Turn("bare", 4), Turn("bare", 3), Turn("service", 3), Turn("database", 7)]


def test_their_rounds_share_the_runs_duration_in_whole_seconds_each_target_getting_all_of_it() -> None:
    order = turns(["service", "bare"], shape="saturation", workload="mixed", rounds=3, seconds=7)
    assert order == [
        Turn("service", 3),
        Turn("bare", 3),
        Turn("bare", 2),
        Turn("service", 2),
        Turn("service", 2),
        Turn("bare", 2),
    ]


def test_a_round_lasts_at_least_a_second() -> None:
    order = turns(["service", "bare"], shape="saturation", workload="list", rounds=3, seconds=2)
    assert {turn.seconds for turn in order} == {1}


def test_other_runs_measure_each_target_once_for_the_whole_duration() -> None:
    for shape, workload in (("realistic", "list"), ("saturation", "get")):
        order = turns(["service", "bare", "database"], shape=shape, workload=workload, rounds=2, seconds=7)
        assert order == [Turn("service", 7), Turn("bare", 7), Turn("database", 7)]


def test_one_round_is_one_run_each() -> None:
    order = turns(["service", "bare"], shape="saturation", workload="list", rounds=1, seconds=7)
    assert order == [Turn("service", 7), Turn("bare", 7)]


def test_with_a_baseline_it_takes_turns_with_the_service_for_the_whole_duration_each() -> None:
    order = turns(["service", "baseline", "bare"], shape="saturation", workload="list", rounds=2, seconds=7)
    assert order == [
        Turn("service", 7),
        Turn("baseline", 7),
        Turn("baseline", 7),
        Turn("service", 7),
        Turn("bare", 7),
    ]
