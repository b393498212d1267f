"""A small contract and hand-made Schemathesis events reports, to feed devtools/fuzz_coverage runs of known content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = """
openapi: 3.1.0
info: {title: t, version: 1.0.0}
paths:
  /api/{user_id}/tasks:
    parameters:
      - {name: user_id, in: path, required: true, schema: {type: string, pattern: "^[a-z]+$"}}
    post:
      operationId: createTask
      parameters:
        - {name: Idempotency-Key, in: header, schema: {type: string, minLength: 1}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [title]
              additionalProperties: false
              properties:
                title: {type: string, minLength: 1}
      responses:
        "201":
          description: created
          links:
            getTask: {$ref: "#/components/links/GetTask"}
        "422": {description: invalid}
        "503": {description: database down}
  /api/{user_id}/tasks/{task_id}:
    parameters:
      - {name: user_id, in: path, required: true, schema: {type: string, pattern: "^[a-z]+$"}}
      - {name: task_id, in: path, required: true, schema: {type: integer, minimum: 1}}
    get:
      operationId: getTask
      parameters:
        - {name: If-Match, in: header, schema: {type: string}}
      responses:
        "200": {description: the task}
        "404": {description: no such task}
components:
  links:
    GetTask:
      operationId: getTask
      parameters:
        user_id: $request.path.user_id
        task_id: $response.body#/id
        header.If-Match: $response.header.ETag
"""

ALLOW_503 = """
[[responses]]
status = "503"
operations = ["createTask"]
reason = "The database must be down."
"""

CREATE = ("POST", "/api/{user_id}/tasks")
GET = ("GET", "/api/{user_id}/tasks/{task_id}")
LINK = "POST /api/{user_id}/tasks -> [201] getTask -> GET /api/{user_id}/tasks/{task_id}"


def call(
    case_id: str,
    endpoint: tuple[str, str],
    status: int,
    *,
    path: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
    body: Any = None,
    parent: str | None = None,
    link: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """One case as Schemathesis records it, with its answer's status; `link` is the transition it followed."""
    method, template = endpoint
    value = {"method": method, "path": template, "id": case_id, "path_parameters": path or {"user_id": "ann"}}
    value |= {"headers": headers or {}, "body": body, "query": {}}
    node = {"value": value, "parent_id": parent, "transition": link, "is_transition_applied": link is not None}
    return case_id, node, {"request": {}, "response": {"status_code": status}}


def followed(parent: str, *, task_id: int, etag: str) -> dict[str, Any]:
    """The transition record of the GetTask link from create `parent`, with the values it extracted."""
    extracted = {
        "path_parameters": {"user_id": {"value": "ann"}, "task_id": {"value": task_id}},
        "headers": {"If-Match": {"value": etag}},
    }
    return {"id": LINK, "parent_id": parent, "is_inferred": False, "parameters": extracted}


def get_by_link(step: str, *, parent: str, if_match: str = '"1"') -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Task 7 fetched by the link from `parent`'s answer, which took `"1"` from its ETag; the If-Match sent may
    be another value (Schemathesis sometimes draws one afresh)."""
    return call(
        step,
        GET,
        200,
        path={"user_id": "ann", "task_id": 7},
        headers={"If-Match": if_match},
        parent=parent,
        link=followed(parent, task_id=7, etag='"1"'),
    )


def scenario(phase: str, *calls: tuple[str, dict[str, Any], dict[str, Any]], scenario_id: str = "s") -> str:
    cases = {case_id: node for case_id, node, _ in calls}
    interactions = {case_id: interaction for case_id, _, interaction in calls}
    recorder = {"label": "x", "cases": cases, "checks": {}, "interactions": interactions}
    event = {"id": scenario_id, "phase": phase, "status": "success", "recorder": recorder}
    return json.dumps({"ScenarioFinished": event})


def complete_run() -> list[str]:
    """Every documented response but 503, and a five-call stateful scenario that follows the link."""
    return [
        scenario("fuzzing", call("a", CREATE, 201, body={"title": "x"}), call("b", CREATE, 422, body={})),
        scenario("fuzzing", call("c", GET, 404, path={"user_id": "ann", "task_id": 9})),
        scenario(
            "stateful",
            call("d", CREATE, 201, body={"title": "y"}),
            get_by_link("e", parent="d"),
            call("f", CREATE, 201, body={"title": "z"}),
            call("g", GET, 200, path={"user_id": "ann", "task_id": 8}),
            call("h", GET, 404, path={"user_id": "ann", "task_id": 10}),
            scenario_id="t",
        ),
    ]


def write_run(directory: Path, lines: list[str], *, allow_list: str = ALLOW_503) -> tuple[Path, Path]:
    """The events report in `directory`, and the spec and allow-list beside it: (spec, allow-list)."""
    (directory / "events.ndjson").write_text("\n".join(lines) + "\n")
    spec, allowed = directory / "spec.yaml", directory / "allow.toml"
    spec.write_text(SPEC)
    allowed.write_text(allow_list)
    return spec, allowed
