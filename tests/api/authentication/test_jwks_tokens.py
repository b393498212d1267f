"""JWKS mode only: the keys come from the identity provider's JWKS endpoint (a local one, that can be
taken down or slowed). Algorithms and kids that do not match a published key are refused; keys are
fetched once, again for an unknown kid, and cached keys keep working while the endpoint is down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support import forge
from tests.support.contract import operation
from tests.support.environments import REPORTS, jwks_env
from tests.support.jwks import JwksServer, Keys, Outage, SigningKey
from tests.support.problems import assert_problem, assert_unauthorized
from tests.support.tokens import bearer, claims_for, shared_secret_token
from tests.support.users import new_user_id

HANG_GUARD_SECONDS = 10.0

LIST = operation("listTasks")


@pytest.mark.parametrize(
    ("published", "encoding"),
    [
        ("rsa", "pem"),
        ("rsa", "pem-without-newline"),
        ("rsa", "der"),
        ("rsa", "jwk-json"),
        ("ec", "pem"),
        ("ec", "der"),
        ("ec", "jwk-json"),
        ("ed", "pem"),
        ("ed", "der"),
        ("ed", "jwk-json"),
        ("ed", "raw"),
    ],
)
def test_hs256_signed_with_a_published_public_key_is_401(
    jwks_http: httpx.Client, keys: Keys, user: str, published: str, encoding: str
) -> None:
    key: SigningKey = getattr(keys, published)
    secret = {
        "pem": lambda: key.public_pem,
        "pem-without-newline": lambda: key.public_pem.rstrip(b"\n"),
        "der": lambda: key.public_der,
        "jwk-json": lambda: json.dumps(key.public_jwk).encode(),
        "raw": lambda: key.public_raw,
    }[encoding]()
    token = forge.encode({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims_for(user), forge.hs256(secret))
    assert_unauthorized(LIST.send(jwks_http, user, bearer(token)))


def test_a_shared_secret_token_is_401_in_jwks_mode(jwks_http: httpx.Client, user: str) -> None:
    assert_unauthorized(LIST.send(jwks_http, user, bearer(shared_secret_token(user))))


@pytest.mark.parametrize("alg", ["ES256", "RS384", "PS256", "ES384", "EdDSA", "HS512"])
def test_an_alg_that_does_not_match_the_published_key_is_401(
    jwks_http: httpx.Client, keys: Keys, user: str, alg: str
) -> None:
    token = keys.rsa.token(claims_for(user), alg=alg)  # RSA key's kid, signed with it, but another alg named
    assert_unauthorized(LIST.send(jwks_http, user, bearer(token)))


@pytest.mark.parametrize("alg", ["RS256", "ES256", "Ed25519", "EdDSA256", "HS256"])
def test_an_alg_other_than_eddsa_under_an_ed25519_kid_is_401(
    jwks_http: httpx.Client, keys: Keys, user: str, alg: str
) -> None:
    token = keys.ed.token(claims_for(user), alg=alg)  # the Ed25519 key's kid and signature, another alg named
    assert_unauthorized(LIST.send(jwks_http, user, bearer(token)))


@pytest.mark.parametrize(("signer", "kid"), [("ec", "rsa"), ("ed", "rsa"), ("ed", "ec"), ("ec", "ed"), ("rsa", "ed")])
def test_a_signature_under_another_kind_of_keys_kid_is_401(
    jwks_http: httpx.Client, keys: Keys, user: str, signer: str, kid: str
) -> None:
    token = getattr(keys, signer).token(claims_for(user), kid=getattr(keys, kid).kid)  # its own alg, another kid
    assert_unauthorized(LIST.send(jwks_http, user, bearer(token)))


@pytest.mark.parametrize(
    "kid",
    ["", "   ", "../../etc/passwd", "/dev/null", "' OR 1=1 --", "x" * 300, 42, ["rsa-main"], None],
    ids=["blank", "spaces", "path-traversal", "dev-null", "sql", "overlong", "number", "list", "absent"],
)
def test_a_kid_trick_is_401(jwks_http: httpx.Client, keys: Keys, user: str, kid: Any) -> None:
    token = keys.rsa.token(claims_for(user), kid=kid)  # validly signed by a published key: only the kid is wrong
    assert_unauthorized(LIST.send(jwks_http, user, bearer(token)))


def test_an_unknown_kid_is_401_after_exactly_one_jwks_refetch(
    jwks_http: httpx.Client, jwks: JwksServer, user: str
) -> None:
    before = jwks.fetches()
    token = SigningKey.ec().token(claims_for(user))
    assert_unauthorized(LIST.send(jwks_http, user, bearer(token)))
    assert jwks.fetches() == before + 1


def test_a_cached_kid_is_not_fetched_again(jwks_http: httpx.Client, jwks: JwksServer, keys: Keys, user: str) -> None:
    before = jwks.fetches()
    for key in (keys.rsa, keys.ec, keys.ed, keys.rsa):
        assert LIST.send(jwks_http, user, bearer(key.token(claims_for(user)))).status_code == 200
    assert jwks.fetches() == before


@pytest.mark.parametrize("make", [SigningKey.rsa, SigningKey.ec, SigningKey.ed25519], ids=["RS256", "ES256", "EdDSA"])
def test_a_rotated_in_key_is_accepted_after_one_refetch(
    jwks_http: httpx.Client, jwks: JwksServer, user: str, make: Callable[[], SigningKey]
) -> None:
    new_key = make()
    jwks.publish(new_key)
    before = jwks.fetches()
    response = LIST.send(jwks_http, user, bearer(new_key.token(claims_for(user))))
    assert response.status_code == 200, response.text
    assert jwks.fetches() == before + 1


OUTAGES: list[Outage] = ["refused", "error", "not_json", "slow", "trickle"]


@pytest.mark.parametrize("outage", OUTAGES)
def test_an_unreachable_jwks_is_503_for_a_kid_not_cached_yet(
    jwks_http: httpx.Client, jwks: JwksServer, user: str, outage: Outage
) -> None:
    new_key = SigningKey.ec()
    jwks.publish(new_key)
    with jwks.outage(outage):
        started = time.monotonic()
        response = LIST.send(jwks_http, user, bearer(new_key.token(claims_for(user))))
        elapsed = time.monotonic() - started
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < HANG_GUARD_SECONDS


@pytest.mark.parametrize("outage", OUTAGES)
def test_cached_keys_keep_working_while_the_jwks_is_unreachable(
    jwks_http: httpx.Client, jwks: JwksServer, keys: Keys, user: str, outage: Outage
) -> None:
    with jwks.outage(outage):
        for key in (keys.rsa, keys.ec, keys.ed):
            started = time.monotonic()
            response = LIST.send(jwks_http, user, bearer(key.token(claims_for(user))))
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < HANG_GUARD_SECONDS


def test_a_new_key_is_accepted_once_the_jwks_recovers(jwks_http: httpx.Client, jwks: JwksServer, user: str) -> None:
    new_key = SigningKey.rsa()
    jwks.publish(new_key)
    token = new_key.token(claims_for(user))
    with jwks.outage("refused"):
        assert_problem(LIST.send(jwks_http, user, bearer(token)), 503)
    response = LIST.send(jwks_http, user, bearer(token))
    assert response.status_code == 200, response.text


def test_concurrent_requests_during_a_slow_jwks_share_fetches_and_are_answered_promptly(
    jwks_server: LiveServer, jwks_http: httpx.Client, jwks: JwksServer
) -> None:
    count = 10
    tokens = [(user, SigningKey.ec().token(claims_for(user))) for user in (new_user_id() for _ in range(count))]
    start = threading.Barrier(count)

    def call(user_and_token: tuple[str, str]) -> httpx.Response:
        user, token = user_and_token
        start.wait()
        return httpx.get(f"{jwks_server.url}{LIST.path(user)}", headers=bearer(token), timeout=30)

    with jwks.outage("slow"):
        before = jwks.fetches()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=count) as pool:
            responses = list(pool.map(call, tokens))
        elapsed = time.monotonic() - started
        fetches = jwks.fetches() - before
    for response in responses:
        assert_problem(response, 503)
    assert elapsed < HANG_GUARD_SECONDS
    # One fetch for those that came first, one for those that queued behind it (at most one more for stragglers).
    assert fetches <= 3, fetches


JWKS_NEEDS_ISSUER_AND_AUDIENCE = "JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE: Better Auth's JWT plugin sets both"


def test_a_jwks_server_without_an_audience_does_not_start_and_says_why(database_url: str, jwks: JwksServer) -> None:
    env = {"DATABASE_URL": database_url, **jwks_env(jwks.url, audience="")}
    with pytest.raises(RuntimeError, match=JWKS_NEEDS_ISSUER_AND_AUDIENCE):
        LiveServer(env, log_path=REPORTS / "server-jwks-no-audience.log").stop()
