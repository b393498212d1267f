"""The bench's report (bench/report.py): the table."""

from __future__ import annotations

from typing import Any

from bench.loadgen import Measurement
from bench.report import ratios, run_table


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
