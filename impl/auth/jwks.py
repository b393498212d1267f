"""Public keys from a JWKS URL (as Better Auth serves at /api/auth/jwks), cached per process.

Caching fetched public keys is safe across processes: each process holds the same public data.
An unknown `kid` triggers one refetch, rate-limited so that forged kids cannot hammer the issuer.

Availability rules:
- one fetch at a time per process; requests that queued behind a fetch which started after they
  asked take its outcome instead of fetching again, so a slow issuer costs each request at most
  two fetch deadlines, however many requests arrive;
- each fetch has one overall deadline (`timeout`), not only httpx's per-read one, so an issuer that
  trickles its answer cannot hold requests;
- when the issuer cannot be reached, keys already cached keep verifying tokens, but a token whose
  `kid` is not cached is answered 503 (we cannot tell whether the issuer has published it), and the
  next attempt waits `refetch_interval`;
- a `kid` not cached while a refetch is not allowed yet (the last one started less than
  `refetch_interval` ago) is 503 with the seconds left as Retry-After, not 401: a key the issuer
  minted since (Better Auth rotating its key) would otherwise be refused until the next refetch.
  A `kid` still unknown after a fetch that started after the token arrived is 401.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx

from impl.http.problems import ServiceUnavailable
from impl.telemetry.metrics import ServiceMetrics


class JwksUnavailable(ServiceUnavailable):
    def __init__(self, retry_after_seconds: int = 5) -> None:
        super().__init__(
            "The token's signing keys cannot be fetched right now; retry later.",
            retry_after_seconds=retry_after_seconds,
        )


class JwksKeys:
    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        max_age: float,
        refetch_interval: float,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.url = url
        self.metrics = metrics
        self.timeout = timeout
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None  # when the keys held were fetched
        self._attempted_at: float | None = None  # when the latest fetch started, whatever its outcome
        self._available = True  # whether the latest fetch succeeded
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> dict[str, Any] | None:
        """The JWK with this kid, or None when the issuer does not publish it (after one refetch).

        Raises JwksUnavailable when the kid is not cached and the issuer cannot be asked: it is unreachable,
        or it was asked less than `refetch_interval` ago (before the token's key may have been published).
        """
        refetch_in = 0.0
        if self._fetched_at is None or time.monotonic() - self._fetched_at > self.max_age or kid not in self._keys:
            refetch_in = await self._refresh()
        key = self._keys.get(kid)
        if key is None and not self._available:
            raise JwksUnavailable(max(1, math.ceil(self.refetch_interval)))
        if key is None and refetch_in > 0:
            raise JwksUnavailable(max(1, math.ceil(refetch_in)))
        return key

    async def _refresh(self) -> float:
        """Fetch the keys unless a fetch started after we asked; the seconds until one is allowed if it is not yet."""
        asked_at = time.monotonic()
        async with self._lock:
            if self._attempted_at is not None and self._attempted_at >= asked_at:
                return 0.0  # a fetch started after we asked: its outcome is as fresh as ours would be
            since = time.monotonic() - self._attempted_at if self._attempted_at is not None else math.inf
            if since < self.refetch_interval:
                return self.refetch_interval - since  # the latest fetch is too recent to repeat
            self._attempted_at = time.monotonic()
            try:
                async with asyncio.timeout(self.timeout):
                    keys = await self._fetch()
            except (httpx.HTTPError, ValueError, TimeoutError) as error:
                self._count_fetch(fetch_outcome(error))
                self._available = False
                return 0.0
            self._count_fetch("ok")
            self._keys = keys
            self._fetched_at = self._attempted_at
            self._available = True
            return 0.0

    def _count_fetch(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.jwks_fetches.labels(outcome).inc()

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            response = await client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise ValueError("a JWKS document needs a 'keys' list")
        return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str) and k["kid"]}


def fetch_outcome(error: Exception) -> str:
    """A failed fetch as a metric label: timeout (the overall deadline or httpx's), http_error or invalid_document."""
    if isinstance(error, (TimeoutError, httpx.TimeoutException)):
        return "timeout"
    if isinstance(error, httpx.HTTPError):
        return "http_error"
    return "invalid_document"
