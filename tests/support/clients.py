"""Runs the client scenarios (clients/typescript/scenario, clients/python) against a live service."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from devtools.live_server import ROOT
from tests.support.node import npm_ci

TYPESCRIPT = ROOT / "clients" / "typescript"
TYPESCRIPT_BIN = TYPESCRIPT / "node_modules" / ".bin"
SCENARIO_STEPS = [
    ("create", 201),
    ("create retry", 201),
    ("update", 200),
    ("update with a stale ETag", 412),
    ("toggle", 200),
    ("list", 200),
    ("tags and search", 200),
    ("delete", 204),
    ("get deleted task", 404),
    ("list without a token", 401),
    ("list another user's tasks", 403),
    ("create with an empty title", 422),
    ("list with limit 500", 422),
    ("done", 0),
]
# clients/typescript/scenario/reads.ts, on a user with at least one task.
READ_STEPS = [
    ("list", 200),
    ("get", 200),
    ("tags", 200),
    ("list without a token", 401),
    ("list with limit 500", 422),
    ("done", 0),
]


def generate_typescript_types() -> None:
    """Install the pinned packages and generate src/schema.gen.ts from the spec, for the scenario run on the source."""
    npm_ci("clients/typescript")
    command = [str(TYPESCRIPT_BIN / "openapi-typescript"), "../../openapi/tasks.yaml", "--output", "src/schema.gen.ts"]
    result = subprocess.run(command, cwd=TYPESCRIPT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def scenario_env(url: str, user: str, token: str, other_user: str) -> dict[str, str]:
    return {"TASKS_API_URL": url, "TASKS_API_USER": user, "TASKS_API_TOKEN": token, "TASKS_API_OTHER_USER": other_user}


def run_typescript_scenario(
    env: dict[str, str], project: Path = TYPESCRIPT, script: str = "scenario/scenario.ts"
) -> list[dict[str, Any]]:
    """Run the project's scenario (scenario/scenario.ts, or `script`) with tsx; its steps, after asserting it succeeded.

    In clients/typescript the package name means the package's source (its tsconfig's paths); in a
    frontend project, the package installed there.
    """
    command = [str(TYPESCRIPT_BIN / "tsx"), script]
    result = subprocess.run(command, cwd=project, env={**os.environ, **env}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]
