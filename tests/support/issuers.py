"""The identity providers a bearer test can run against, each minting tokens for the service that trusts it.

The shared secret (HS256, the session's `server`) and the keys of a JWKS endpoint (RS256, ES256, EdDSA:
tests/support/jwks.py serves them). Each `Issuer` can also make an impostor: the same kind of token, signed
with another secret or key under the same `kid`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import forge
from tests.support.jwks import SigningKey
from tests.support.tokens import claims_for


@dataclass(frozen=True)
class Issuer:
    """Mints tokens the way one configuration's identity provider does, for the server that trusts it."""

    name: str
    http: httpx.Client
    header: dict[str, Any]
    sign: forge.Signer
    public_jwk: dict[str, Any]
    impostor: Callable[[], Issuer]

    def token(self, sub: str, *, header: dict[str, Any] | None = None, **claims: Any) -> str:
        return forge.encode(forge.without_none({**self.header, **(header or {})}), claims_for(sub, **claims), self.sign)


def shared_secret_issuer(http: httpx.Client, secret: bytes) -> Issuer:
    return Issuer(
        name="HS256",
        http=http,
        header={"alg": "HS256", "typ": "JWT"},
        sign=forge.hs256(secret),
        public_jwk={"kty": "oct", "k": forge.b64url(secret)},
        impostor=lambda: shared_secret_issuer(http, b"another secret of thirty-two bytes or more"),
    )


def jwks_issuer(http: httpx.Client, key: SigningKey) -> Issuer:
    return Issuer(
        name=key.alg,
        http=http,
        header={"alg": key.alg, "typ": "JWT", "kid": key.kid},
        sign=key.sign,
        public_jwk=key.public_jwk,
        impostor=lambda: jwks_issuer(http, SigningKey.like(key)),
    )
