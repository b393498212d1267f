"""Better Auth as a Next.js app runs it with the JWT plugin and `jwks.keyPairConfig.alg: "ES256"`.

Keys are published at `{base}/api/auth/jwks` as `{"keys": [{"kid", "kty": "EC", "crv", "x", "y"}]}` (no
`alg`); tokens have the header `{"alg": "ES256", "kid"}`, the session's user in the payload, `sub` the
user id, `iss` and `aud` the app's base URL, and expire 15 minutes after `iat`.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from tests.support.jwks import JwksServer, SigningKey

TOKEN_SECONDS = 15 * 60


def better_auth_user_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


@dataclass
class BetterAuth:
    key: SigningKey = field(default_factory=SigningKey.ec)

    def __post_init__(self) -> None:
        self.jwks = JwksServer([self.key])
        self.base_url = self.jwks.url_for("")

    def stop(self) -> None:
        self.jwks.stop()

    def service_env(self) -> dict[str, str]:
        """How docs/frontend.md tells to configure the service for this app."""
        return {
            "JWT_SECRET": "",
            "BETTER_AUTH_SECRET": "",
            "JWKS_URL": f"{self.base_url}/api/auth/jwks",
            "JWT_ISSUER": self.base_url,
            "JWT_AUDIENCE": self.base_url,
        }

    def token(self, user_id: str, **overrides: Any) -> str:
        now = int(time.time())
        user = {
            "id": user_id,
            "name": "Alice Example",
            "email": "alice@example.com",
            "emailVerified": True,
            "image": None,
            "createdAt": "2026-11-01T08:00:00.000Z",
            "updatedAt": "2026-11-01T08:00:00.000Z",
        }
        claims = {**user, "iat": now, "iss": self.base_url, "aud": self.base_url, "sub": user_id}
        claims["exp"] = now + TOKEN_SECONDS
        claims.update(overrides)
        return self.key.token(claims, typ=None)
