"""The coverage report: coverage.json for tools, coverage.md for people (and GitHub's job summary)."""

from __future__ import annotations

from typing import Any

from devtools.fuzz_coverage.allowlist import AllowList
from devtools.fuzz_coverage.tally import OperationTally, Tally, ValueCounts
from devtools.fuzz_coverage.verdict import MIN_SEQUENCE, Verdict


def _counts(counts: ValueCounts) -> dict[str, int]:
    return {"valid": counts.valid, "invalid": counts.invalid}


def _operation(counts: OperationTally, allowed: AllowList) -> dict[str, Any]:
    operation = counts.operation
    documented = {}
    for status in operation.statuses:
        excuse = allowed.responses.get((operation.operation_id, status))
        documented[status] = {"produced": counts.statuses[status], "allowed": excuse.reason if excuse else None}
    return {
        "method": operation.method,
        "path": operation.path,
        "calls": counts.calls,
        "statuses": {
            "documented": documented,
            "undocumented": {s: n for s, n in sorted(counts.statuses.items()) if s not in operation.statuses},
        },
        "parameters": {label: _counts(values) for label, values in counts.parameters.items()},
        "body": None
        if operation.body_schema is None
        else {
            **_counts(counts.body),
            "properties": {name: _counts(values) for name, values in counts.body_properties.items()},
        },
        "links": {
            f"{link.status} {link.name}": {
                "definition": link.definition,
                "target": link.target,
                "followed": counts.links_followed[(link.status, link.name)],
            }
            for link in operation.links
        },
    }


def as_json(tally: Tally, allowed: AllowList, verdict: Verdict) -> dict[str, Any]:
    return {
        "passed": verdict.passed,
        "failures": verdict.failures(),
        "allowed_but_reached": verdict.allowed_but_reached,
        "event_reports": tally.event_reports,
        "calls": tally.calls,
        "calls_outside_the_contract": tally.outside_the_contract,
        "stateful": {
            "scenarios": tally.sequences.scenarios,
            "longest_scenario_calls": tally.sequences.longest_scenario,
            "min_scenario_calls": MIN_SEQUENCE,
            "longest_link_chain": tally.sequences.longest_chain,
        },
        "operations": {op: _operation(counts, allowed) for op, counts in tally.operations.items()},
    }


def _statuses(operation: dict[str, Any]) -> tuple[str, str]:
    produced, not_produced = [], []
    for status, entry in operation["statuses"]["documented"].items():
        if entry["produced"]:
            produced.append(f"{status} ×{entry['produced']}")
        else:
            not_produced.append(f"{status} (allowed)" if entry["allowed"] else f"**{status}**")
    produced += [f"{status} ×{n} (undocumented)" for status, n in operation["statuses"]["undocumented"].items()]
    return ", ".join(produced) or "none", ", ".join(not_produced) or "none"


def _values(counts: dict[str, int]) -> str:
    return f"{counts['valid']}/{counts['invalid']}"


def as_markdown(report: dict[str, Any]) -> str:
    verdict = "passed" if report["passed"] else "**failed**"
    stateful = report["stateful"]
    lines = [
        "# Contract fuzzing coverage",
        "",
        f"Gate {verdict}: {report['calls']} calls; every documented response produced or allow-listed, "
        f"every link followed, a stateful scenario of at least {stateful['min_scenario_calls']} calls.",
        "",
    ]
    if report["failures"]:
        lines += ["## Failures", "", *[f"- {failure}" for failure in report["failures"]], ""]
    lines += [
        "## Responses and links",
        "",
        "| operation | produced | not produced | links followed |",
        "|---|---|---|---|",
    ]
    for operation_id, operation in report["operations"].items():
        produced, not_produced = _statuses(operation)
        links = ", ".join(f"{name} ×{link['followed']}" for name, link in operation["links"].items()) or "–"
        lines.append(f"| `{operation_id}` | {produced} | {not_produced} | {links} |")
    chain = " → ".join(stateful["longest_link_chain"]) or "none"
    passes, longest = max(1, len(report["event_reports"])), stateful["longest_scenario_calls"]
    lines += [
        "",
        "## Stateful sequences",
        "",
        f"{stateful['scenarios']} scenarios in {passes} pass(es); the longest made {longest} calls. "
        f"Longest chain of followed links ({len(stateful['longest_link_chain'])} calls): {chain}.",
        "",
        "## Values sent (valid/invalid)",
        "",
        "| operation | parameters | body properties |",
        "|---|---|---|",
    ]
    for operation_id, operation in report["operations"].items():
        parameters = ", ".join(f"`{label}` {_values(c)}" for label, c in operation["parameters"].items()) or "–"
        body = operation["body"]
        properties = "–"
        if body is not None:
            entries = [f"`{name}` {_values(c)}" for name, c in body["properties"].items()]
            properties = f"whole body {_values(body)}; " + ", ".join(entries)
        lines.append(f"| `{operation_id}` | {parameters} | {properties} |")
    reasons = {
        (status, entry["allowed"])
        for operation in report["operations"].values()
        for status, entry in operation["statuses"]["documented"].items()
        if entry["allowed"]
    }
    if reasons:
        lines += ["", "## Allow-listed responses", ""]
        lines += [f"- {status}: {reason}" for status, reason in sorted(reasons)]
    if report["allowed_but_reached"]:
        lines += ["", "Allow-listed yet reached this run: " + ", ".join(report["allowed_but_reached"]) + "."]
    return "\n".join(lines) + "\n"
