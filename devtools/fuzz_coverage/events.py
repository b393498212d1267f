"""The calls a fuzz run made, read from Schemathesis's NDJSON events report (`--report ndjson`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request Schemathesis sent, and the status it got (None when no answer came)."""

    scenario: str
    phase: str
    case_id: str
    method: str
    path: str
    status: int | None
    path_parameters: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    parent_id: str | None = None
    # The link this call followed, as Schemathesis names it: "SOURCE -> [STATUS] NAME -> TARGET".
    link: str | None = None
    link_inferred: bool = False
    # Every parameter the link defines was sent with the value the link took from the earlier answer.
    link_followed: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def made_by_a_check(self) -> bool:
        """A check's own follow-up request (such as a request without auth), not a step of the scenario."""
        return self.parent_id is not None and self.link is None


def _call(scenario: str, phase: str, case_id: str, node: Mapping[str, Any], interactions: Mapping[str, Any]) -> Call:
    case = node["value"]
    response = (interactions.get(case_id) or {}).get("response") or {}
    transition = node.get("transition") or {}
    return Call(
        scenario=scenario,
        phase=phase,
        case_id=case_id,
        method=case["method"],
        path=case["path"],
        status=response.get("status_code"),
        path_parameters=case.get("path_parameters") or {},
        query=case.get("query") or {},
        headers=case.get("headers") or {},
        body=case.get("body"),
        parent_id=node.get("parent_id"),
        link=transition.get("id"),
        link_inferred=bool(transition.get("is_inferred")),
        link_followed=bool(transition) and _sent_as_extracted(case, transition),
    )


def _sent_as_extracted(case: Mapping[str, Any], transition: Mapping[str, Any]) -> bool:
    """Whether the case carries each value the link extracted (Schemathesis may draw some afresh instead)."""
    extracted = transition.get("parameters") or {}
    if not extracted:
        return False
    for container, parameters in extracted.items():
        sent = case.get(container) or {}
        if container == "headers":
            sent = {name.lower(): value for name, value in sent.items()}
        for name, parameter in parameters.items():
            value = parameter.get("value")
            if value is None or isinstance(value, dict):  # not extracted, or Schemathesis's "$unresolvable"
                return False
            key = name.lower() if container == "headers" else name
            if key not in sent or str(sent[key]) != str(value):
                return False
    return True


def read(events_path: Path) -> Iterator[Call]:
    """Every call of every finished scenario in the events report, in the order they were recorded."""
    with events_path.open(encoding="utf-8") as events:
        for line in events:
            event = json.loads(line).get("ScenarioFinished")
            recorder = event.get("recorder") if event else None
            if not recorder or "cases" not in recorder:
                continue
            interactions = recorder.get("interactions") or {}
            for case_id, node in recorder["cases"].items():
                yield _call(event["id"], event["phase"], case_id, node, interactions)
