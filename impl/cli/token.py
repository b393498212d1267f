"""`tasks-api token`: an HS256 token for a user, signed with the configured JWT_SECRET (shared-secret mode only)."""

from __future__ import annotations

import argparse
import time

from jose import jwt
from pydantic import ValidationError

from impl.cli.exit_codes import SETTINGS_INVALID, CommandFailed
from impl.cli.settings_check import one_line
from impl.settings import Settings

JWKS_MODE = "the service verifies tokens from JWKS_URL; only their issuer can mint them"


def mint(settings: Settings, user_id: str, *, minutes: float = 60) -> str:
    """A token the service configured by `settings` accepts for `user_id`, valid for `minutes`."""
    if settings.jwt_secret is None:
        raise CommandFailed(SETTINGS_INVALID, JWKS_MODE)
    now = int(time.time())
    claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + int(minutes * 60)}
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def token(args: argparse.Namespace) -> None:
    try:
        settings = Settings()
    except ValidationError as error:
        raise CommandFailed(SETTINGS_INVALID, f"invalid settings: {one_line(error)}") from None
    print(mint(settings, args.user_id, minutes=args.minutes), flush=True)
