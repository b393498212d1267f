"""Bearer authentication against real server processes in both modes, and the issuers tests run against.

- shared secret: the session `server` (HS256 with JWT_SECRET, iss and aud configured);
- JWKS: one server for this folder, whose keys (RS256, ES256, EdDSA) come from a local JWKS endpoint
  (tests/support/jwks.py); the real Better Auth's tokens are in tests/api/test_better_auth.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.contract import operation
from tests.support.environments import REPORTS, jwks_env
from tests.support.issuers import Issuer, jwks_issuer, shared_secret_issuer
from tests.support.jwks import JwksServer, Keys
from tests.support.tokens import SHARED_SECRET, bearer, claims_for
from tests.support.users import new_user_id

JWKS_TIMEOUT_SECONDS = 1


@pytest.fixture(scope="package")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="package")
def jwks(keys: Keys) -> Iterator[JwksServer]:
    endpoint = JwksServer(keys.all())
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="package")
def jwks_server(database_url: str, jwks: JwksServer) -> Iterator[LiveServer]:
    env = {
        "DATABASE_URL": database_url,
        **jwks_env(jwks.url),
        "JWKS_TIMEOUT": str(JWKS_TIMEOUT_SECONDS),
        "JWKS_CACHE_SECONDS": "600",
        "JWKS_REFETCH_INTERVAL": "0",
    }
    live = LiveServer(env, log_path=REPORTS / "server-jwks.log")
    yield live
    live.stop()


@pytest.fixture(scope="package")
def jwks_http(jwks_server: LiveServer, keys: Keys) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=jwks_server.url, timeout=30) as client:
        user = new_user_id()
        warm_up = operation("listTasks").send(client, user, bearer(keys.rsa.token(claims_for(user))))
        assert warm_up.status_code == 200, warm_up.text  # the keys are cached from here on
        yield client


@pytest.fixture(params=["HS256-shared-secret", "RS256-jwks", "ES256-jwks", "EdDSA-jwks"])
def issuer(request: pytest.FixtureRequest) -> Issuer:
    if request.param == "HS256-shared-secret":
        return shared_secret_issuer(request.getfixturevalue("http"), SHARED_SECRET.encode())
    http = request.getfixturevalue("jwks_http")
    keys: Keys = request.getfixturevalue("keys")
    return jwks_issuer(http, {"RS256-jwks": keys.rsa, "ES256-jwks": keys.ec, "EdDSA-jwks": keys.ed}[request.param])


@pytest.fixture(params=["shared-secret", "jwks"])
def any_server(request: pytest.FixtureRequest) -> httpx.Client:
    client: httpx.Client = request.getfixturevalue("http" if request.param == "shared-secret" else "jwks_http")
    return client


@pytest.fixture
def user() -> str:
    return new_user_id()
