"""The TypeScript client a frontend generates from the spec (openapi-typescript + openapi-fetch), used for real.

clients/typescript/src/scenario.ts type-checks against types generated from openapi/tasks.yaml at test
time, then runs against the live service and reports each step as a JSON line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.live_server import LiveServer
from tests.support.clients import (
    SCENARIO_STEPS,
    TYPESCRIPT,
    TYPESCRIPT_BIN,
    generate_typescript_types,
    run_in_typescript_client,
    run_typescript_scenario,
    scenario_env,
)
from tests.support.tokens import shared_secret_token
from tests.support.users import User


@pytest.fixture(scope="module")
def generated_types() -> Path:
    generate_typescript_types()
    return TYPESCRIPT / "src" / "schema.gen.ts"


def test_the_types_are_generated_from_the_spec(generated_types: Path) -> None:
    source = generated_types.read_text()
    for operation in ("listTasks", "createTask", "getTask", "replaceTask", "updateTask", "deleteTask"):
        assert f"{operation}: {{" in source, operation


def test_the_client_and_scenario_type_check(generated_types: Path) -> None:
    result = run_in_typescript_client([str(TYPESCRIPT_BIN / "tsc"), "--noEmit", "--project", "tsconfig.json"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_scenario_runs_against_the_live_service(
    generated_types: Path, server: LiveServer, alice: User, bob: User
) -> None:
    steps = run_typescript_scenario(scenario_env(server.url, alice.id, shared_secret_token(alice.id), bob.id))
    assert [(step["step"], step["status"]) for step in steps] == SCENARIO_STEPS
    [tags] = [step for step in steps if step["step"] == "tags and search"]
    assert (tags["tags"], tags["pages"]) == (2, 2)  # the tag list read a tag per page, by cursor
    problems = [step for step in steps if step["status"] >= 400]
    assert all(step["request_id"] for step in problems), problems
    assert problems[-2]["errors"][0]["pointer"] == "/title"
    assert problems[-1]["errors"][0]["parameter"] == "limit"
