"""What the contract documents per operation: its responses, parameters, body properties and links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Sent by the auth hook on every case; its validity is the auth tests' business, not a parameter's.
NOT_PARAMETERS = {("header", "authorization")}


@dataclass(frozen=True)
class Parameter:
    location: str  # path, query or header
    name: str
    schema: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.location}.{self.name}"


@dataclass(frozen=True)
class Link:
    """A link on one of an operation's responses; `definition` names the link object it is (its $ref, if any)."""

    status: str
    name: str
    target: str  # the target's operationId
    definition: str


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case, as Schemathesis labels it
    path: str
    statuses: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    body_schema: Mapping[str, Any] | None
    links: tuple[Link, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def body_properties(self) -> dict[str, Mapping[str, Any]]:
        properties = (self.body_schema or {}).get("properties", {})
        return dict(properties) if isinstance(properties, Mapping) else {}


def resolve(node: Any, root: Mapping[str, Any], depth: int = 0) -> Any:
    """`node` with every local `$ref` replaced by what it points at (the spec has no recursive schemas)."""
    if depth > 50:
        raise ValueError("$ref nesting deeper than 50: a recursive schema?")
    if isinstance(node, Mapping):
        if isinstance(ref := node.get("$ref"), str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return resolve(target, root, depth + 1)
        return {key: resolve(value, root, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, root, depth + 1) for item in node]
    return node


def _links(responses: Mapping[str, Any], operation_id: str, shared: Mapping[str, Any]) -> tuple[Link, ...]:
    """The links on `responses`: one under components/links is defined once, wherever responses point at it."""
    links = []
    for status, response in responses.items():
        for name, link in (response.get("links") or {}).items():
            ref = link.get("$ref")
            if isinstance(ref, str):
                definition = ref.rsplit("/", 1)[-1]
                target = shared[definition]["operationId"]
            else:
                definition, target = f"{operation_id}.{status}.{name}", link["operationId"]
            links.append(Link(str(status), name, target, definition))
    return tuple(links)


def load(spec_path: Path) -> dict[str, Operation]:
    """Every operation of the spec at `spec_path`, by operationId."""
    raw = yaml.safe_load(spec_path.read_text())
    shared_links = raw.get("components", {}).get("links", {})
    operations = {}
    for path, item in raw["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            declared = resolve(shared + operation.get("parameters", []), raw)
            parameters = tuple(
                Parameter(p["in"], p["name"], p.get("schema", {}))
                for p in declared
                if (p["in"], p["name"].lower()) not in NOT_PARAMETERS
            )
            body = resolve(operation.get("requestBody"), raw)
            body_schema = body["content"]["application/json"]["schema"] if body else None
            operation_id = operation["operationId"]
            links = _links(operation["responses"], operation_id, shared_links)
            operations[operation_id] = Operation(
                operation_id=operation_id,
                method=method.upper(),
                path=path,
                statuses=tuple(str(status) for status in operation["responses"]),
                parameters=parameters,
                body_schema=body_schema,
                links=links,
            )
    return operations
