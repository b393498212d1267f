"""Shared-secret mode only: HS256 tokens signed with JWT_SECRET, with and without a configured audience;
guessable secrets and other algorithms refused, and a server with a weak secret refusing to start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devtools import token as devtools_token
from devtools.live_server import LiveServer
from impl.settings import Settings
from tests.support import forge
from tests.support.contract import operation, operations_with
from tests.support.environments import REPORTS, shared_secret_env, without_auth_settings
from tests.support.jwks import Keys
from tests.support.problems import assert_unauthorized
from tests.support.tokens import AUDIENCE, OTHER_AUDIENCES, SHARED_SECRET, bearer, claims_for, shared_secret_token
from tests.support.users import new_user_id

LIST = operation("listTasks")


@pytest.fixture(scope="module")
def unconfigured_audience_http(database_url: str) -> Iterator[httpx.Client]:
    """Shared-secret mode as `make run` starts it by default: no JWT_ISSUER, no JWT_AUDIENCE."""
    env = {**shared_secret_env(database_url), "JWT_ISSUER": "", "JWT_AUDIENCE": ""}
    live = LiveServer(env, log_path=REPORTS / "server-no-audience.log")
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client
    live.stop()


def test_without_a_configured_audience_a_token_without_aud_is_accepted(
    unconfigured_audience_http: httpx.Client, user: str
) -> None:
    token = shared_secret_token(user, iss=None, aud=None)
    assert LIST.send(unconfigured_audience_http, user, bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "aud", [*OTHER_AUDIENCES.values(), AUDIENCE], ids=[*OTHER_AUDIENCES.keys(), "an-audience-never-configured"]
)
def test_without_a_configured_audience_a_token_naming_any_audience_is_401(
    unconfigured_audience_http: httpx.Client, user: str, aud: Any
) -> None:
    # Such a token was minted for some other service (another API, an OAuth client's id_token).
    token = shared_secret_token(user, aud=aud)
    assert_unauthorized(LIST.send(unconfigured_audience_http, user, bearer(token)))


def test_make_token_mints_what_the_default_development_config_accepts(
    unconfigured_audience_http: httpx.Client, monkeypatch: pytest.MonkeyPatch, user: str
) -> None:
    without_auth_settings(monkeypatch).setenv("JWT_SECRET", SHARED_SECRET)
    token = devtools_token.mint(Settings(_env_file=None), user, minutes=5)
    assert LIST.send(unconfigured_audience_http, user, bearer(token)).status_code == 200


@pytest.mark.parametrize("secret", [b"", b"secret", b"changeme", b"your-secret-key"])
def test_a_token_signed_with_a_guessable_secret_is_401(http: httpx.Client, user: str, secret: bytes) -> None:
    token = forge.encode({"alg": "HS256", "typ": "JWT"}, claims_for(user), forge.hs256(secret))
    assert_unauthorized(LIST.send(http, user, bearer(token)))


def test_a_token_signed_as_rs256_is_401_in_shared_secret_mode(http: httpx.Client, keys: Keys, user: str) -> None:
    assert_unauthorized(LIST.send(http, user, bearer(keys.rsa.token(claims_for(user)))))


def test_a_rejected_request_changes_nothing(http: httpx.Client) -> None:
    owner = new_user_id()
    task = http.post(
        operation("createTask").path(owner), json={"title": "Keep me"}, headers=bearer(shared_secret_token(owner))
    )
    assert task.status_code == 201, task.text
    forged = bearer(forge.unsigned({"alg": "none", "typ": "JWT"}, claims_for(owner)))
    for sent in operations_with("user_id"):
        assert_unauthorized(sent.send(http, owner, forged, task.json()["id"]))
    listing = http.get(LIST.path(owner), headers=bearer(shared_secret_token(owner)))
    assert listing.json()["items"] == [task.json()]


@pytest.mark.parametrize("secret", ["changeme", "short-secret", " " * 40], ids=["placeholder", "short", "blank"])
def test_a_server_with_a_weak_secret_does_not_start(database_url: str, secret: str) -> None:
    env = {**shared_secret_env(database_url), "JWT_SECRET": secret}
    with pytest.raises(RuntimeError, match="exited early"):
        LiveServer(env, log_path=REPORTS / "server-weak-secret.log").stop()
