"""The service, configured as docs/frontend.md says, accepts the tokens of the real Better Auth.

Better Auth runs as it ships (tests/support/better_auth.py: better-auth pinned in
better-auth/ with its memory store and the JWT plugin, on a loopback port). Users sign up
through its HTTP API and take their token from `/api/auth/token`; the service fetches the keys from
its `/api/auth/jwks`, with JWT_ISSUER and JWT_AUDIENCE both set to its base URL. Each of the plugin's
default (EdDSA, Ed25519), ES256 and RS256 gets one Better Auth and one service per module. The attacks
on JWKS mode are in tests/api/authentication/.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml

from devtools.live_server import ROOT, LiveServer
from impl.auth.tokens import TokenVerifier
from impl.settings import Settings
from tests.support import forge
from tests.support.better_auth import DEFAULT_TOKEN_SECONDS, SERVER, BetterAuth, BetterAuthUser
from tests.support.clients import SCENARIO_STEPS, generate_typescript_types, run_typescript_scenario, scenario_env
from tests.support.environments import REPORTS
from tests.support.problems import assert_problem
from tests.support.tokens import bearer
from tests.support.waiting import wait_until

# What `curl $BETTER_AUTH_URL/api/auth/jwks` shows for each algorithm: the key's kty and crv.
KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "EdDSA": ("OKP", "Ed25519"),
    "ES256": ("EC", "P-256"),
    "RS256": ("RSA", None),
}
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "openapi" / "tasks.yaml").read_text())
USER_ID_SCHEMA: dict[str, Any] = SPEC["components"]["parameters"]["UserId"]["schema"]
# The rotating Better Auth: a key signs for ROTATION_SECONDS, tokens live TOKEN_SECONDS.
ROTATION_SECONDS = 1
TOKEN_SECONDS = 4


@dataclass
class App:
    """A Better Auth app and the service configured for it."""

    alg: str
    better_auth: BetterAuth
    service: LiveServer
    http: httpx.Client

    def stop(self) -> None:
        self.http.close()
        self.service.stop()
        self.better_auth.stop()


def start_app(database_url: str, name: str, alg: str, service_env: dict[str, str] | None = None, **options: Any) -> App:
    log_path = REPORTS / f"better-auth-{name}.log"
    better_auth = BetterAuth(alg=None if alg == "EdDSA" else alg, log_path=log_path, **options)
    env = {"DATABASE_URL": database_url, **better_auth.service_env(), **(service_env or {})}
    try:
        service = LiveServer(env, log_path=REPORTS / f"server-better-auth-{name}.log")
    except BaseException:
        better_auth.stop()
        raise
    return App(alg, better_auth, service, httpx.Client(base_url=service.url, timeout=10))


@pytest.fixture(scope="module", params=list(KEY_TYPES))
def app(request: pytest.FixtureRequest, database_url: str) -> Iterator[App]:
    """Better Auth with the JWT plugin's defaults (EdDSA), or with `jwks.keyPairConfig.alg` ES256 or RS256."""
    started = start_app(database_url, request.param, request.param)
    yield started
    started.stop()


def tasks_path(user: BetterAuthUser) -> str:
    return f"/api/{user.id}/tasks"


def claims(token: str) -> dict[str, Any]:
    return forge.claims_of(token)


# --- what Better Auth hands out --------------------------------------------------------------------


def test_better_auth_signs_with_the_configured_algorithm_and_publishes_its_key(app: App) -> None:
    token = app.better_auth.sign_up().token()
    (key,) = app.better_auth.jwks()["keys"]
    assert forge.header_of(token) == {"alg": app.alg, "kid": key["kid"]}
    assert (key["kty"], key.get("crv")) == KEY_TYPES[app.alg]
    assert "d" not in key


def test_better_auth_sets_sub_iss_aud_and_a_15_minute_expiry(app: App) -> None:
    user = app.better_auth.sign_up()
    before = int(time.time())
    payload = claims(user.token())
    assert payload["sub"] == payload["id"] == user.id
    assert payload["iss"] == payload["aud"] == app.better_auth.base_url
    assert payload["exp"] - payload["iat"] == DEFAULT_TOKEN_SECONDS
    assert before <= payload["iat"] <= int(time.time())


