"""The npm package `make clients` builds (openapi-typescript types, an openapi-fetch client), installed and used.

A fresh npm project installs the tarball; clients/typescript/scenario, a frontend's code, type-checks against
the installed declarations and runs against the live service, reporting each step as a JSON line.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from devtools.live_server import LiveServer
from tests.support.client_projects import BuiltClients, frontend_with
from tests.support.clients import (
    READ_STEPS,
    SCENARIO_STEPS,
    TYPESCRIPT,
    TYPESCRIPT_BIN,
    run_typescript_scenario,
    scenario_env,
)
from tests.support.contract import OPERATIONS
from tests.support.tokens import shared_secret_token
from tests.support.users import User


@pytest.fixture(scope="module")
def frontend(built_clients: BuiltClients, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return frontend_with(built_clients.npm_package, tmp_path_factory.mktemp("frontend"))


def packed_file(built_clients: BuiltClients, name: str) -> str:
    with tarfile.open(built_clients.npm_package) as tarball:
        member = tarball.extractfile(f"package/{name}")
        assert member is not None, name
        return member.read().decode()


def test_the_package_is_versioned_with_the_contract(built_clients: BuiltClients) -> None:
    version = built_clients.release.version
    assert built_clients.npm_package.name == f"tasks-api-client-{version}.tgz"
    manifest = json.loads(packed_file(built_clients, "package.json"))
    assert (manifest["name"], manifest["version"]) == ("tasks-api-client", version)
    assert "private" not in manifest
    assert "devDependencies" not in manifest


def test_the_package_depends_on_what_the_source_pins_at_run_time(built_clients: BuiltClients, frontend: Path) -> None:
    source = json.loads((TYPESCRIPT / "package.json").read_text())["dependencies"]
    assert json.loads(packed_file(built_clients, "package.json"))["dependencies"] == source
    installed = frontend / "node_modules" / "openapi-fetch" / "package.json"
    assert json.loads(installed.read_text())["version"] == source["openapi-fetch"]


def test_the_package_carries_the_contracts_changelog_entry(built_clients: BuiltClients) -> None:
    changelog = packed_file(built_clients, "CHANGELOG.md")
    release = built_clients.release
    assert changelog.startswith(f"# Changes in {release.version}\n")
    assert f"\n## {release.heading}\n\n{release.changes}\n" in changelog


def test_the_installed_package_has_the_types_generated_from_the_spec(frontend: Path) -> None:
    declarations = (frontend / "node_modules" / "tasks-api-client" / "dist" / "schema.gen.d.ts").read_text()
    for operation in OPERATIONS:
        assert f"{operation.operation_id}: {{" in declarations, operation.operation_id


def test_a_frontends_code_type_checks_against_the_installed_package(frontend: Path) -> None:
    """The scenario, and contract-probes.ts: calls the contract forbids, each an expected type error."""
    result = subprocess.run(
        [str(TYPESCRIPT_BIN / "tsc"), "--project", "tsconfig.json"], cwd=frontend, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_scenario_runs_against_the_live_service(frontend: Path, server: LiveServer, alice: User, bob: User) -> None:
    env = scenario_env(server.url, alice.id, shared_secret_token(alice.id), bob.id)
    steps = run_typescript_scenario(env, project=frontend)
    assert [(step["step"], step["status"]) for step in steps] == SCENARIO_STEPS
    [tags] = [step for step in steps if step["step"] == "tags and search"]
    assert (tags["tags"], tags["pages"]) == (2, 2)  # the tag list read a tag per page, by cursor
    problems = [step for step in steps if step["status"] >= 400]
    assert all(step["request_id"] for step in problems), problems
    assert problems[-2]["errors"][0]["pointer"] == "/title"
    assert problems[-1]["errors"][0]["parameter"] == "limit"


def test_the_read_steps_run_against_the_live_service(frontend: Path, server: LiveServer, alice: User) -> None:
    """scenario/reads.ts, which tests/api/test_mock.py also runs against the mock: the same steps, on real data."""
    alice.create("Renew the passport", due_at="2031-01-01T00:00:00Z", tags=["papers"])
    sooner = alice.create("Buy milk", due_at="2030-01-01T00:00:00Z", tags=["home", "papers"])
    env = scenario_env(server.url, alice.id, shared_secret_token(alice.id), "nobody")
    steps = {step["step"]: step for step in run_typescript_scenario(env, project=frontend, script="scenario/reads.ts")}
    assert [(name, step["status"]) for name, step in steps.items()] == READ_STEPS
    assert (steps["list"]["total"], steps["list"]["first"]) == (2, sooner["id"])
    assert (steps["get"]["id"], steps["get"]["title"]) == (sooner["id"], "Buy milk")
    assert (steps["tags"]["tags"], steps["tags"]["pages"]) == (["home:1", "papers:2"], 1)
