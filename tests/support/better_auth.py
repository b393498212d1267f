"""The real Better Auth (better-auth/: the server the image ships, better-auth pinned in its package-lock.json),
as a Node process on a loopback port with its memory store (BETTER_AUTH_STORE=memory): email and password,
and the JWT plugin. tests/deploy/test_better_auth_image.py runs the same server on PostgreSQL, as its image does.

Users sign up through its HTTP API (`POST /api/auth/sign-up/email`, which sets the session cookie) and
take their token from `GET /api/auth/token`, as a frontend's `authClient.token()` does; its keys are at
`/api/auth/jwks`. Its store lives in the process: a restart starts with no users and no keys.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devtools.live_server import ROOT, free_port, stop_process, wait_until_answering
from tests.support.environments import jwks_env
from tests.support.node import npm_ci

BETTER_AUTH_SERVER = "better-auth"
SERVER = ROOT / BETTER_AUTH_SERVER
DEFAULT_TOKEN_SECONDS = 15 * 60  # the JWT plugin's jwt.expirationTime default, "15m"
PASSWORD = "correct horse battery staple"


@dataclass
class BetterAuthUser:
    """A signed-up user: their Better Auth id, and an HTTP client holding their session cookie."""

    id: str
    email: str
    session: httpx.Client

    def token(self) -> str:
        """A fresh JWT for this user from `GET /api/auth/token` (what `authClient.token()` calls)."""
        response = self.session.get("/api/auth/token")
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token


class BetterAuth:
    """One Better Auth app. `alg` is `jwks.keyPairConfig.alg` (None: the plugin's default, EdDSA); the other
    options are the plugin's `jwks.rotationInterval` (seconds) and `jwt.expirationTime`, and Better Auth's
    `advanced.database.generateId` ("uuid" or "serial"); None leaves Better Auth's default."""

    def __init__(
        self,
        *,
        log_path: Path,
        alg: str | None = None,
        rotation_seconds: int | None = None,
        token_expiry: str | None = None,
        id_strategy: str | None = None,
    ) -> None:
        npm_ci(BETTER_AUTH_SERVER)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        settings = {
            "BETTER_AUTH_STORE": "memory",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "BETTER_AUTH_URL": self.base_url,
            "BETTER_AUTH_SECRET": secrets.token_urlsafe(32),
            "BETTER_AUTH_TELEMETRY": "0",
            "BETTER_AUTH_JWT_ALG": alg,
            "BETTER_AUTH_JWKS_ROTATION_SECONDS": None if rotation_seconds is None else str(rotation_seconds),
            "BETTER_AUTH_JWT_EXPIRATION": token_expiry,
            "BETTER_AUTH_ID_STRATEGY": id_strategy,
        }
        self.env = {
            **{
                name: value
                for name, value in os.environ.items()
                if not name.startswith(("BETTER_AUTH_", "DATABASE_URL"))
            },
            **{name: value for name, value in settings.items() if value is not None},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        """Start the Node process (again, after stop(): same port and base URL, an empty store)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["node", "server.mjs"], cwd=SERVER, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_until_answering(self.process, f"{self.base_url}/api/auth/ok", name="Better Auth", log=self._log_text)
        except RuntimeError:
            self.stop()
            raise

    def _log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/api/auth/jwks"

    def jwks(self) -> dict[str, Any]:
        document: dict[str, Any] = httpx.get(self.jwks_url, timeout=10).json()
        return document

    def service_env(self) -> dict[str, str]:
        """The service configured as docs/frontend.md says: the JWKS URL, and the base URL as issuer and audience."""
        return jwks_env(self.jwks_url, issuer=self.base_url, audience=self.base_url)

    def sign_up(self, name: str = "Alice Example") -> BetterAuthUser:
        """A new user, signed up with email and password as a browser would (Better Auth checks Origin)."""
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        session = httpx.Client(base_url=self.base_url, headers={"Origin": self.base_url}, timeout=10)
        response = session.post("/api/auth/sign-up/email", json={"name": name, "email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return BetterAuthUser(id=str(response.json()["user"]["id"]), email=email, session=session)
