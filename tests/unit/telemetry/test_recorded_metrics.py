"""What the workers record, read in-process: token checks and JWKS fetches by outcome, and the pool's usage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from impl.auth.jwks import JwksKeys, JwksUnavailable
from impl.auth.tokens import TokenVerifier
from impl.db.database import Database, PoolUsage
from impl.http.problems import Unauthorized
from impl.settings import Settings
from impl.telemetry.metrics import ServiceMetrics
from tests.support.jwks import JwksServer, SigningKey
from tests.support.tokens import AUDIENCE, ISSUER, SHARED_SECRET, shared_secret_token


def count(metrics: ServiceMetrics, name: str, labels: dict[str, str]) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def token_checks(metrics: ServiceMetrics, outcome: str, reason: str = "") -> float:
    return count(metrics, "tasks_api_token_verifications_total", {"outcome": outcome, "reason": reason})


@pytest.fixture
def metrics() -> ServiceMetrics:
    return ServiceMetrics()


@pytest.fixture
def verifier(metrics: ServiceMetrics) -> TokenVerifier:
    settings = Settings(jwt_secret=SHARED_SECRET, jwks_url=None, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    return TokenVerifier(settings, metrics)


async def test_a_token_verified_then_remembered_counts_accepted_then_cache_hit_when_flushed(
    verifier: TokenVerifier, metrics: ServiceMetrics
) -> None:
    token = shared_secret_token("alice")
    assert await verifier.subject(token) == await verifier.subject(token) == "alice"
    assert token_checks(metrics, "accepted") == token_checks(metrics, "cache_hit") == 0  # tallied (decision 0063)
    metrics.flush()
    assert token_checks(metrics, "accepted") == 1
    assert token_checks(metrics, "cache_hit") == 1


# Tokens are minted when the test runs, not when it is collected: a whole suite outlasts their 10 minutes.
REFUSED_TOKENS: dict[str, Callable[[], str]] = {
    "malformed": lambda: "not-a-jwt",
    "expired": lambda: shared_secret_token("alice", exp=int(time.time()) - 60),
    "claims": lambda: shared_secret_token("alice", aud="someone-else"),
    "signature": lambda: shared_secret_token("alice", secret="another-secret-" + "x" * 40),
}


@pytest.mark.parametrize(("reason", "token"), REFUSED_TOKENS.items(), ids=REFUSED_TOKENS)
async def test_a_refused_token_counts_under_its_coarse_reason(
    verifier: TokenVerifier, metrics: ServiceMetrics, reason: str, token: Callable[[], str]
) -> None:
    with pytest.raises(Unauthorized):
        await verifier.subject(token())
    assert token_checks(metrics, "refused", reason) == 1


@pytest.fixture
def issuer() -> Iterator[JwksServer]:
    server = JwksServer([SigningKey.ed25519("first")])
    yield server
    server.stop()


async def test_jwks_fetches_are_counted_by_outcome(issuer: JwksServer, metrics: ServiceMetrics) -> None:
    keys = JwksKeys(issuer.url, timeout=2, max_age=300, refetch_interval=0, metrics=metrics)
    assert await keys.key("first") is not None
    with issuer.outage("error"), pytest.raises(JwksUnavailable):
        await keys.key("unknown")
    with issuer.outage("not_json"), pytest.raises(JwksUnavailable):
        await keys.key("unknown")
    fetches = {
        outcome: count(metrics, "tasks_api_jwks_fetches_total", {"outcome": outcome})
        for outcome in ("ok", "http_error", "invalid_document")
    }
    assert fetches == {"ok": 1, "http_error": 1, "invalid_document": 1}


async def test_pool_usage_counts_connections_in_use_idle_and_requests_waiting(database_url: str) -> None:
    settings = Settings(database_url=database_url, jwt_secret=SHARED_SECRET, db_pool_max_size=1)
    database = Database(settings)
    try:
        assert database.pool_usage() == PoolUsage(in_use=0, idle=0, waiting=0)
        async with database.connection():
            assert database.pool_usage() == PoolUsage(in_use=1, idle=0, waiting=0)

            async def second_request() -> None:
                async with database.connection():
                    pass

            waiting = asyncio.create_task(second_request())
            async with asyncio.timeout(5):
                # Polling: asyncpg offers no event for "an acquire started waiting".
                while database.pool_usage().waiting == 0:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            assert database.pool_usage() == PoolUsage(in_use=1, idle=0, waiting=1)
        await waiting
        assert database.pool_usage() == PoolUsage(in_use=0, idle=1, waiting=0)
    finally:
        await database.close()
