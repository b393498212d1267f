"""What a fuzz run covered of the contract, read from Schemathesis's events report, and the gate on it."""

from __future__ import annotations

import json
from pathlib import Path

from devtools.fuzz_coverage import allowlist, contract, events, report, tally
from devtools.fuzz_coverage.verdict import Verdict, judge

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "tasks.yaml"
ALLOW_LIST = ROOT / "fuzz-unreached.toml"
# In a run's report directory: Schemathesis's NDJSON events in, the coverage report out.
EVENTS_FILE = "events.ndjson"
JSON_FILE = "coverage.json"
MARKDOWN_FILE = "coverage.md"

__all__ = ["EVENTS_FILE", "JSON_FILE", "MARKDOWN_FILE", "Verdict", "write_report"]


def write_report(report_dir: Path, *, spec: Path = SPEC, allow_list: Path = ALLOW_LIST) -> Verdict:
    """Read the run's events in `report_dir`, write its coverage report there, and judge it."""
    operations = contract.load(spec)
    allowed = allowlist.load(allow_list, operations)
    counted = tally.tally(operations, events.read(report_dir / EVENTS_FILE))
    verdict = judge(counted, allowed)
    document = report.as_json(counted, allowed, verdict)
    (report_dir / JSON_FILE).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (report_dir / MARKDOWN_FILE).write_text(report.as_markdown(document), encoding="utf-8")
    return verdict
