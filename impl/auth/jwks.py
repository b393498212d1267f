"""Public keys from a JWKS URL (as Better Auth serves at /api/auth/jwks), cached per process.

Caching fetched public keys is safe across processes: each process holds the same public data.
An unknown `kid` triggers one refetch, rate-limited so that forged kids cannot hammer the issuer.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from impl.problems import ServiceUnavailable


class JwksUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("The token's signing keys cannot be fetched right now; retry later.", retry_after_seconds=5)


class JwksKeys:
    def __init__(self, url: str, *, timeout: float, max_age: float, refetch_interval: float) -> None:
        self.url = url
        self.timeout = timeout
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> dict[str, Any] | None:
        """The JWK with this kid, or None when the issuer does not publish it (after one refetch)."""
        if self._fetched_at is None or self._age() > self.max_age:
            await self._refresh(force=True)
        elif kid not in self._keys and self._age() > self.refetch_interval:
            await self._refresh(force=False)
        return self._keys.get(kid)

    def _age(self) -> float:
        return time.monotonic() - (self._fetched_at or 0.0)

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            if self._fetched_at is not None and self._age() <= (0 if force else self.refetch_interval):
                return
            try:
                self._keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as error:
                if not self._keys:
                    raise JwksUnavailable() from error
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> dict[str, dict[str, Any]]:
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            response = await client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise ValueError("a JWKS document needs a 'keys' list")
        return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str) and k["kid"]}
