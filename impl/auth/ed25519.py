"""EdDSA (Ed25519) verification for python-jose, which has none of its own (decision 0029).

Better Auth's JWT plugin signs with Ed25519 by default. `jwk.register_key("EdDSA", ...)` plugs this key
class into python-jose, which still parses the token, matches the header's `alg` against the one
algorithm the service allows for the key, and checks every claim; this class only checks a signature.

It is built from a public JWK only (`{"kty": "OKP", "crv": "Ed25519", "x": ...}`): never from PEM or
DER bytes, a private key or another curve, so that no other kind of key can be taken for an Ed25519 one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jose import jwk
from jose.backends.base import Key
from jose.exceptions import JWKError

from impl.kit import base64url

ALGORITHM = "EdDSA"
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


class Ed25519PublicJwk(Key):
    """A public Ed25519 JWK that verifies EdDSA signatures; it cannot sign."""

    def __init__(self, key: Any, algorithm: str) -> None:
        if algorithm != ALGORITHM:
            raise JWKError(f"an Ed25519 key verifies {ALGORITHM} only, not {algorithm!r}")
        if not isinstance(key, Mapping):
            raise JWKError("an Ed25519 key is accepted only as a JWK (a mapping), never as PEM or DER bytes")
        if key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
            raise JWKError("not an Ed25519 JWK (kty OKP, crv Ed25519)")
        if "d" in key:
            raise JWKError("a private Ed25519 JWK is refused: a JWKS publishes public keys only")
        if key.get("alg", ALGORITHM) != ALGORITHM or key.get("use", "sig") != "sig":
            raise JWKError("the JWK is not for EdDSA signatures")
        x = key.get("x")
        try:
            raw = base64url.decode(x) if isinstance(x, str) else b""
        except ValueError:
            raise JWKError("the JWK's x is not canonical base64url") from None
        if len(raw) != PUBLIC_KEY_BYTES:
            raise JWKError(f"the JWK's x is not {PUBLIC_KEY_BYTES} bytes")
        self._raw = raw
        self._key = Ed25519PublicKey.from_public_bytes(raw)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        if len(sig) != SIGNATURE_BYTES:
            return False
        try:
            self._key.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    def sign(self, msg: bytes) -> bytes:
        raise JWKError("a public Ed25519 key cannot sign")

    def public_key(self) -> Ed25519PublicJwk:
        return self

    def to_dict(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "alg": ALGORITHM, "x": base64url.encode(self._raw)}


jwk.register_key(ALGORITHM, Ed25519PublicJwk)
