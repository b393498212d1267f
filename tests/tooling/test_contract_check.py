"""The breaking-change guard (`make contract-check`) on deliberately changed copies of the spec, compared
as two files and through fixture git histories (a branch off main, main after a release tag)."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import contract_check
from devtools.live_server import ROOT
from tests.support.node import npm_ci

SPEC = ROOT / "openapi" / "tasks.yaml"
Spec = dict[str, Any]


@pytest.fixture(scope="module", autouse=True)
def oasdiff_installed() -> None:
    npm_ci("tools/node")


def spec() -> Spec:
    loaded: Spec = yaml.safe_load(SPEC.read_text())
    return copy.deepcopy(loaded)


def list_parameter(document: Spec, name: str) -> Spec:
    parameters: list[Spec] = document["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
    return next(parameter for parameter in parameters if parameter.get("name") == name)


def remove_operation(document: Spec) -> None:
    del document["paths"]["/api/{user_id}/tasks/{task_id}/complete"]["patch"]


def remove_response_field(document: Spec) -> None:
    task = document["components"]["schemas"]["Task"]
    del task["properties"]["updated_at"]
    task["required"].remove("updated_at")


def add_required_request_field(document: Spec) -> None:
    create = document["components"]["schemas"]["TaskCreate"]
    create["properties"]["estimate"] = {"type": "integer", "description": "Minutes it will take."}
    create["required"].append("estimate")


def add_required_parameter(document: Spec) -> None:
    parameters = document["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
    parameters.append(
        {
            "name": "assignee",
            "in": "query",
            "required": True,
            "description": "Assigned to.",
            "schema": {"type": "string"},
        }
    )


def narrow_enum(document: Spec) -> None:
    list_parameter(document, "sort")["schema"]["enum"].remove("title")


def narrow_type(document: Spec) -> None:
    document["components"]["schemas"]["TaskCreate"]["properties"]["description"] = {
        "type": "string",
        "description": "No longer nullable.",
    }


def remove_success_status(document: Spec) -> None:
    responses = document["paths"]["/api/{user_id}/tasks"]["post"]["responses"]
    responses["200"] = responses.pop("201")


def add_optional_things(document: Spec) -> None:
    """Additions a client generated from the base keeps working with."""
    parameters = document["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
    parameters.append({"name": "assignee", "in": "query", "description": "Assigned to.", "schema": {"type": "string"}})
    list_parameter(document, "sort")["schema"]["enum"].append("estimate")
    document["components"]["schemas"]["TaskCreate"]["properties"]["estimate"] = {
        "type": "integer",
        "description": "Minutes it will take.",
    }


def check(tmp_path: Path, change: Callable[[Spec], None], version: str | None = None) -> tuple[int, str]:
    document = spec()
    change(document)
    if version:
        document["info"]["version"] = version
    revision = tmp_path / "revision.yaml"
    revision.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return contract_check.main(["--base", str(SPEC), "--revision", str(revision)]), str(revision)


BREAKING = {
    "removed operation": (remove_operation, "api-removed-without-deprecation"),
    "removed response field": (remove_response_field, "response-required-property-removed"),
    "new required request field": (add_required_request_field, "new-required-request-property"),
    "new required parameter": (add_required_parameter, "new-required-request-parameter"),
    "narrowed enum": (narrow_enum, "request-parameter-enum-value-removed"),
    "narrowed type": (narrow_type, "request-property-became-not-nullable"),
    "removed success status": (remove_success_status, "response-success-status-removed"),
}


@pytest.mark.parametrize("name", BREAKING)
def test_a_breaking_change_fails_without_a_major_bump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    change, rule = BREAKING[name]
    status, _ = check(tmp_path, change)
    output = capsys.readouterr().out
    assert status == 1, output
    assert rule in output, output


@pytest.mark.parametrize("name", BREAKING)
def test_a_breaking_change_passes_with_a_major_bump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    change, rule = BREAKING[name]
    major = int(spec()["info"]["version"].split(".")[0])
    status, _ = check(tmp_path, change, version=f"{major + 1}.0.0")
    output = capsys.readouterr().out
    assert status == 0, output
    assert "allowed by the major bump" in output, output
    assert rule in output, output


def test_additions_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = check(tmp_path, add_optional_things)
    output = capsys.readouterr().out
    assert status == 0, output
    assert "no breaking change" in output, output


def test_a_version_that_is_not_semver_fails(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not semver"):
        check(tmp_path, lambda document: None, version="1.1")


def test_the_spec_has_a_semver_version_recorded_in_the_changelog() -> None:
    version = spec()["info"]["version"]
    contract_check.version(SPEC.read_text(), str(SPEC))
    assert f"## {version}" in (ROOT / "openapi" / "CHANGELOG.md").read_text()


# --- against git history, as `make contract-check` runs on a branch and on main ---------------------


def git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=Contract Check", "-c", "user.email=contract-check@example.com"]
    subprocess.run(["git", *identity, "-c", "commit.gpgsign=false", *args], cwd=repo, check=True, capture_output=True)


def commit_spec(repo: Path, change: Callable[[Spec], None], message: str) -> None:
    document = spec()
    change(document)
    path = repo / contract_check.SPEC
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    git(repo, "add", contract_check.SPEC)
    git(repo, "commit", "--quiet", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main holds the spec as it is."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    commit_spec(repo, lambda document: None, "the spec")
    return repo


def check_history(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = contract_check.main(["--repo", str(repo)])
    return status, capsys.readouterr().out


def test_a_branch_that_breaks_the_contract_without_a_major_bump_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "--quiet", "-b", "change")
    commit_spec(repo, remove_response_field, "drop Task.updated_at")
    status, output = check_history(repo, capsys)
    assert status == 1, output
    assert "BREAKING changes against the merge base with main" in output, output
    assert "response-required-property-removed" in output, output


def test_a_branch_with_a_compatible_change_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "checkout", "--quiet", "-b", "change")
    commit_spec(repo, add_optional_things, "optional additions")
    status, output = check_history(repo, capsys)
    assert status == 0, output
    assert "no breaking change against the merge base with main" in output, output


def test_on_main_a_breaking_change_since_the_last_release_tag_fails(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # On main the merge base is HEAD itself, so the base is the last release.
    git(repo, "tag", "v" + spec()["info"]["version"])
    commit_spec(repo, remove_operation, "drop completeTask")
    status, output = check_history(repo, capsys)
    assert status == 1, output
    assert f"BREAKING changes against release tag v{spec()['info']['version']}" in output, output
    assert "api-removed-without-deprecation" in output, output
