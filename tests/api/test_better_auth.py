"""A service configured for a Better Auth app (docs/frontend.md) accepts that app's ES256 tokens.

Better Auth's JWT plugin, with `jwks.keyPairConfig.alg: "ES256"`, is played by tests/support/better_auth.py:
its JWKS is shaped exactly like Better Auth's (`kid`, `kty: EC`, no `alg`) and its tokens carry what Better
Auth puts in them. The attacks on JWKS mode are in test_authentication.py; this is the happy path, end to end,
with the generated TypeScript client too.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import REPORTS
from tests.support.better_auth import BetterAuth, better_auth_user_id
from tests.support.clients import SCENARIO_STEPS, generate_typescript_types, run_typescript_scenario, scenario_env
from tests.support.live_server import LiveServer
from tests.support.tokens import bearer


@pytest.fixture(scope="module")
def better_auth() -> Iterator[BetterAuth]:
    app = BetterAuth()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def service(database_url: str, better_auth: BetterAuth) -> Iterator[LiveServer]:
    live = LiveServer({"DATABASE_URL": database_url, **better_auth.service_env()}, log_path=REPORTS / "server-ba.log")
    yield live
    live.stop()


def test_the_jwks_is_shaped_like_better_auths(better_auth: BetterAuth) -> None:
    document = httpx.get(f"{better_auth.base_url}/api/auth/jwks").json()
    assert list(document) == ["keys"]
    (key,) = document["keys"]
    assert set(key) == {"kid", "kty", "crv", "x", "y"}
    assert (key["kty"], key["crv"]) == ("EC", "P-256")


def test_an_es256_better_auth_token_is_accepted(service: LiveServer, better_auth: BetterAuth) -> None:
    user = better_auth_user_id()
    headers = bearer(better_auth.token(user))
    with httpx.Client(base_url=service.url, timeout=10) as http:
        created = http.post(f"/api/{user}/tasks", json={"title": "Buy milk"}, headers=headers)
        assert created.status_code == 201, created.text
        listed = http.get(f"/api/{user}/tasks", headers=headers)
        assert listed.status_code == 200, listed.text
        assert [task["id"] for task in listed.json()["items"]] == [created.json()["id"]]


def test_a_token_from_another_better_auth_app_is_401(service: LiveServer, better_auth: BetterAuth) -> None:
    user = better_auth_user_id()
    other_app = "http://localhost:4000"
    token = better_auth.token(user, iss=other_app, aud=other_app)
    response = httpx.get(f"{service.url}/api/{user}/tasks", headers=bearer(token))
    assert response.status_code == 401, response.text


def test_an_expired_better_auth_token_is_401(service: LiveServer, better_auth: BetterAuth) -> None:
    user = better_auth_user_id()
    token = better_auth.token(user, iat=1_700_000_000, exp=1_700_000_900)
    response = httpx.get(f"{service.url}/api/{user}/tasks", headers=bearer(token))
    assert response.status_code == 401, response.text


def test_the_typescript_scenario_runs_with_a_better_auth_token(service: LiveServer, better_auth: BetterAuth) -> None:
    generate_typescript_types()
    user = better_auth_user_id()
    steps = run_typescript_scenario(scenario_env(service.url, user, better_auth.token(user), better_auth_user_id()))
    assert [(step["step"], step["status"]) for step in steps] == SCENARIO_STEPS
