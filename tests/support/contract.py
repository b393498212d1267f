"""Answers checked against the contract: openapi/tasks.yaml's schemas, validated by jsonschema.

The tests hold answers to more than the schemas say: every object carries only the properties its
schema names (the spec leaves problem documents open to extension members; this service sends
none), and with `exact` it carries all of them, optional ones too. So each schema is checked in a
tightened copy: `unevaluatedProperties: false` on every schema but the branches of an allOf (the
allOf closes over them all), and with `exact` every property required.
"""

from __future__ import annotations

from typing import Any

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


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation in the spec by operationId, as (method, path template, operation)."""
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def documented_response(operation_id: str, status: int) -> dict[str, Any]:
    responses = operations()[operation_id][2]["responses"]
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
