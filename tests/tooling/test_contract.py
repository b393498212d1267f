"""The contract file is valid OpenAPI, and every operation in it has an implementation."""

from __future__ import annotations

import inspect
import re

import yaml
from openapi_spec_validator import validate

import generated.api as generated_api
from devtools.live_server import ROOT
from impl.probes import Probes
from impl.tasks.endpoints import TasksEndpoints

SPEC = yaml.safe_load((ROOT / "openapi" / "tasks.yaml").read_text())
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
IMPLEMENTATIONS = {generated_api.TasksApi: TasksEndpoints, generated_api.OperationsApi: Probes}


def spec_operations() -> list[tuple[str, str, dict[str, object]]]:
    return [
        (path, method, operation)
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def test_the_spec_passes_the_openapi_validator() -> None:
    validate(SPEC)


def test_the_spec_is_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1.")


def test_every_operation_has_id_summary_and_security() -> None:
    for path, method, operation in spec_operations():
        assert operation.get("operationId"), (path, method)
        assert operation.get("summary"), (path, method)
        security = operation.get("security", SPEC["security"])
        if path.startswith("/api/"):
            assert security == [{"bearerAuth": []}], (path, method)
        else:
            assert security == [], (path, method)


def test_every_documented_response_has_an_example() -> None:
    for path, method, operation in spec_operations():
        for status, response in operation["responses"].items():  # type: ignore[attr-defined]
            if "$ref" in response:
                name = response["$ref"].rsplit("/", 1)[-1]
                response = SPEC["components"]["responses"][name]
            for media in response.get("content", {}).values():
                assert media.get("examples") or media.get("example"), (path, method, status)


def test_every_error_response_is_a_problem_document() -> None:
    for path, method, operation in spec_operations():
        for status, response in operation["responses"].items():  # type: ignore[attr-defined]
            if int(status) >= 400:
                name = response["$ref"].rsplit("/", 1)[-1]
                assert list(SPEC["components"]["responses"][name]["content"]) == ["application/problem+json"], (
                    path,
                    method,
                    status,
                )


def test_every_operation_is_implemented() -> None:
    interface_methods = {
        name
        for interface in IMPLEMENTATIONS
        for name, member in vars(interface).items()
        if getattr(member, "__isabstractmethod__", False)
    }
    assert interface_methods == {snake(operation["operationId"]) for _, _, operation in spec_operations()}  # type: ignore[arg-type]
    for interface, implementation in IMPLEMENTATIONS.items():
        assert issubclass(implementation, interface)
        assert not inspect.isabstract(implementation), f"{implementation.__name__} leaves operations unimplemented"
