"""EdDSA (Ed25519) in python-jose through impl/auth/ed25519.py: signatures verify, nothing else does.

The key class is built from a public JWK only; python-jose still parses the token, matches its `alg`
against the one the key implies, and checks the claims (impl/auth/tokens.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, x25519
from jose import jwk, jwt
from jose.exceptions import JOSEError, JWKError

from impl.auth.ed25519 import Ed25519PublicJwk
from impl.auth.tokens import TokenVerifier
from impl.http.problems import Unauthorized
from impl.settings import Settings
from tests.support import forge
from tests.support.jwks import SigningKey
from tests.support.tokens import AUDIENCE, ISSUER, claims_for

KEY = SigningKey.ed25519("ed-main")
MESSAGE = b"header.payload"


@pytest.fixture
def public() -> Ed25519PublicJwk:
    return Ed25519PublicJwk(KEY.public_jwk, "EdDSA")


def flip_bit(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


# --- the key class -------------------------------------------------------------------------------


def test_a_valid_signature_verifies(public: Ed25519PublicJwk) -> None:
    assert public.verify(MESSAGE, KEY.sign(MESSAGE))


def test_a_signature_over_another_message_does_not_verify(public: Ed25519PublicJwk) -> None:
    assert not public.verify(MESSAGE + b".", KEY.sign(MESSAGE))


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_an_altered_signature_does_not_verify(public: Ed25519PublicJwk, index: int) -> None:
    assert not public.verify(MESSAGE, flip_bit(KEY.sign(MESSAGE), index))


@pytest.mark.parametrize(
    "signature",
    [b"", bytes(64), KEY.sign(MESSAGE)[:63], KEY.sign(MESSAGE) + b"\0"],
    ids=["empty", "zeros", "short", "long"],
)
def test_a_malformed_signature_does_not_verify(public: Ed25519PublicJwk, signature: bytes) -> None:
    assert not public.verify(MESSAGE, signature)


def test_another_keys_signature_does_not_verify(public: Ed25519PublicJwk) -> None:
    assert not public.verify(MESSAGE, SigningKey.ed25519().sign(MESSAGE))


def test_the_key_cannot_sign(public: Ed25519PublicJwk) -> None:
    with pytest.raises(JWKError):
        public.sign(MESSAGE)


def raw_public(private: ed448.Ed448PrivateKey | x25519.X25519PrivateKey) -> str:
    return forge.b64url(private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def private_jwk() -> dict[str, Any]:
    raw = KEY.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return {**KEY.public_jwk, "d": forge.b64url(raw)}


NOT_AN_ED25519_PUBLIC_JWK: dict[str, Any] = {
    "ed448": {"kty": "OKP", "crv": "Ed448", "x": raw_public(ed448.Ed448PrivateKey.generate())},
    "x25519": {"kty": "OKP", "crv": "X25519", "x": raw_public(x25519.X25519PrivateKey.generate())},
    "no-crv": {"kty": "OKP", "x": KEY.public_jwk["x"]},
    "ec-kty": {**KEY.public_jwk, "kty": "EC"},
    "p256": SigningKey.ec().public_jwk,
    "rsa": SigningKey.rsa().public_jwk,
    "private": private_jwk(),
    "no-x": {"kty": "OKP", "crv": "Ed25519"},
    "x-a-number": {**KEY.public_jwk, "x": 42},
    "x-padded": {**KEY.public_jwk, "x": KEY.public_jwk["x"] + "="},
    "x-standard-base64": {**KEY.public_jwk, "x": forge.b64url(b"\xfb" * 32).replace("-", "+").replace("_", "/")},
    "x-31-bytes": {**KEY.public_jwk, "x": forge.b64url(KEY.public_raw[:31])},
    "x-33-bytes": {**KEY.public_jwk, "x": forge.b64url(KEY.public_raw + b"\0")},
    "alg-es256": {**KEY.public_jwk, "alg": "ES256"},
    "alg-hs256": {**KEY.public_jwk, "alg": "HS256"},
    "for-encryption": {**KEY.public_jwk, "use": "enc"},
    "pem": KEY.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ),
    "der": KEY.private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ),
    "raw-bytes": KEY.public_raw,
    "jwk-as-json-text": json.dumps(KEY.public_jwk),
}


@pytest.mark.parametrize("key", NOT_AN_ED25519_PUBLIC_JWK.values(), ids=NOT_AN_ED25519_PUBLIC_JWK.keys())
def test_anything_but_a_public_ed25519_jwk_is_refused(key: Any) -> None:
    with pytest.raises(JWKError):
        Ed25519PublicJwk(key, "EdDSA")


@pytest.mark.parametrize("algorithm", ["HS256", "ES256", "RS256", "none", "Ed25519"])
def test_the_key_is_for_eddsa_only(algorithm: str) -> None:
    with pytest.raises(JWKError):
        Ed25519PublicJwk(KEY.public_jwk, algorithm)


def test_a_jwk_that_says_eddsa_and_sig_is_accepted() -> None:
    public = Ed25519PublicJwk({**KEY.public_jwk, "alg": "EdDSA", "use": "sig"}, "EdDSA")
    assert public.verify(MESSAGE, KEY.sign(MESSAGE))
    assert public.to_dict() == {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": KEY.public_jwk["x"]}


# --- plugged into python-jose -------------------------------------------------------------------


def test_python_jose_constructs_the_class_for_eddsa() -> None:
    assert isinstance(jwk.construct(KEY.public_jwk, "EdDSA"), Ed25519PublicJwk)


def test_python_jose_verifies_an_eddsa_token_and_its_claims() -> None:
    token = KEY.token(claims_for("alice"))
    claims = jwt.decode(token, KEY.public_jwk, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == "alice"


def test_python_jose_still_checks_the_claims_of_an_eddsa_token() -> None:
    token = KEY.token(claims_for("alice", exp=1_700_000_000))
    with pytest.raises(JOSEError, match="expired"):
        jwt.decode(token, KEY.public_jwk, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)


def test_python_jose_refuses_an_eddsa_token_where_eddsa_is_not_allowed() -> None:
    token = KEY.token(claims_for("alice"))
    with pytest.raises(JOSEError, match="not allowed"):
        jwt.decode(token, KEY.public_jwk, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER)


# --- the verifier: the algorithm comes from the key, never from the token alone -----------------


class FixedKeys:
    """A JWKS that publishes exactly these keys (the JWKS fetch is tested in tests/api/authentication/)."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = {key["kid"]: key for key in keys}

    async def key(self, kid: str) -> dict[str, Any] | None:
        return self.keys.get(kid)


