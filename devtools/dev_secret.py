"""The development signing secret: random, kept in .data/ (never committed), shared by server and token command."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = Path(__file__).resolve().parent.parent / ".data" / "dev-jwt-secret"


def ensure_shared_secret_env() -> None:
    """Without any auth configuration, use (and create once) the local development secret."""
    if any(os.environ.get(name) for name in ("JWT_SECRET", "BETTER_AUTH_SECRET", "JWKS_URL")):
        return
    if not SECRET_FILE.exists():
        SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        SECRET_FILE.write_text(secrets.token_urlsafe(48))
        SECRET_FILE.chmod(0o600)
    os.environ["JWT_SECRET"] = SECRET_FILE.read_text().strip()