# --- the service accepts it ------------------------------------------------------------------------


def test_a_better_auth_token_is_accepted(app: App) -> None:
    user = app.better_auth.sign_up()
    headers = bearer(user.token())
    created = app.http.post(tasks_path(user), json={"title": "Buy milk"}, headers=headers)
    assert created.status_code == 201, created.text
    listed = app.http.get(tasks_path(user), headers=headers)
    assert listed.status_code == 200, listed.text
    assert [task["id"] for task in listed.json()["items"]] == [created.json()["id"]]


def test_the_typescript_scenario_runs_with_a_better_auth_token(app: App) -> None:
    generate_typescript_types()
    user, other = app.better_auth.sign_up(), app.better_auth.sign_up("Bob Example")
    steps = run_typescript_scenario(scenario_env(app.service.url, user.id, user.token(), other.id))
    assert [(step["step"], step["status"]) for step in steps] == SCENARIO_STEPS


def test_a_better_auth_token_on_another_better_auth_users_path_is_403(app: App) -> None:
    alice, bob = app.better_auth.sign_up(), app.better_auth.sign_up("Bob Example")
    response = app.http.get(tasks_path(bob), headers=bearer(alice.token()))
    assert response.status_code == 403, response.text


def test_a_better_auth_token_with_another_users_sub_is_401(app: App) -> None:
    alice, bob = app.better_auth.sign_up(), app.better_auth.sign_up("Bob Example")
    token = forge.with_claims(alice.token(), sub=bob.id)  # bob's id under alice's signature
    response = app.http.get(tasks_path(bob), headers=bearer(token))
    assert response.status_code == 401, response.text


# --- Better Auth's user ids are path user_ids ------------------------------------------------------


def admitted_as_user_id(user_id: str) -> bool:
    """What the spec (and so the generated route) accepts as `{user_id}`."""
    fits_spec = USER_ID_SCHEMA["minLength"] <= len(user_id) <= USER_ID_SCHEMA["maxLength"]
    return fits_spec and re.search(USER_ID_SCHEMA["pattern"], user_id) is not None


def test_every_id_better_auths_generator_makes_is_a_user_id() -> None:
    # generateId() (@better-auth/core): 32 characters of a-z, A-Z, 0-9 from a CSPRNG; 2,000 of them.
    script = 'import { generateId } from "better-auth"; for (let i = 0; i < 2000; i++) console.log(generateId());'
    ids = subprocess.run(
        ["node", "--input-type=module", "-e", script], cwd=SERVER, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9]{32}", user_id) for user_id in ids)
    assert all(admitted_as_user_id(user_id) for user_id in ids)


