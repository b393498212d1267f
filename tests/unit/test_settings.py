"""impl/settings.py: the settings refused at start-up (short or placeholder secrets, no auth mode or both,
JWKS without an issuer and an audience, CORS origins that are no origin) and the defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from impl.settings import Settings
from tests.support.environments import without_auth_settings
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return without_auth_settings(monkeypatch)


@pytest.mark.parametrize("variable", ["JWT_SECRET", "BETTER_AUTH_SECRET"])
@pytest.mark.parametrize("secret", ["x" * 31, "s3cr3t", "changeme", "CHANGEME", "secret", "your-secret-here"])
def test_a_short_or_placeholder_secret_is_refused(clean_env: pytest.MonkeyPatch, variable: str, secret: str) -> None:
    clean_env.setenv(variable, secret)
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None)


def test_a_random_secret_of_32_bytes_is_accepted(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("JWT_SECRET", "k" * 16 + "Zq3v-9xW_p2Lr7sT")
    assert Settings(_env_file=None).shared_secret_mode


@pytest.mark.parametrize(
    "env",
    [{}, {"JWT_SECRET": SHARED_SECRET, "JWKS_URL": "https://auth.tasks.test/api/auth/jwks"}],
    ids=["neither", "both"],
)
def test_exactly_one_auth_mode_must_be_configured(clean_env: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match="exactly one"):
        Settings(_env_file=None)


JWKS_NEEDS_ISSUER_AND_AUDIENCE = "JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE: Better Auth's JWT plugin sets both"


@pytest.mark.parametrize(
    "env",
    [{}, {"JWT_ISSUER": ISSUER}, {"JWT_AUDIENCE": AUDIENCE}],
    ids=["neither", "issuer-only", "audience-only"],
)
def test_jwks_mode_needs_an_issuer_and_an_audience(clean_env: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    clean_env.setenv("JWKS_URL", "https://auth.tasks.test/api/auth/jwks")
    for name, value in env.items():
        clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match=JWKS_NEEDS_ISSUER_AND_AUDIENCE):
        Settings(_env_file=None)


def test_jwks_mode_with_an_issuer_and_an_audience_is_accepted(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("JWKS_URL", "https://auth.tasks.test/api/auth/jwks")
    clean_env.setenv("JWT_ISSUER", ISSUER)
    clean_env.setenv("JWT_AUDIENCE", AUDIENCE)
    assert not Settings(_env_file=None).shared_secret_mode


def test_shared_secret_mode_needs_neither_issuer_nor_audience(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("JWT_SECRET", SHARED_SECRET)
    settings = Settings(_env_file=None)
    assert (settings.jwt_issuer, settings.jwt_audience) == (None, None)


@pytest.mark.parametrize("value", ["*", "https://*.example.com", "localhost:3000", "https://app.example.com/path"])
def test_a_wildcard_or_malformed_origin_is_refused_at_startup(clean_env: pytest.MonkeyPatch, value: str) -> None:
    clean_env.setenv("JWT_SECRET", SHARED_SECRET)
    clean_env.setenv("CORS_ORIGINS", f"http://localhost:3000,{value}")
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        Settings()


def test_the_defaults_are_ten_seconds_for_a_head_thirty_for_a_body_and_1000_connections() -> None:
    settings = Settings(jwt_secret="x" * 8 + "0123456789abcdefghijklmnopqrstuv")
    assert (settings.http_head_timeout_seconds, settings.http_body_timeout_seconds) == (10.0, 30.0)
    assert settings.http_max_connections == 1000
