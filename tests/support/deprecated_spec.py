"""A copy of the contract with one operation, one query parameter and one request body property deprecated.

Decision 0059's fixture: nothing real is deprecated, so the generator, the routes, the contract check and
the TypeScript types are tried on this copy. Each deprecated thing carries `x-deprecated-at`, `x-sunset`
and its documentation (`externalDocs.url`), and the responses of the operations that may announce it
document the headers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from devtools.live_server import ROOT

SPEC = ROOT / "openapi" / "tasks.yaml"
Spec = dict[str, Any]
TASKS = "/api/{user_id}/tasks"
COMPLETE = "/api/{user_id}/tasks/{task_id}/complete"


@dataclass(frozen=True)
class Dates:
    deprecated_at: date
    sunset: date
    link: str

    def marks(self) -> dict[str, Any]:
        return {
            "deprecated": True,
            "x-deprecated-at": self.deprecated_at.isoformat(),
            "x-sunset": self.sunset.isoformat(),
        }


OPERATION = Dates(date(2026, 7, 1), date(2027, 6, 30), "https://tasks.example.com/deprecations#toggle")
PARAMETER = Dates(date(2026, 9, 1), date(2027, 3, 1), "https://tasks.example.com/deprecations#overdue")
PROPERTY = Dates(date(2026, 10, 1), date(2027, 1, 31), "https://tasks.example.com/deprecations#priority")

HEADERS = {
    "Deprecation": {
        "description": "RFC 9745: since when what this request used is deprecated (`@` and Unix seconds).",
        "schema": {"type": "string"},
        "example": "@1782864000",
    },
    "Sunset": {
        "description": "RFC 8594: from when what this request used may be gone (an HTTP-date).",
        "schema": {"type": "string"},
        "example": "Wed, 30 Jun 2027 00:00:00 GMT",
    },
    "Link": {
        "description": 'The deprecation\'s documentation, `rel="deprecation"`.',
        "schema": {"type": "string"},
        "example": '<https://tasks.example.com/deprecations#toggle>; rel="deprecation"; type="text/html"',
    },
}


def contract() -> Spec:
    loaded: Spec = yaml.safe_load(SPEC.read_text())
    return copy.deepcopy(loaded)


def parameter(document: Spec, path: str, method: str, name: str) -> Spec:
    parameters: list[Spec] = document["paths"][path][method]["parameters"]
    return next(item for item in parameters if item.get("name") == name)


def document_headers(response: Spec, *, required: bool) -> None:
    for name in HEADERS:
        response.setdefault("headers", {})[name] = {**copy.deepcopy(HEADERS[name]), "required": required}


def deprecate_operation(document: Spec, dates: Dates = OPERATION) -> None:
    """`toggleTaskCompletion`, deprecated: its 200 always carries the headers."""
    operation = document["paths"][COMPLETE]["patch"]
    operation.update({**dates.marks(), "externalDocs": {"url": dates.link}})


def deprecate_parameter(document: Spec, dates: Dates = PARAMETER) -> None:
    """`listTasks`' `overdue` query parameter, deprecated."""
    overdue = parameter(document, TASKS, "get", "overdue")
    overdue.update(dates.marks())
    overdue["schema"] = {**overdue["schema"], "externalDocs": {"url": dates.link}}


def deprecate_property(document: Spec, dates: Dates = PROPERTY) -> None:
    """`TaskCreate.priority` (a copy: the spec shares it with TaskReplace through a YAML anchor), deprecated."""
    properties = document["components"]["schemas"]["TaskCreate"]["properties"]
    properties["priority"] = {**properties["priority"], **dates.marks(), "externalDocs": {"url": dates.link}}


def deprecated_contract() -> Spec:
    """The contract with all three deprecated and the headers documented where they may be sent."""
    document = contract()
    deprecate_operation(document)
    deprecate_parameter(document)
    deprecate_property(document)
    document_headers(document["paths"][COMPLETE]["patch"]["responses"]["200"], required=True)
    document_headers(document["paths"][TASKS]["get"]["responses"]["200"], required=False)
    document_headers(document["paths"][TASKS]["post"]["responses"]["201"], required=False)
    return document


def dump(document: Spec) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
