"""What a fuzz run covered of the contract, read from Schemathesis's events report, and the gate on it."""

from __future__ import annotations

import json
from pathlib import Path

from devtools.fuzz_coverage import allowlist, contract, events, report, tally
from devtools.fuzz_coverage.verdict import Verdict, judge

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "tasks.yaml"
ALLOW_LIST = ROOT / "fuzz-unreached.toml"
# In a run's report directory: Schemathesis's NDJSON events in (events.ndjson, and events-stateful-N.ndjson
# from each further stateful pass), the coverage report out.
EVENTS_FILE = "events.ndjson"
EVENTS_GLOB = "events*.ndjson"
JSON_FILE = "coverage.json"
MARKDOWN_FILE = "coverage.md"

__all__ = ["EVENTS_FILE", "JSON_FILE", "MARKDOWN_FILE", "Verdict", "write_report"]


def write_report(report_dir: Path, *, spec: Path = SPEC, allow_list: Path = ALLOW_LIST) -> Verdict:
    """Read the run's events in `report_dir`, write its coverage report there, and judge it."""
    operations = contract.load(spec)
    allowed = allowlist.load(allow_list, operations)
    event_reports = sorted(report_dir.glob(EVENTS_GLOB))
    if not event_reports:
        raise FileNotFoundError(f"no Schemathesis events report ({EVENTS_FILE}) in {report_dir}")
    counted = tally.tally(operations, (call for path in event_reports for call in events.read(path)))
    counted.event_reports = [path.name for path in event_reports]
    verdict = judge(counted, allowed)
    document = report.as_json(counted, allowed, verdict)
    (report_dir / JSON_FILE).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (report_dir / MARKDOWN_FILE).write_text(report.as_markdown(document), encoding="utf-8")
    return verdict
