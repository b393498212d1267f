"""The JWKS cache (impl/auth/jwks.py) when the issuer mints a key between two allowed refetches.

Better Auth rotates by minting a key at the next token it signs; the service may have fetched the JWKS
a moment before. A kid it cannot refetch for yet is 503 with Retry-After, never 401 (the token may be
valid); once a refetch is allowed, the new key is found, and a kid still unpublished is None (401).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from impl.auth.jwks import JwksKeys, JwksUnavailable
from tests.support.jwks import JwksServer, SigningKey
from tests.support.waiting import wait_until_async

REFETCH_INTERVAL = 2.0


@pytest.fixture
def issuer() -> Iterator[JwksServer]:
    server = JwksServer([SigningKey.ed25519("first")])
    yield server
    server.stop()


def keys_for(issuer: JwksServer, refetch_interval: float = REFETCH_INTERVAL) -> JwksKeys:
    return JwksKeys(issuer.url, timeout=2, max_age=300, refetch_interval=refetch_interval)


async def test_a_key_minted_right_after_a_fetch_is_503_with_the_seconds_left(issuer: JwksServer) -> None:
    keys = keys_for(issuer)
    assert await keys.key("first") is not None
    issuer.publish(SigningKey.ed25519("minted"))
    with pytest.raises(JwksUnavailable) as unavailable:
        await keys.key("minted")
    assert 1 <= int(unavailable.value.headers["Retry-After"]) <= REFETCH_INTERVAL
    assert issuer.fetches() == 1  # the rate limit holds: no second fetch


async def test_the_minted_key_is_found_once_a_refetch_is_allowed(issuer: JwksServer) -> None:
    keys = keys_for(issuer, refetch_interval=0.2)
    assert await keys.key("first") is not None
    issuer.publish(SigningKey.ed25519("minted"))

    async def minted_found() -> bool:
        try:
            return await keys.key("minted") is not None
        except JwksUnavailable:  # the refetch is not allowed yet: asking again costs no fetch
            return False

    assert await wait_until_async(minted_found, seconds=10, interval=0.02), "the minted key was never found"
    assert await keys.key("first") is not None  # the old key is still published, still cached
    assert issuer.fetches() == 2


async def test_a_kid_unknown_after_a_fresh_fetch_is_none(issuer: JwksServer) -> None:
    keys = keys_for(issuer, refetch_interval=0)
    assert await keys.key("first") is not None
    assert await keys.key("never-published") is None
    assert issuer.fetches() == 2
