"""What a test service starts with: its environment, and where its logs and reports go."""

from __future__ import annotations

import pytest

from devtools.live_server import ROOT
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET

REPORTS = ROOT / "reports"


def shared_secret_env(database_url: str) -> dict[str, str]:
    """A service on `database_url` that trusts HS256 tokens signed with the tests' shared secret."""
    return {
        "DATABASE_URL": database_url,
        "JWT_SECRET": SHARED_SECRET,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWKS_URL": "",
        "BETTER_AUTH_SECRET": "",
    }


def jwks_env(jwks_url: str, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> dict[str, str]:
    """The auth settings of a service that trusts the keys published at `jwks_url`, for this issuer and audience."""
    return {
        "JWT_SECRET": "",
        "BETTER_AUTH_SECRET": "",
        "JWKS_URL": jwks_url,
        "JWT_ISSUER": issuer,
        "JWT_AUDIENCE": audience,
    }


AUTH_VARIABLES = ("JWT_SECRET", "BETTER_AUTH_SECRET", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE")


def without_auth_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process's environment with no auth setting in it, for a test that builds Settings itself."""
    for name in AUTH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch
