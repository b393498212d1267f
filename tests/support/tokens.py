"""Tokens as an identity provider would mint them, and as attackers would forge them."""

from __future__ import annotations

import secrets
import time
from typing import Any

from jose import jwt

SHARED_SECRET = secrets.token_urlsafe(48)
ISSUER = "https://auth.tasks.test"
AUDIENCE = "tasks-api"
# Audiences that leave this service out: a token for any of them was minted for some other service.
OTHER_AUDIENCES: dict[str, Any] = {
    "another-api": "another-api",
    "a-list-without-us": ["another-api", ISSUER],
    "an-empty-list": [],
}


def claims_for(sub: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE}
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def shared_secret_token(sub: str, *, secret: str = SHARED_SECRET, **overrides: Any) -> str:
    return jwt.encode(claims_for(sub, **overrides), secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
