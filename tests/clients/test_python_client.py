"""The Python client openapi-python-client generates from the spec, into a scratch folder, used for real.

The generator and the generated client's imports live in their own pinned tool environment
(.tools/clientgen, from clientgen/requirements.lock); clients/python/scenario.py runs there against the
live service and reports each step as a JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from devtools.live_server import ROOT, LiveServer
from tests.support.clients import SCENARIO_STEPS
from tests.support.tokens import shared_secret_token
from tests.support.users import User

SCENARIO = ROOT / "clients" / "python" / "scenario.py"


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The scratch folder holding the generated `tasks_api_client` package, and the python that can run it."""
    scratch = tmp_path_factory.mktemp("python-client")
    result = subprocess.run(
        [str(ROOT / "scripts" / "python-client.sh"), str(scratch)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr, result.stderr  # the spec is generator-friendly: nothing skipped
    return scratch, result.stdout.strip().splitlines()[-1]


def test_every_operation_is_generated(generated_client: tuple[Path, str]) -> None:
    package = generated_client[0] / "tasks_api_client"
    modules = {path.stem for path in (package / "api").rglob("*.py")} - {"__init__"}
    assert modules == {
        "list_tasks",
        "list_tags",
        "create_task",
        "get_task",
        "replace_task",
        "update_task",
        "delete_task",
        "toggle_task_completion",
        "get_health",
        "get_readiness",
    }


def test_the_scenario_runs_against_the_live_service(
    generated_client: tuple[Path, str], server: LiveServer, alice: User, bob: User
) -> None:
    scratch, python = generated_client
    env = {
        **os.environ,
        "PYTHONPATH": str(scratch),
        "TASKS_API_URL": server.url,
        "TASKS_API_USER": alice.id,
        "TASKS_API_TOKEN": shared_secret_token(alice.id),
        "TASKS_API_OTHER_USER": bob.id,
    }
    result = subprocess.run([python, str(SCENARIO)], cwd=scratch, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(step["step"], step["status"]) for step in steps] == SCENARIO_STEPS
    [tags] = [step for step in steps if step["step"] == "tags and search"]
    assert (tags["tags"], tags["pages"]) == (2, 2)  # the tag list read a tag per page, by cursor
    problems = [step for step in steps if step["status"] >= 400]
    assert all(step["request_id"] for step in problems), problems
