"""Verifying bearer JWTs with python-jose, in one of two modes pinned to one algorithm family.

- shared secret: HS256 with JWT_SECRET (or BETTER_AUTH_SECRET);
- JWKS: EdDSA (Ed25519, Better Auth's default), ES256 or RS256 with public keys fetched from JWKS_URL
  (JWT_ISSUER and JWT_AUDIENCE required); a token's algorithm is the one its key's type implies.

A token that names an audience must name ours, in both modes: python-jose's audience check is never
switched off, so with no JWT_AUDIENCE only tokens without `aud` pass (decision 0025).
"""

from __future__ import annotations

from math import isfinite
from typing import Any

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError, JWTClaimsError

from impl.auth import compact_jws, ed25519
from impl.auth.jwks import JwksKeys, JwksUnavailable
from impl.auth.verified_tokens import VerifiedTokens
from impl.http.problems import Unauthorized
from impl.settings import Settings
from impl.telemetry.metrics import ServiceMetrics

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
# RFC 7519 section 4.1.4: NumericDate claims are JSON numbers. python-jose reads them with int(), which
# also takes the string "1790000000" and the boolean true.
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


class InvalidToken(Unauthorized):
    """A refused token; `kind` is the reason's coarse class, a bounded metric label (the detail is not)."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(f"The bearer token is not valid: {reason}.")
        self.kind = kind


def not_numeric_dates(claims: dict[str, Any]) -> list[str]:
    """The NumericDate claims present that are not JSON numbers (a bool is not; JSON has no NaN or infinity)."""
    return [
        name
        for name in NUMERIC_DATE_CLAIMS
        if name in claims
        and (isinstance(claims[name], bool) or not isinstance(claims[name], (int, float)) or not isfinite(claims[name]))
    ]


def refusal_kind(error: JOSEError) -> str:
    """python-jose's refusal as a coarse class: expired, claims (iss, aud, nbf, iat, ...) or signature."""
    if isinstance(error, ExpiredSignatureError):
        return "expired"
    if isinstance(error, JWTClaimsError):
        return "claims"
    return "signature"


class TokenVerifier:
    def __init__(self, settings: Settings, metrics: ServiceMetrics | None = None) -> None:
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
                metrics=metrics,
            )
            if settings.jwks_url
            else None
        )
        self.verified = VerifiedTokens()
        self.metrics = metrics
        if metrics is not None:
            # On every request: tallied, written once a second (decision 0063). Refusals are written as they come.
            self._accepted = metrics.count_tally(metrics.token_verifications.labels("accepted", ""))
            self._cache_hit = metrics.count_tally(metrics.token_verifications.labels("cache_hit", ""))

    async def subject(self, token: str) -> str:
        """The verified token's `sub`; raises Unauthorized for anything short of a valid token."""
        if self.metrics is None:
            return (await self._subject(token))[0]
        try:
            subject, remembered = await self._subject(token)
        except InvalidToken as refused:
            self.metrics.token_verifications.labels("refused", refused.kind).inc()
            raise
        except JwksUnavailable:
            self.metrics.token_verifications.labels("keys_unavailable", "").inc()
            raise
        (self._cache_hit if remembered else self._accepted).inc()
        return subject

    async def _subject(self, token: str) -> tuple[str, bool]:
        """The verified token's `sub`, and whether it was remembered from an earlier verification."""
        if not compact_jws.well_formed(token):
            raise InvalidToken("not a compact JWS in base64url", "malformed")
        # Only canonical texts are ever remembered, so a text found here is canonical (decision 0025).
        if (known := self.verified.subject(token)) is not None:
            return known, True
        # python-jose's base64 decoding would accept junk, padding and `+`/`/` in the same token.
        if not compact_jws.canonical(token):
            raise InvalidToken("not in canonical base64url", "malformed")
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError:
            raise InvalidToken("malformed", "malformed") from None
        if any(name in header for name in FORBIDDEN_HEADERS):
            raise InvalidToken("embedded or remote keys are not accepted", "header")
        if CRITICAL_HEADER in header:
            raise InvalidToken("critical header extensions are not supported", "header")
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
            raise InvalidToken(str(error).rstrip(".").lower() or "rejected", refusal_kind(error)) from None
        except MALFORMED_CLAIMS_ERRORS:
            raise InvalidToken("malformed claims", "malformed") from None
        if not_numbers := not_numeric_dates(claims):
            raise InvalidToken(f"{', '.join(not_numbers)} must be a number", "malformed")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("no subject", "claims")
        self.verified.remember(token, subject, expires_at=int(claims["exp"]))
        return subject, False

    async def _key_for(self, header: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
        if self.secret is not None:
            return self.secret, SHARED_SECRET_ALGORITHMS
        assert self.jwks is not None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid.strip() or len(kid) > MAX_KID_LENGTH:
            raise InvalidToken("no usable key id", "key")
        if header.get("alg") not in JWKS_ALGORITHMS:
            raise InvalidToken("unsupported algorithm", "key")
        jwk = await self.jwks.key(kid)
        if jwk is None:
            raise InvalidToken("unknown key id", "key")
        algorithm = KEY_ALGORITHM_BY_TYPE.get((jwk.get("kty"), jwk.get("crv")))
        if algorithm not in JWKS_ALGORITHMS or jwk.get("alg", algorithm) != algorithm:
            raise InvalidToken("the signing key's algorithm is not accepted", "key")
        return jwk, (algorithm,)
