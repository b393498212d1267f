"""JWTs built byte by byte, so that tests can produce what no well-behaved library would sign.

python-jose refuses some forgeries on the signing side (for example a PEM public key as an HMAC
secret); an attacker's tooling does not, so these helpers do the JWS compact encoding themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

Signer = Callable[[bytes], bytes]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    """The mapping without the entries whose value is None (how tests say "leave this out")."""
    return {key: value for key, value in values.items() if value is not None}


def encode(header: dict[str, Any], claims: dict[str, Any], sign: Signer) -> str:
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    return f"{signing_input}.{b64url(sign(signing_input.encode('ascii')))}"


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token with an empty signature segment, as `alg: none` tokens are written."""
    return f"{b64url_json(header)}.{b64url_json(claims)}."


def hs256(secret: bytes) -> Signer:
    def sign(data: bytes) -> bytes:
        return hmac.new(secret, data, hashlib.sha256).digest()

    return sign


def parts(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def header_of(token: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(b64url_decode(parts(token)[0]))
    return value


def claims_of(token: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(b64url_decode(parts(token)[1]))
    return value


def with_claims(token: str, **changes: Any) -> str:
    """The token with its payload re-encoded with these changes, keeping the original signature."""
    header, _, signature = parts(token)
    return f"{header}.{b64url_json(without_none({**claims_of(token), **changes}))}.{signature}"


def with_signature(token: str, signature: str) -> str:
    header, payload, _ = parts(token)
    return f"{header}.{payload}.{signature}"
