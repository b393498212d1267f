"""The spec's lint ruleset (redocly.yaml, `make lint-spec`) and reference docs (`make docs`).

The spec lints clean, and each rule frontend teams rely on catches a deliberately broken copy.
"""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools.live_server import ROOT
from tests.support.node import npm_ci

SPEC = ROOT / "openapi" / "tasks.yaml"
REDOCLY = ROOT / "tools" / "node" / "node_modules" / ".bin" / "redocly"
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_NOTIFICATIONS": "true", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
Spec = dict[str, Any]


@pytest.fixture(scope="module", autouse=True)
def redocly_installed() -> None:
    npm_ci("tools/node")


def redocly(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REDOCLY), *args], cwd=ROOT, env={**os.environ, **QUIET}, capture_output=True, text=True, check=False
    )


def lint_copy(tmp_path: Path, change: Callable[[Spec], None]) -> str:
    document: Spec = copy.deepcopy(yaml.safe_load(SPEC.read_text()))
    change(document)
    broken = tmp_path / "tasks.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    result = redocly("lint", "--config", "redocly.yaml", str(broken))
    assert result.returncode != 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_the_spec_lints_clean() -> None:
    result = subprocess.run([str(ROOT / "scripts" / "lint-spec.sh")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def without_operation_id(document: Spec) -> None:
    del document["paths"]["/api/{user_id}/tasks"]["get"]["operationId"]


def error_as_plain_json(document: Spec) -> None:
    response = document["components"]["responses"]["TaskNotFound"]
    response["content"] = {"application/json": response["content"]["application/problem+json"]}


def error_without_content(document: Spec) -> None:
    document["paths"]["/api/{user_id}/tasks/{task_id}"]["delete"]["responses"]["409"] = {"description": "Conflict."}


def body_without_example(document: Spec) -> None:
    del document["paths"]["/api/{user_id}/tasks"]["post"]["requestBody"]["content"]["application/json"]["examples"]


def response_without_example(document: Spec) -> None:
    del document["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]["examples"]


def parameter_without_description(document: Spec) -> None:
    del document["paths"]["/api/{user_id}/tasks"]["get"]["parameters"][0]["description"]


def property_without_description(document: Spec) -> None:
    del document["components"]["schemas"]["Task"]["properties"]["completed"]["description"]


def example_that_does_not_match(document: Spec) -> None:
    document["components"]["examples"]["Task"]["value"]["assignee"] = "bob"


BROKEN = {
    "operation without operationId": (without_operation_id, "operation-operationId"),
    "error response as application/json": (error_as_plain_json, "rule/error-content-is-problem-json-only"),
    "error response without content": (error_without_content, "rule/error-responses-are-problem-json"),
    "request body without example": (body_without_example, "rule/media-type-has-example"),
    "response body without example": (response_without_example, "rule/media-type-has-example"),
    "parameter without description": (parameter_without_description, "parameter-description"),
    "schema property without description": (property_without_description, "rule/schema-property-description"),
    "example with an unknown field": (example_that_does_not_match, "no-invalid-media-type-examples"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_the_ruleset_catches(tmp_path: Path, name: str) -> None:
    change, rule = BROKEN[name]
    assert rule in lint_copy(tmp_path, change)


def test_the_reference_docs_are_one_self_contained_html_file(tmp_path: Path) -> None:
    output = tmp_path / "tasks-api.html"
    result = redocly("build-docs", str(SPEC), "--config", "redocly.yaml", "--inlineBundle", "-o", str(output))
    assert result.returncode == 0, result.stdout + result.stderr
    html = output.read_text()
    assert "<script src=" not in html
    assert "Tasks API" in html
    assert "toggleTaskCompletion" in html or "Toggle a task" in html