@pytest.mark.parametrize("id_strategy", ["uuid", "serial"])
def test_the_ids_of_better_auths_other_id_strategies_are_user_ids_and_their_tokens_verify(
    id_strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # advanced.database.generateId "uuid" (crypto.randomUUID) or "serial" (1, 2, ...); unset, the ids are
    # generateId()'s (above), and the tests on `app` use them as user_id.
    better_auth = BetterAuth(id_strategy=id_strategy, log_path=REPORTS / f"better-auth-ids-{id_strategy}.log")
    try:
        users = [better_auth.sign_up() for _ in range(2)]
        for name, value in better_auth.service_env().items():
            monkeypatch.setenv(name, value)
        verifier = TokenVerifier(Settings(_env_file=None))
        for user in users:
            assert admitted_as_user_id(user.id), user.id
            assert asyncio.run(verifier.subject(user.token())) == user.id
    finally:
        better_auth.stop()


# --- keys rotated as Better Auth rotates them; Better Auth down ------------------------------------


@pytest.fixture(scope="module")
def rotating(database_url: str) -> Iterator[App]:
    """The plugin's defaults but `jwks.rotationInterval` and `jwt.expirationTime`, short enough for a test.

    Better Auth rotates by minting a new key when the newest one is older than the rotation interval (at
    the next token it signs), and keeps the old key in its JWKS for a grace period (30 days by default),
    so tokens signed before keep verifying until they expire. The service refetches its JWKS for the new
    key's unknown kid; JWKS_REFETCH_INTERVAL (10 s between refetches by default; a kid seen sooner is 503
    with Retry-After, tests/unit/auth/test_jwks_keys.py) is shortened so that this test's refetches are allowed.
    """
    started = start_app(
        database_url,
        "rotating",
        "EdDSA",
        service_env={"JWKS_REFETCH_INTERVAL": "0.5"},
        rotation_seconds=ROTATION_SECONDS,
        token_expiry=f"{TOKEN_SECONDS}s",
    )
    yield started
    started.stop()


def kid(token: str) -> str:
    value: str = forge.header_of(token)["kid"]
    return value


def token_from_a_new_key(user: BetterAuthUser, than: str) -> str:
    """A token for `user` signed with a key newer than the kid `than`: Better Auth mints one at the first
    token it signs once its newest key is ROTATION_SECONDS old, so tokens are asked for until one is."""
    tokens: list[str] = []

    def rotated() -> bool:
        tokens.append(user.token())
        return kid(tokens[-1]) != than

    assert wait_until(rotated, seconds=ROTATION_SECONDS + 10, interval=0.05), f"Better Auth never rotated {than}"
    return tokens[-1]


def test_a_rotated_key_signs_new_tokens_and_old_tokens_work_until_they_expire(rotating: App) -> None:
    alice, bob, carol = (rotating.better_auth.sign_up(name) for name in ("Alice", "Bob", "Carol"))
    old = token_from_a_new_key(alice, than=kid(alice.token()))
    old_unseen = carol.token()  # signed with the same, newly minted key
    assert kid(old) == kid(old_unseen)
    assert rotating.http.get(tasks_path(alice), headers=bearer(old)).status_code == 200

    new = token_from_a_new_key(bob, than=kid(old))
    assert {kid(old), kid(new)} <= {key["kid"] for key in rotating.better_auth.jwks()["keys"]}
    assert rotating.http.get(tasks_path(bob), headers=bearer(new)).status_code == 200
    # The old key still verifies: a token it signed, never sent before, and the one already seen.
    assert rotating.http.get(tasks_path(carol), headers=bearer(old_unseen)).status_code == 200
    assert rotating.http.get(tasks_path(alice), headers=bearer(old)).status_code == 200

    # Accepted until it expires, then refused: asked until it is no longer accepted, and never before its exp.
    assert claims(old)["exp"] - claims(old)["iat"] == TOKEN_SECONDS
    answers: list[tuple[httpx.Response, float]] = []

    def no_longer_accepted() -> bool:
        answers.append((rotating.http.get(tasks_path(alice), headers=bearer(old)), time.time()))
        return answers[-1][0].status_code != 200

    assert wait_until(no_longer_accepted, seconds=TOKEN_SECONDS + 10, interval=0.05), "still accepted past its exp"
    response, answered_at = answers[-1]
    assert response.status_code == 401, response.text
    assert answered_at >= claims(old)["exp"], "refused before it expired"


def test_while_better_auth_is_down_cached_keys_verify_and_a_new_key_is_503(rotating: App) -> None:
    alice, bob, carol = (rotating.better_auth.sign_up(name) for name in ("Alice", "Bob", "Carol"))
    seen = token_from_a_new_key(alice, than=kid(alice.token()))
    unseen = bob.token()  # signed with the same, newly minted key
    assert kid(seen) == kid(unseen)
    assert rotating.http.get(tasks_path(alice), headers=bearer(seen)).status_code == 200  # its key is cached now
    signed_with_a_new_key = token_from_a_new_key(carol, than=kid(seen))

    rotating.better_auth.stop()
    try:
        for user, token in ((alice, seen), (bob, unseen)):
            response = rotating.http.get(tasks_path(user), headers=bearer(token))
            assert response.status_code == 200, response.text
        response = rotating.http.get(tasks_path(carol), headers=bearer(signed_with_a_new_key))
        assert_problem(response, 503)
        assert int(response.headers["retry-after"]) >= 1
    finally:
        rotating.better_auth.start()  # an empty store: new users, new keys
