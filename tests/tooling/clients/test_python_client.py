"""The Python wheel `make clients` builds (openapi-python-client), installed into a fresh venv and used.

clients/python/scenario.py runs with the venv's python, nothing else on its path, against the live service
and reports each step as a JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from devtools.live_server import ROOT, LiveServer
from tests.support.client_projects import BuiltClients, venv_with
from tests.support.clients import SCENARIO_STEPS
from tests.support.tokens import shared_secret_token
from tests.support.users import User

SCENARIO = ROOT / "clients" / "python" / "scenario.py"


@pytest.fixture(scope="module")
def python(built_clients: BuiltClients, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a new venv with the wheel installed."""
    return venv_with(built_clients.python_wheel, tmp_path_factory.mktemp("python-client") / "venv")


def wheel_metadata(built_clients: BuiltClients) -> str:
    version = built_clients.release.version
    with zipfile.ZipFile(built_clients.python_wheel) as wheel:
        return wheel.read(f"tasks_api_client-{version}.dist-info/METADATA").decode()


def test_the_wheel_is_versioned_with_the_contract(built_clients: BuiltClients) -> None:
    version = built_clients.release.version
    assert built_clients.python_wheel.name == f"tasks_api_client-{version}-py3-none-any.whl"
    metadata = wheel_metadata(built_clients)
    assert f"\nName: tasks-api-client\nVersion: {version}\n" in metadata


def test_the_wheel_carries_the_contracts_changelog_entry(built_clients: BuiltClients) -> None:
    release = built_clients.release
    description = wheel_metadata(built_clients).split("\n\n", 1)[1]  # the long description, after the headers
    assert f"\n## Changes in {release.version}\n" in description
    assert f"\n### {release.heading}\n\n{release.changes}\n" in description


def test_every_operation_is_installed(python: Path) -> None:
    listing = "import pkgutil, tasks_api_client.api.tasks as t, tasks_api_client.api.operations as o;"
    listing += "print(*[m.name for p in (t, o) for m in pkgutil.iter_modules(p.__path__)])"
    result = subprocess.run([str(python), "-c", listing], capture_output=True, text=True, check=True)
    assert set(result.stdout.split()) == {
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
    python: Path, server: LiveServer, alice: User, bob: User, tmp_path: Path
) -> None:
    env = {
        **{name: value for name, value in os.environ.items() if name != "PYTHONPATH"},
        "TASKS_API_URL": server.url,
        "TASKS_API_USER": alice.id,
        "TASKS_API_TOKEN": shared_secret_token(alice.id),
        "TASKS_API_OTHER_USER": bob.id,
    }
    result = subprocess.run([str(python), str(SCENARIO)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(step["step"], step["status"]) for step in steps] == SCENARIO_STEPS
    [tags] = [step for step in steps if step["step"] == "tags and search"]
    assert (tags["tags"], tags["pages"]) == (2, 2)  # the tag list read a tag per page, by cursor
    problems = [step for step in steps if step["status"] >= 400]
    assert all(step["request_id"] for step in problems), problems
