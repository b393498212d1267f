"""How the bench's load generator results combine (bench/loadgen.py)."""

from __future__ import annotations

from bench.loadgen import Measurement, combined


def measured(requests: int, seconds: float, cpu: dict[str, float]) -> Measurement:
    return Measurement(
        target="service",
        requests=requests,
        seconds=seconds,
        rps=requests / seconds,
        p50_ms=1.0,
        p90_ms=2.0,
        p99_ms=3.0,
        mean_ms=1.5,
        max_ms=9.0,
        errors=0,
        cpu_us_per_request=cpu,
    )


def test_rounds_combine_cpu_per_request_weighted_by_their_requests() -> None:
    rounds = [measured(1_000, 8, {"server": 400.0, "wrk": 50.0}), measured(3_000, 8, {"server": 800.0, "wrk": 70.0})]

    assert combined(rounds).cpu_us_per_request == {"server": 700.0, "wrk": 65.0}


def test_a_group_one_round_did_not_measure_is_combined_over_the_others() -> None:
    rounds = [measured(1_000, 8, {"server": 400.0}), measured(3_000, 8, {"server": 800.0, "db": 100.0})]

    assert combined(rounds).cpu_us_per_request == {"server": 700.0, "db": 100.0}


def test_rounds_combine_throughput_over_all_their_requests_and_seconds() -> None:
    rounds = [measured(1_000, 8, {}), measured(3_000, 8, {})]

    assert combined(rounds).rps == 250.0
    assert combined(rounds).cpu_us_per_request == {}
