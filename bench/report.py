"""The printed table, the targets of issues 4, 6, 13 and 22, and the JSON file under bench/results/."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.loadgen import Measurement
from bench.process_cpu import DATABASE, LOAD_GENERATOR, SERVER

# Issue 22's targets against the independent bare app at saturation (they replace issue 4's against the
# service's own SQL without the framework): reported, never asserted.
SATURATION_RPS_RATIO = 0.6
SATURATION_RPS_AIM = 0.7
SATURATION_LATENCY_RATIO = 1.5  # for p90 and for p99
SEED_P99_MS = 200.0  # the seed's retrieval target at 100 concurrent users; issue 22 wants p99 well under it
# Issue 4's.
REALISTIC_P99_MS = 25.0
GROWTH_FLATNESS = 2.0
# Issue 6: filtered list requests no worse than 1.5x plain ones (throughput and p99), in the same run.
FILTERED_SLOWDOWN = 1.5
# Issue 13's rule: the new routes, unless they lose more than 15% of the baseline's saturation throughput
# on list and mixed in the same run.
BASELINE_RPS_RATIO = 0.85


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def ratios(service: Measurement | None, limit: Measurement | None) -> dict[str, float | None]:
    if service is None or limit is None:
        return {}
    found = {
        "rps": ratio(service.rps, limit.rps),
        "p50": ratio(service.p50_ms, limit.p50_ms),
        "p90": ratio(service.p90_ms, limit.p90_ms),
        "p99": ratio(service.p99_ms, limit.p99_ms),
    }
    if SERVER in service.cpu_us_per_request and SERVER in limit.cpu_us_per_request:
        found["server_cpu"] = ratio(service.cpu_us_per_request[SERVER], limit.cpu_us_per_request[SERVER])
    return found


def workers_label(workers: int) -> str:
    return f"{workers} worker" if workers == 1 else f"{workers} workers"


def run_name(run: dict[str, Any]) -> str:
    return f"{run['shape']}/{run['workload']} ({workers_label(run['workers'])})"


def by_workers(runs: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """The runs per worker count, in the order the counts were measured."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault(run["workers"], []).append(run)
    return grouped


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def run_table(runs: list[dict[str, Any]]) -> str:
    with_baseline = any("baseline" in run["ratios"] for run in runs)
    with_framework = any("framework-only" in run["ratios"] for run in runs)
    header = (
        f"{'shape':<11}{'workload':<14}{'target':<15}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'server µs':>11}{'db µs':>7}{'wrk µs':>8}"
        f"  {'÷bare req/s':>11}{'÷bare p90':>10}{'÷bare p99':>10}{'÷bare CPU':>10}  {'÷db req/s':>9}{'÷db p99':>8}"
    )
    if with_framework:
        header += f"  {'÷fw req/s':>9}{'÷fw p99':>8}"
    if with_baseline:
        header += f"  {'÷base req/s':>11}{'÷base p99':>10}"
    lines = [header, "-" * len(header)]
    for run in runs:
        first = True
        for target in ("service", "baseline", "bare", "framework-only", "database"):
            m: Measurement | None = run["measurements"].get(target)
            if m is None:
                continue
            label = f"{run['shape']:<11}{run['workload']:<14}" if first else " " * 25
            first = False
            cpu = m.cpu_us_per_request
            line = (
                f"{label}{target:<15}{fmt(m.rps):>9}{fmt(m.p50_ms, 2):>9}{fmt(m.p90_ms, 2):>9}{fmt(m.p99_ms, 2):>9}"
                f"{m.errors:>8}{fmt(cpu.get(SERVER), 0):>11}{fmt(cpu.get(DATABASE), 0):>7}"
                f"{fmt(cpu.get(LOAD_GENERATOR), 0):>8}"
            )
            if target == "service":
                to_bare, to_db = run["ratios"].get("bare", {}), run["ratios"].get("database", {})
                line += (
                    f"  {fmt(to_bare.get('rps'), 3):>11}"
                    f"{fmt(to_bare.get('p90'), 2):>10}{fmt(to_bare.get('p99'), 2):>10}"
                    f"{fmt(to_bare.get('server_cpu'), 2):>10}"
                    f"  {fmt(to_db.get('rps'), 3):>9}{fmt(to_db.get('p99'), 2):>8}"
                )
                if with_framework:
                    to_fw = run["ratios"].get("framework-only", {})
                    line += f"  {fmt(to_fw.get('rps'), 3):>9}{fmt(to_fw.get('p99'), 2):>8}"
                if with_baseline:
                    to_base = run["ratios"].get("baseline", {})
                    line += f"  {fmt(to_base.get('rps'), 3):>11}{fmt(to_base.get('p99'), 2):>10}"
            lines.append(line)
    return "\n".join(lines)


