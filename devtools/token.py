"""Mint a development token: `python -m devtools.token USER_ID [--minutes N]` (shared-secret mode only)."""

from __future__ import annotations

import argparse
import sys
import time

from dotenv import load_dotenv
from jose import jwt

from devtools.dev_secret import ensure_shared_secret_env
from impl.settings import Settings


def mint(settings: Settings, user_id: str, *, minutes: float = 60) -> str:
    if settings.jwt_secret is None:
        raise SystemExit("Refused: the service verifies tokens from JWKS_URL; only the issuer can mint them.")
    now = int(time.time())
    claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + int(minutes * 60)}
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("user_id")
    parser.add_argument("--minutes", type=float, default=60)
    args = parser.parse_args(argv)
    load_dotenv()
    ensure_shared_secret_env()
    sys.stdout.write(mint(Settings(), args.user_id, minutes=args.minutes) + "\n")


if __name__ == "__main__":
    main()
