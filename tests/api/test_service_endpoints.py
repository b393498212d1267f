"""Operational endpoints, the served contract, and errors outside the task rules."""

from __future__ import annotations

import httpx
import pytest
import yaml

from devtools.live_server import ROOT
from tests.support.problems import assert_problem
from tests.support.users import User

SPEC_FILE = ROOT / "openapi" / "tasks.yaml"


def test_healthz_is_public_and_ok(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database(http: httpx.Client) -> None:
    response = http.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_the_served_yaml_is_the_hand_written_file(http: httpx.Client) -> None:
    response = http.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.content == SPEC_FILE.read_bytes()


def test_the_served_json_is_the_hand_written_contract(http: httpx.Client) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == yaml.safe_load(SPEC_FILE.read_text())


@pytest.mark.parametrize(
    ("method", "suffix", "allow"),
    [
        ("DELETE", "", "GET, POST"),
        ("PUT", "", "GET, POST"),
        ("POST", "/1", "DELETE, GET, PATCH, PUT"),
        ("GET", "/1/complete", "PATCH"),
        ("DELETE", "/1/complete", "PATCH"),
    ],
)
def test_an_undefined_method_is_405_with_the_specs_allow(alice: User, method: str, suffix: str, allow: str) -> None:
    response = alice.request(method, alice.tasks_path + suffix)
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


def test_an_unknown_path_is_404_problem(http: httpx.Client) -> None:
    response = http.get("/api/nobody/projects")
    assert_problem(response, 404, instance="/api/nobody/projects")
