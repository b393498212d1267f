"""The bench's report (bench/report.py): issue 22's targets for each worker count, and the table."""

from __future__ import annotations

from typing import Any

from bench.loadgen import Measurement
from bench.report import by_workers, filtered_vs_plain, ratios, run_table, target_checks


def measured(target: str, rps: float, p90: float, p99: float, *, errors: int = 0, server_us: float = 0) -> Measurement:
    return Measurement(
        target=target,
        requests=int(rps * 8),
        seconds=8,
        rps=rps,
        p50_ms=p90 / 2,
        p90_ms=p90,
        p99_ms=p99,
        mean_ms=p90 / 2,
        max_ms=p99 * 2,
        errors=errors,
        cpu_us_per_request={"server": server_us, "db": 90.0, "wrk": 60.0} if server_us else {},
    )


def run(
    workers: int, workload: str, service: Measurement, bare: Measurement, shape: str = "saturation"
) -> dict[str, Any]:
    return {
        "workers": workers,
        "shape": shape,
        "workload": workload,
        "measurements": {"service": service, "bare": bare},
        "ratios": {"bare": ratios(service, bare)},
    }


TWO_WORKERS_MET = run(2, "list", measured("service", 1_400, 50, 90), measured("bare", 2_000, 40, 80))
ONE_WORKER_NOT_MET = run(1, "list", measured("service", 500, 90, 300), measured("bare", 1_000, 40, 80))


def issue_22(checks: list[str]) -> list[str]:
    return [check for check in checks if "issue 22" in check]


def test_issue_22_is_checked_for_each_worker_count_measured() -> None:
    checks = issue_22(target_checks([TWO_WORKERS_MET, ONE_WORKER_NOT_MET], []))

    assert len(checks) == 2
    assert checks[0].startswith("met, and the aim: issue 22, saturation list, 2 workers: 0.7 of the bare app's req/s")
    assert checks[1].startswith("NOT met: issue 22, saturation list, 1 worker: p90 2.25x and p99 3.75x its own")


def test_with_one_worker_the_tails_are_held_and_the_throughput_is_reported() -> None:
    # Decision 0067: one worker's req/s is the inverse of its CPU per request against the bare app's.
    tails_within = run(1, "list", measured("service", 500, 50, 90), measured("bare", 1_000, 40, 80))
    [check] = issue_22(target_checks([tails_within], []))

    assert check == (
        "met: issue 22, saturation list, 1 worker: p90 1.25x and p99 1.125x its own (want <= 1.5x); "
        "reported, not held at 1 worker (decision 0067): 0.5 of the bare app's req/s (want >= 0.6, aim 0.7), "
        "p99 90.0 ms (want < 200 ms, the seed's)"
    )


def test_with_more_workers_the_throughput_is_held_too() -> None:
    slow = run(2, "mixed", measured("service", 1_100, 50, 90), measured("bare", 2_000, 40, 80))
    [check] = issue_22(target_checks([slow], []))

    assert check.startswith("NOT met: issue 22, saturation mixed, 2 workers: 0.55 of the bare app's req/s")


def test_with_more_workers_the_p99_is_held_under_the_seeds_200_ms() -> None:
    # Within 1.5x the bare app's tails and at its throughput, yet one request in a hundred past 200 ms.
    both_slow = run(2, "list", measured("service", 2_000, 150, 210), measured("bare", 2_000, 140, 200))
    [check] = issue_22(target_checks([both_slow], []))

    assert check.startswith("NOT met: issue 22, saturation list, 2 workers: 1.0 of the bare app's req/s")
    assert check.endswith("p99 210.0 ms (want < 200 ms, the seed's)")


def test_errors_are_named_with_their_worker_count() -> None:
    failing = run(1, "mixed", measured("service", 500, 90, 300, errors=3), measured("bare", 1_000, 40, 80))

    first = target_checks([TWO_WORKERS_MET, failing], [])[0]

    assert first == "NOT met: zero service errors in every workload {'saturation/mixed (1 worker)': 3}"


def test_filtered_lists_are_compared_with_plain_lists_of_the_same_worker_count() -> None:
    filtered = run(2, "list-filtered", measured("service", 1_400, 50, 90), measured("bare", 2_000, 40, 80))

    found = filtered_vs_plain([TWO_WORKERS_MET, filtered, ONE_WORKER_NOT_MET])

    assert found == [{"workers": 2, "shape": "saturation", "rps_ratio": 1.0, "p99_ratio": 1.0, "met": True}]


def test_runs_are_grouped_by_worker_count_in_the_order_measured() -> None:
    assert list(by_workers([TWO_WORKERS_MET, ONE_WORKER_NOT_MET])) == [2, 1]


def test_server_cpu_per_request_is_compared_with_the_bare_apps() -> None:
    service, bare = measured("service", 1_000, 50, 90, server_us=900), measured("bare", 2_000, 40, 80, server_us=450)

    assert ratios(service, bare)["server_cpu"] == 2.0


def cell(table: str, row: int, column: str) -> str:
    """The value in a row of the printed table under a column's heading (both right-aligned)."""
    header, lines = table.splitlines()[0], table.splitlines()[2:]
    end = header.index(column) + len(column)
    line = lines[row][:end]
    return line[line.rfind(" ") + 1 :]


def test_the_table_shows_cpu_per_request_by_group_and_the_service_to_bare_ratio() -> None:
    service, bare = measured("service", 1_000, 50, 90, server_us=900), measured("bare", 2_000, 40, 80, server_us=450)

    table = run_table([run(1, "list", service, bare)])

    assert [cell(table, 0, column) for column in ("server µs", "db µs", "wrk µs", "÷bare CPU")] == [
        "900",
        "90",
        "60",
        "2.00",
    ]
    assert [cell(table, 1, column) for column in ("server µs", "db µs", "wrk µs")] == ["450", "90", "60"]