def growth_table(growth: list[dict[str, Any]]) -> str:
    header = (
        f"{'growth scenario':<44}{'rows':>10}{'svc req/s':>10}{'svc p50':>9}{'svc p99':>9}{'err':>5}{'svc µs':>8}"
        f"{'db p50':>9}{'db p99':>9}"
    )
    lines = [header, "-" * len(header)]
    for entry in growth:
        service: Measurement | None = entry["measurements"].get("service")
        database: Measurement | None = entry["measurements"].get("database")
        line = f"{entry['label']:<44}{entry['rows']:>10,}"
        line += (
            f"{fmt(service.rps):>10}{fmt(service.p50_ms, 2):>9}{fmt(service.p99_ms, 2):>9}{service.errors:>5}"
            f"{fmt(service.cpu_us_per_request.get(SERVER), 0):>8}"
            if service
            else " " * 41
        )
        line += f"{fmt(database.p50_ms, 2):>9}{fmt(database.p99_ms, 2):>9}" if database else ""
        lines.append(line)
    return "\n".join(lines)


def filtered_vs_plain(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 6, per worker count and shape: the service's list-filtered figures divided by its list
    figures, same run."""
    service = {(r["workers"], r["shape"], r["workload"]): r["measurements"].get("service") for r in runs}
    found = []
    for workers, shape in dict.fromkeys((r["workers"], r["shape"]) for r in runs):
        plain, filtered = service.get((workers, shape, "list")), service.get((workers, shape, "list-filtered"))
        if plain is None or filtered is None:
            continue
        rps, p99 = ratio(filtered.rps, plain.rps), ratio(filtered.p99_ms, plain.p99_ms)
        met = (rps or 0) >= 1 / FILTERED_SLOWDOWN and (p99 or 99) <= FILTERED_SLOWDOWN
        found.append({"workers": workers, "shape": shape, "rps_ratio": rps, "p99_ratio": p99, "met": met})
    return found


def saturation_check(run: dict[str, Any], to_bare: dict[str, Any]) -> str:
    """Issue 22's check of a saturation run against the bare app: the tails against the bare app's at every
    worker count; the throughput and the p99 under the seed's 200 ms where the service has more than one
    worker, and reported at one (decision 0067)."""
    rps, p90, p99 = to_bare["rps"] or 0, to_bare["p90"] or 99, to_bare["p99"] or 99
    p99_ms = run["measurements"]["service"].p99_ms
    tails = max(p90, p99) <= SATURATION_LATENCY_RATIO
    where = f"issue 22, saturation {run['workload']}, {workers_label(run['workers'])}"
    throughput = f"{to_bare['rps']} of the bare app's req/s (want >= {SATURATION_RPS_RATIO}, aim {SATURATION_RPS_AIM})"
    latency = f"p90 {to_bare['p90']}x and p99 {to_bare['p99']}x its own (want <= {SATURATION_LATENCY_RATIO}x)"
    seed = f"p99 {fmt(p99_ms, 1)} ms (want < {SEED_P99_MS:g} ms, the seed's)"
    if run["workers"] == 1:
        verdict = "met" if tails else "NOT met"
        return f"{verdict}: {where}: {latency}; reported, not held at 1 worker (decision 0067): {throughput}, {seed}"
    ok = rps >= SATURATION_RPS_RATIO and tails and p99_ms < SEED_P99_MS
    verdict = "NOT met" if not ok else "met, and the aim" if rps >= SATURATION_RPS_AIM else "met, not the aim"
    return f"{verdict}: {where}: {throughput}, {latency}, {seed}"


def target_checks(
    runs: list[dict[str, Any]], growth: list[dict[str, Any]], *, baseline: str | None = None
) -> list[str]:
    """Issues 4, 6 and 22's targets (issue 22's for each worker count measured), and issue 13's rule
    against the baseline when there is one, each as 'met' or 'NOT met' with the numbers behind it."""
    checks = []
    errors = {run_name(r): r["measurements"]["service"].errors for r in runs if "service" in r["measurements"]}
    failing = {name: count for name, count in errors.items() if count}
    checks.append(f"{'met' if not failing else 'NOT met'}: zero service errors in every workload {failing or ''}")
    for run in runs:
        to_bare = run["ratios"].get("bare", {})
        if run["shape"] == "saturation" and run["workload"] in ("list", "mixed") and to_bare:
            checks.append(saturation_check(run, to_bare))
    for run in runs:
        to_base = run["ratios"].get("baseline", {})
        if run["shape"] == "saturation" and run["workload"] in ("list", "mixed") and to_base:
            ok = (to_base["rps"] or 0) >= BASELINE_RPS_RATIO
            checks.append(
                f"{'met' if ok else 'NOT met'}: issue 13, saturation {run['workload']}: {to_base['rps']} of the "
                f"baseline's req/s, {baseline} (want >= {BASELINE_RPS_RATIO}); p99 {to_base['p99']}x its p99"
            )
    realistic = {
        r["workload"]: r["measurements"]["service"].p99_ms
        for r in runs
        if r["shape"] == "realistic" and "service" in r["measurements"]
    }
    if realistic:
        slow = {name: p99 for name, p99 in realistic.items() if p99 >= REALISTIC_P99_MS}
        checks.append(
            f"{'met' if not slow else 'NOT met'}: realistic p99 under {REALISTIC_P99_MS:g} ms for every operation "
            f"(p99 ms: {', '.join(f'{k} {v:g}' for k, v in realistic.items())})"
        )
    for found in filtered_vs_plain(runs):
        checks.append(
            f"{'met' if found['met'] else 'NOT met'}: issue 6, {found['shape']} list-filtered vs list (service): "
            f"req/s x{found['rps_ratio']} (want >= {1 / FILTERED_SLOWDOWN:.2f}), "
            f"p99 x{found['p99_ratio']} (want <= {FILTERED_SLOWDOWN:g})"
        )
    by_key = {entry["key"]: entry["measurements"].get("service") for entry in growth}
    small, large = by_key.get("rows_1e3"), by_key.get("rows_1e6")
    if small and large:
        p50, p99 = ratio(large.p50_ms, small.p50_ms), ratio(large.p99_ms, small.p99_ms)
        ok = (p50 or 99) <= GROWTH_FLATNESS and (p99 or 99) <= GROWTH_FLATNESS
        checks.append(
            f"{'met' if ok else 'NOT met'}: list latency flat from 10^3 to 10^6 rows "
            f"(p50 x{p50}, p99 x{p99}; want <= {GROWTH_FLATNESS:g}x)"
        )
    first = by_key.get("one_user_first_page")
    for key, how in (("one_user_deep_cursor", "by cursor"), ("one_user_deep_offset", "by offset, for comparison")):
        deep = by_key.get(key)
        if first and deep:
            p50, p99 = ratio(deep.p50_ms, first.p50_ms), ratio(deep.p99_ms, first.p99_ms)
            ok = (p50 or 99) <= GROWTH_FLATNESS and (p99 or 99) <= GROWTH_FLATNESS
            checks.append(
                f"{'met' if ok else 'NOT met'}: deep page ({how}) no slower than {GROWTH_FLATNESS:g}x the first "
                f"page (p50 x{p50}, p99 x{p99})"
            )
    return checks


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Measurement):
        return value.as_dict()
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_jsonable(item) for item in value]
    return value


def write_json(results_dir: Path, document: dict[str, Any]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results_dir / f"{stamp}.json"
    path.write_text(json.dumps(to_jsonable(document), indent=2) + "\n")
    return path


NOISY_SHARE = 0.1
KEPT_UP = 0.9  # realistic shape: below this share of the offered load, a target was saturated
ROUND_SPREAD = 0.1  # rounds of one target further apart than this are flagged (bench/turns.py)


def notes(runs: list[dict[str, Any]], growth: list[dict[str, Any]]) -> list[str]:
    """What a reader needs to trust the table: other people's CPU use, and anything a run noted."""
    lines = []
    measured = [(f"{run_name(run)} {m.target}", m) for run in runs for m in run["measurements"].values()]
    measured += [(f"growth/{entry['key']} {m.target}", m) for entry in growth for m in entry["measurements"].values()]
    shares = [m.other_cpu for _, m in measured if m.other_cpu is not None]
    if shares:
        worst_name, worst = max(((name, m) for name, m in measured), key=lambda item: item[1].other_cpu or 0)
        mean = sum(shares) / len(shares)
        lines.append(
            f"Other processes on this machine (and the host's other guests, as steal time) used {mean:.0%} of "
            f"its CPUs on average during the runs, "
            f"at most {worst.other_cpu or 0:.0%} ({worst_name})."
        )
        noisy = [name for name, m in measured if (m.other_cpu or 0) >= NOISY_SHARE]
        if noisy:
            lines.append(
                f"{len(noisy)} runs shared the machine with {NOISY_SHARE:.0%} or more of other load: "
                "their absolute numbers are noisy; compare ratios, and run again on a quiet machine."
            )
    for run in runs:
        service, bare = run["measurements"].get("service"), run["measurements"].get("bare")
        if run["shape"] == "realistic" and service and bare and service.rps < KEPT_UP * bare.rps:
            lines.append(
                f"{run_name(run)}: the service served {service.rps:,.0f}/s of the load the bare app "
                f"served at {bare.rps:,.0f}/s: it was saturated, so its latencies include queueing."
            )
    for run in runs:
        spreads = {target: [m.rps for m in rounds] for target, rounds in run.get("rounds", {}).items()}
        if any(max(rps) > (1 + ROUND_SPREAD) * min(rps) for rps in spreads.values()):
            ranges = ", ".join(f"{target} {min(rps):,.0f}-{max(rps):,.0f}" for target, rps in spreads.items())
            lines.append(
                f"{run_name(run)}: the rounds' req/s ranged {ranges}: a difference between the two "
                "within that range is the machine's noise, not the code's."
            )
    for name, m in measured:
        lines += [f"{name}: {note}" for note in m.notes if "left out of the latencies" not in note]
    return lines
