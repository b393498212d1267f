"""What a run covered, per operation: statuses produced, values sent valid and invalid, links followed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from devtools.fuzz_coverage import values
from devtools.fuzz_coverage.contract import Operation
from devtools.fuzz_coverage.events import Call

# Schemathesis's name for a followed link (its transition id).
LINK_ID = re.compile(r"(?P<source>.+) -> \[(?P<status>[^\]]+)\] (?P<name>.+) -> (?P<target>.+)")


@dataclass
class ValueCounts:
    """How many calls sent a value its schema allows, and how many one it does not."""

    valid: int = 0
    invalid: int = 0

    def add(self, valid: bool) -> None:
        if valid:
            self.valid += 1
        else:
            self.invalid += 1


@dataclass
class OperationTally:
    operation: Operation
    calls: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    parameters: dict[str, ValueCounts] = field(default_factory=dict)
    body: ValueCounts = field(default_factory=ValueCounts)
    body_properties: dict[str, ValueCounts] = field(default_factory=dict)
    # (status, link name) -> how many calls followed it from this operation's answers.
    links_followed: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.parameters = {parameter.label: ValueCounts() for parameter in self.operation.parameters}
        self.body_properties = {name: ValueCounts() for name in self.operation.body_properties}

    def count(self, call: Call) -> None:
        self.calls += 1
        if call.status is not None:
            self.statuses[str(call.status)] += 1
        containers = {"path": call.path_parameters, "query": call.query, "header": _lower_keys(call.headers)}
        for parameter in self.operation.parameters:
            container = containers.get(parameter.location, {})
            key = parameter.name.lower() if parameter.location == "header" else parameter.name
            if key in container:
                valid = values.is_valid(container[key], parameter.schema, parameter.location)
                self.parameters[parameter.label].add(valid)
        if self.operation.body_schema is not None:
            self.body.add(values.is_valid(call.body, self.operation.body_schema))
            if isinstance(call.body, Mapping):
                for name, schema in self.operation.body_properties.items():
                    if name in call.body:
                        self.body_properties[name].add(values.is_valid(call.body[name], schema))


@dataclass
class Sequences:
    """The stateful phase's scenarios: how many calls the longest made, and the longest chain of followed links."""

    scenarios: int = 0
    longest_scenario: int = 0
    longest_chain: list[str] = field(default_factory=list)


@dataclass
class Tally:
    operations: dict[str, OperationTally]
    sequences: Sequences
    calls: int = 0
    outside_the_contract: int = 0  # e.g. the methods a path does not have, sent to check 405
    event_reports: list[str] = field(default_factory=list)


def _lower_keys(headers: Mapping[str, object]) -> dict[str, object]:
    return {name.lower(): value for name, value in headers.items()}


def _chain(call: Call, by_id: Mapping[str, Call]) -> list[str]:
    chain = [call.label]
    while call.link_followed and call.parent_id is not None and call.parent_id in by_id:
        call = by_id[call.parent_id]
        chain.append(call.label)
    return chain[::-1]


def _sequences(stateful: Iterable[Call]) -> Sequences:
    scenarios: dict[str, list[Call]] = {}
    for call in stateful:
        scenarios.setdefault(call.scenario, []).append(call)
    result = Sequences(scenarios=len(scenarios))
    for calls in scenarios.values():
        steps = [call for call in calls if not call.made_by_a_check]
        result.longest_scenario = max(result.longest_scenario, len(steps))
        by_id = {call.case_id: call for call in steps}
        for call in steps:
            chain = _chain(call, by_id)
            if len(chain) > len(result.longest_chain):
                result.longest_chain = chain
    return result


def tally(operations: Mapping[str, Operation], calls: Iterable[Call]) -> Tally:
    by_label = {operation.label: OperationTally(operation) for operation in operations.values()}
    result = Tally(operations={}, sequences=Sequences())
    stateful = []
    for call in calls:
        result.calls += 1
        operation = by_label.get(call.label)
        if operation is None:
            result.outside_the_contract += 1
            continue
        operation.count(call)
        if call.phase == "stateful":
            stateful.append(call)
        if call.link is not None and call.link_followed and not call.link_inferred:
            _count_link(call.link, by_label)
    result.operations = {tally.operation.operation_id: tally for tally in by_label.values()}
    result.sequences = _sequences(stateful)
    return result


def _count_link(link: str, by_label: Mapping[str, OperationTally]) -> None:
    match = LINK_ID.fullmatch(link)
    source = by_label.get(match["source"]) if match else None
    if match and source is not None:
        source.links_followed[(match["status"], match["name"])] += 1
