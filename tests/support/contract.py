"""Answers checked against the contract: openapi/tasks.yaml's schemas, validated by jsonschema.

The tests hold answers to more than the schemas say: every object carries only the properties its
schema names (the spec leaves problem documents open to extension members; this service sends
none), and with `exact` it carries all of them, optional ones too. So each schema is checked in a
tightened copy: `unevaluatedProperties: false` on every schema but the branches of an allOf (the
allOf closes over them all), and with `exact` every property required.

It also tells the tests what the spec says about its operations, so that no test restates it: which
operations there are and how each is called (`OPERATIONS`, `operation`, `operations_with`), what each
documents, and the parameters' and schemas' bounds (`parameter_schema`, `property_schema`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from devtools.live_server import ROOT

SPEC: dict[str, Any] = yaml.safe_load((ROOT / "openapi" / "tasks.yaml").read_text())
SPEC_URI = "urn:tasks-api:openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
SPEC_REGISTRY: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(SPEC))


def lookup(node: dict[str, Any]) -> dict[str, Any]:
    """The node itself, or the one its `$ref` names."""
    if "$ref" not in node:
        return node
    found: dict[str, Any] = SPEC_REGISTRY.resolver().lookup(SPEC_URI + node["$ref"]).contents
    return found


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: how it is called, what it takes and what it documents."""

    operation_id: str
    method: str
    template: str
    definition: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]  # the path item's and its own, resolved

    def __str__(self) -> str:
        return self.operation_id  # a test's id, as pytest shows it

    def path(self, user_id: str = "", task_id: int | str = "") -> str:
        """The path with its parameters filled in (those it does not take are left out)."""
        return self.template.format(user_id=user_id, task_id=task_id)

    def send(
        self, http: httpx.Client, user_id: str, headers: dict[str, str] | None = None, task_id: int = 1
    ) -> httpx.Response:
        """The operation sent on `http` for the user (and task), with these headers and its example body."""
        return http.request(self.method, self.path(user_id, task_id), headers=headers, json=self.example_body)

    def takes(self, parameter: str) -> bool:
        return any(candidate["name"] == parameter for candidate in self.parameters)

    @property
    def statuses(self) -> list[int]:
        """The statuses it documents, in order."""
        return sorted(int(status) for status in self.definition["responses"])

    @property
    def success(self) -> int:
        [status] = [status for status in self.statuses if 200 <= status < 300]
        return status

    @property
    def answers_with_content(self) -> bool:
        """Whether its success answer has a body (a change answers with the changed task; a delete with nothing)."""
        return "content" in lookup(self.definition["responses"][str(self.success)])

    @property
    def takes_a_body(self) -> bool:
        return "requestBody" in self.definition

    @property
    def example_body(self) -> Any:
        """The request body's first example (None for an operation that takes no body)."""
        if not self.takes_a_body:
            return None
        [media] = lookup(self.definition["requestBody"])["content"].values()
        if "example" in media:
            return media["example"]
        return next(iter(media["examples"].values()))["value"]


def _operations() -> tuple[Operation, ...]:
    found = []
    for path, item in SPEC["paths"].items():
        for method, definition in item.items():
            if method in HTTP_METHODS:
                parameters = [
                    lookup(parameter) for parameter in [*item.get("parameters", []), *definition.get("parameters", [])]
                ]
                found.append(Operation(definition["operationId"], method.upper(), path, definition, tuple(parameters)))
    return tuple(found)


# Every operation in the spec, in the spec's order.
OPERATIONS = _operations()


def operations() -> dict[str, Operation]:
    """Every operation in the spec by operationId."""
    return {operation.operation_id: operation for operation in OPERATIONS}


def operation(operation_id: str) -> Operation:
    return operations()[operation_id]


def operations_with(parameter: str) -> list[Operation]:
    """The operations that take this parameter (`user_id`: a user's; `task_id`: a task's; `If-Match`: the
    conditional writes)."""
    found = [operation for operation in OPERATIONS if operation.takes(parameter)]
    assert found, f"no operation takes {parameter}"
    return found


def parameter_schema(operation_id: str, name: str) -> dict[str, Any]:
    """The schema of one of an operation's parameters."""
    [parameter] = [parameter for parameter in operation(operation_id).parameters if parameter["name"] == name]
    return lookup(parameter["schema"])


def query_parameters(operation_id: str) -> list[str]:
    """The names of an operation's query parameters, in the spec's order."""
    return [parameter["name"] for parameter in operation(operation_id).parameters if parameter["in"] == "query"]


def property_schema(schema: str, name: str) -> dict[str, Any]:
    """The schema of one property of a named schema (`Task`, `TaskCreate`...)."""
    return lookup(SPEC["components"]["schemas"][schema]["properties"][name])


def documented_response(operation_id: str, status: int) -> dict[str, Any]:
    responses = operation(operation_id).definition["responses"]
    assert str(status) in responses, f"{operation_id} does not document {status}"
    return lookup(responses[str(status)])


def tightened(schema: Any, *, exact: bool, closed: bool = True) -> Any:
    """The schema with its objects closed to their properties (all of them required when exact)."""
    if not isinstance(schema, dict):
        return schema
    tight = dict(schema)
    if tight.get("$ref", "").startswith("#"):
        tight["$ref"] = SPEC_URI + tight["$ref"]
    if "properties" in tight:
        tight["properties"] = {name: tightened(part, exact=exact) for name, part in tight["properties"].items()}
        if exact:
            tight["required"] = sorted({*tight.get("required", []), *tight["properties"]})
    if "items" in tight:
        tight["items"] = tightened(tight["items"], exact=exact)
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in tight:
            tight[keyword] = [tightened(part, exact=exact, closed=False) for part in tight[keyword]]
    if closed:
        tight["unevaluatedProperties"] = False
    return tight


def tightened_registry(*, exact: bool) -> Registry[Any]:
    """The spec's schemas, tightened, under SPEC_URI; each is closed where it is referenced."""
    schemas = {
        name: tightened(schema, exact=exact, closed=False) for name, schema in SPEC["components"]["schemas"].items()
    }
    resource = DRAFT202012.create_resource({"components": {"schemas": schemas}})
    return Registry().with_resource(SPEC_URI, resource)


REGISTRIES = {exact: tightened_registry(exact=exact) for exact in (False, True)}


def schema_violations(value: Any, schema: dict[str, Any], *, exact: bool) -> list[str]:
    """Where and how `value` breaks the tightened schema; empty when it fits."""
    validator = Draft202012Validator(tightened(schema, exact=exact), registry=REGISTRIES[exact])
    return sorted(
        f"/{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(value)
    )


def assert_matches_schema(value: Any, schema: dict[str, Any], where: str, *, exact: bool) -> None:
    """Objects have only the schema's properties (all of them when exact) and their types, recursively."""
    violations = schema_violations(value, schema, exact=exact)
    assert not violations, f"{where}: {violations}"