@pytest.fixture
def verifier(monkeypatch: pytest.MonkeyPatch) -> TokenVerifier:
    for name in ("JWT_SECRET", "BETTER_AUTH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JWKS_URL", "http://127.0.0.1:9/api/auth/jwks")
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", AUDIENCE)
    verifier = TokenVerifier(Settings(_env_file=None))
    verifier.jwks = FixedKeys(KEY.public_jwk, {**KEY.public_jwk, "kid": "ed-with-alg", "alg": "EdDSA"})  # type: ignore[assignment]
    return verifier


def subject(verifier: TokenVerifier, token: str) -> str:
    return asyncio.run(verifier.subject(token))


@pytest.mark.parametrize("kid", ["ed-main", "ed-with-alg"])
def test_the_verifier_accepts_an_eddsa_token_from_its_jwks(verifier: TokenVerifier, kid: str) -> None:
    assert subject(verifier, KEY.token(claims_for("alice"), kid=kid)) == "alice"


HS256_SECRETS = {
    "x-raw": KEY.public_raw,
    "x-text": KEY.public_jwk["x"].encode(),
    "jwk-json": json.dumps(KEY.public_jwk).encode(),
    "pem": KEY.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ),
    "der": KEY.private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ),
}


@pytest.mark.parametrize("secret", HS256_SECRETS.values(), ids=HS256_SECRETS.keys())
def test_hs256_under_the_ed25519_keys_kid_is_refused(verifier: TokenVerifier, secret: bytes) -> None:
    token = forge.encode({"alg": "HS256", "typ": "JWT", "kid": KEY.kid}, claims_for("alice"), forge.hs256(secret))
    with pytest.raises(Unauthorized):
        subject(verifier, token)


@pytest.mark.parametrize("alg", ["ES256", "RS256", "none", "EdDSA "])
def test_an_eddsa_signature_under_another_alg_is_refused(verifier: TokenVerifier, alg: str) -> None:
    with pytest.raises(Unauthorized):
        subject(verifier, KEY.token(claims_for("alice"), alg=alg))


def test_an_ed25519_jwk_that_names_another_algorithm_is_refused(verifier: TokenVerifier) -> None:
    verifier.jwks = FixedKeys({**KEY.public_jwk, "alg": "ES256"})  # type: ignore[assignment]
    with pytest.raises(Unauthorized, match="algorithm is not accepted"):
        subject(verifier, KEY.token(claims_for("alice")))


def test_an_es256_token_under_an_ed25519_kid_is_refused(verifier: TokenVerifier) -> None:
    token = SigningKey.ec().token(claims_for("alice"), kid=KEY.kid)
    with pytest.raises(Unauthorized):
        subject(verifier, token)
