"""The reviewed list of documented responses and links a fuzz run is not expected to reach, each with why."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.fuzz_coverage.contract import Operation


@dataclass(frozen=True)
class Excuse:
    reason: str
    tested_by: tuple[str, ...]


@dataclass(frozen=True)
class AllowList:
    # (operationId, status) -> why a run does not produce it
    responses: Mapping[tuple[str, str], Excuse]
    # link definition (its components/links name) -> why a run does not follow it
    links: Mapping[str, Excuse]


class AllowListError(ValueError):
    """The allow-list names something the contract does not have, or gives no reason."""


def _excuse(entry: Mapping[str, Any], where: str) -> Excuse:
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise AllowListError(f"{where}: every entry needs a `reason`")
    return Excuse(reason.strip(), tuple(entry.get("tested_by", ())))


def load(path: Path, operations: Mapping[str, Operation]) -> AllowList:
    """Read the allow-list at `path`, refusing entries for operations, statuses or links the contract lacks."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    responses: dict[tuple[str, str], Excuse] = {}
    for number, entry in enumerate(data.get("responses", []), 1):
        where = f"{path.name}: responses entry {number}"
        excuse = _excuse(entry, where)
        status = str(entry.get("status", ""))
        for operation_id in entry.get("operations", []):
            operation = operations.get(operation_id)
            if operation is None:
                raise AllowListError(f"{where}: no operation {operation_id!r} in the contract")
            if status not in operation.statuses:
                raise AllowListError(f"{where}: {operation_id} documents no {status!r} response")
            responses[(operation_id, status)] = excuse
    definitions = {link.definition for operation in operations.values() for link in operation.links}
    links: dict[str, Excuse] = {}
    for number, entry in enumerate(data.get("links", []), 1):
        where = f"{path.name}: links entry {number}"
        name = entry.get("link")
        if name not in definitions:
            raise AllowListError(f"{where}: no link {name!r} in the contract")
        links[name] = _excuse(entry, where)
    return AllowList(responses, links)
