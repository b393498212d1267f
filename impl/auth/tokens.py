"""Verifying bearer JWTs with python-jose, in one of two modes pinned to one algorithm family.

- shared secret: HS256 with JWT_SECRET (or BETTER_AUTH_SECRET);
- JWKS: EdDSA (Ed25519, Better Auth's default), ES256 or RS256 with public keys fetched from JWKS_URL
  (JWT_ISSUER and JWT_AUDIENCE required); a token's algorithm is the one its key's type implies.

A token that names an audience must name ours, in both modes: python-jose's audience check is never
switched off, so with no JWT_AUDIENCE only tokens without `aud` pass (decision 0025).
"""

from __future__ import annotations

from typing import Any

from jose import jwt
from jose.exceptions import JOSEError

from impl.auth import compact_jws, ed25519
from impl.auth.jwks import JwksKeys
from impl.auth.verified_tokens import VerifiedTokens
from impl.problems import Unauthorized
from impl.settings import Settings

SHARED_SECRET_ALGORITHMS = ("HS256",)
JWKS_ALGORITHMS = ("RS256", "ES256", ed25519.ALGORITHM)
# The one algorithm a published key may verify, by its (kty, crv); a key's own `alg`, if any, must agree.
KEY_ALGORITHM_BY_TYPE: dict[tuple[Any, Any], str] = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("OKP", "Ed25519"): ed25519.ALGORITHM,
}
# Header parameters that name a key somewhere else; keys come only from our configuration.
FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c")
# Extensions the signer says we must understand (RFC 7515 section 4.1.11); we understand none.
CRITICAL_HEADER = "crit"
MAX_KID_LENGTH = 256
# What python-jose 3.5.0 lets escape from decode() when a signed token's claims are of the wrong type:
# int() of a list, dict or null `exp`/`nbf`/`iat` (TypeError), of an infinite one (OverflowError),
# and json.loads of a deeply nested payload (RecursionError).
MALFORMED_CLAIMS_ERRORS = (TypeError, ValueError, ArithmeticError, RecursionError)


def invalid(reason: str) -> Unauthorized:
    return Unauthorized(f"The bearer token is not valid: {reason}.")


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        if self.secret is not None and not self.secret.strip():
            raise ValueError("JWT_SECRET is blank; refusing to verify tokens with it")
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.jwks = (
            JwksKeys(
                settings.jwks_url,
                timeout=settings.jwks_timeout,
                max_age=settings.jwks_cache_seconds,
                refetch_interval=settings.jwks_refetch_interval,
            )
            if settings.jwks_url
            else None
        )
        self.verified = VerifiedTokens()

    async def subject(self, token: str) -> str:
        """The verified token's `sub`; raises Unauthorized for anything short of a valid token."""
        if not compact_jws.well_formed(token):
            raise invalid("not a compact JWS in base64url")
        # Only canonical texts are ever remembered, so a text found here is canonical (decision 0025).
        if (known := self.verified.subject(token)) is not None:
            return known
        # python-jose's base64 decoding would accept junk, padding and `+`/`/` in the same token.
        if not compact_jws.canonical(token):
            raise invalid("not in canonical base64url")
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError:
            raise invalid("malformed") from None
        if any(name in header for name in FORBIDDEN_HEADERS):
            raise invalid("embedded or remote keys are not accepted")
        if CRITICAL_HEADER in header:
            raise invalid("critical header extensions are not supported")
        key, algorithms = await self._key_for(header)
        options = {
            "require_exp": True,
            "require_sub": True,
            "require_iss": self.issuer is not None,
            "require_aud": self.audience is not None,
        }
        try:
            claims = jwt.decode(
                token, key, algorithms=list(algorithms), audience=self.audience, issuer=self.issuer, options=options
            )
        except JOSEError as error:
            raise invalid(str(error).rstrip(".").lower() or "rejected") from None
        except MALFORMED_CLAIMS_ERRORS:
            raise invalid("malformed claims") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise invalid("no subject")
        self.verified.remember(token, subject, expires_at=int(claims["exp"]))
        return subject

    async def _key_for(self, header: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
        if self.secret is not None:
            return self.secret, SHARED_SECRET_ALGORITHMS
        assert self.jwks is not None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid.strip() or len(kid) > MAX_KID_LENGTH:
            raise invalid("no usable key id")
        if header.get("alg") not in JWKS_ALGORITHMS:
            raise invalid("unsupported algorithm")
        jwk = await self.jwks.key(kid)
        if jwk is None:
            raise invalid("unknown key id")
        algorithm = KEY_ALGORITHM_BY_TYPE.get((jwk.get("kty"), jwk.get("crv")))
        if algorithm not in JWKS_ALGORITHMS or jwk.get("alg", algorithm) != algorithm:
            raise invalid("the signing key's algorithm is not accepted")
        return jwk, (algorithm,)
