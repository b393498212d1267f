"""Service configuration, read from environment variables (see .env.example)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from functools import lru_cache
from typing import Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from impl.db.url import asyncpg_url

PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "your-secret-here", "your-secret-key", "development"}
)
MIN_SECRET_BYTES = 32
# A random secret of 32+ characters has far more; "changeme" * 4 or "a" * 40 have fewer.
MIN_DISTINCT_CHARACTERS = 12
# RFC 1123 labels: letters, digits and inner hyphens, dot-separated.
HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")
RENAMED = {
    "DB_POOL_SIZE": "use DB_POOL_MIN_SIZE (connections kept open; default 0) and DB_POOL_MAX_SIZE",
    "DB_MAX_OVERFLOW": "DB_POOL_MAX_SIZE is now the whole per-process limit (it was DB_POOL_SIZE + DB_MAX_OVERFLOW)",
}


class Settings(BaseSettings):
    # Only the process environment: `make run` loads a .env file into it, tests and deployments do not.
    # Errors never echo the input: DATABASE_URL carries a password.
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", hide_input_in_errors=True)

    # The URL the service serves from; Neon's DATABASE_URL is its pooled (-pooler) one.
    database_url: str | None = None
    # The direct URL migrations run over when set (Neon's integrations set it beside DATABASE_URL).
    database_url_unpooled: str | None = None
    # DATABASE_URL goes through a transaction-mode pooler (PgBouncer, Supavisor, RDS Proxy...): no
    # prepared-statement cache, and migrations refuse it. Unset: true for a host with "-pooler" (Neon's).
    database_transaction_pooler: bool | None = None
    # asyncpg.create_pool's min_size and max_size, per process (decision 0030: processes x max <= budget).
    db_pool_min_size: int = Field(default=0, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    # How many processes share the budget: uvicorn's WEB_CONCURRENCY unless said otherwise.
    db_expected_processes: int | None = Field(default=None, ge=1)
    web_concurrency: int = Field(default=1, ge=1)
    db_pool_timeout: float = 5.0
    db_pool_idle_seconds: float = 300.0
    db_connect_timeout: float = 5.0
    db_command_timeout: float = 10.0

    # Seconds a successful query (any request's) keeps /readyz ready without querying; 0: every probe queries.
    readiness_db_check_seconds: float = Field(default=0.0, ge=0)

    max_body_bytes: int = 65536

    # Slow clients (decision 0040): seconds a request's head may take from its first byte (or from the
    # connection, or the previous response), seconds its body may take after its head; the most open
    # connections per process (past it a new one is answered 503 and closed).
    http_head_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    http_max_connections: int = Field(default=1000, ge=1)

    # The port `tasks-api serve` serves Prometheus metrics on, beside the API's; unset: no metrics (decision 0036).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # The address it binds, whatever the API's is: loopback unless a scraper elsewhere needs it (decision 0043).
    metrics_host: str = "127.0.0.1"

    # Quotas (decision 0027): the most tasks one user may have, the most unexpired Idempotency-Keys one
    # user may hold, and the seconds between each process's purges of every user's expired keys.
    max_tasks_per_user: int = Field(default=100_000, ge=1, le=2**31 - 1)
    max_idempotency_keys_per_user: int = Field(default=10_000, ge=1, le=2**31 - 1)
    idempotency_purge_interval_seconds: float = Field(default=600.0, gt=0)

    jwt_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("JWT_SECRET", "BETTER_AUTH_SECRET")
    )
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwks_timeout: float = 3.0
    jwks_cache_seconds: float = 300.0
    jwks_refetch_interval: float = 10.0

    # Swagger UI at /docs and its assets (decision 0043); the contract itself (/openapi.yaml, .json) is always served.
    docs_enabled: bool = True

    # Browser origins allowed to call the API, comma-separated (scheme://host[:port]); none: no CORS.
    cors_origins: str = ""

    @field_validator("database_url", "database_url_unpooled")
    @classmethod
    def usable_database_url(cls, url: str | None) -> str | None:
        """Refuse at start what the pool or Alembic would drop or fail on at first connection (decision 0028)."""
        if url:
            asyncpg_url(url)
        return url

    @field_validator("metrics_host")
    @classmethod
    def bindable_address(cls, host: str) -> str:
        """An IP address or a host name: a port, a scheme or a space here is a mistake caught at start."""
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(host))
        if not HOST_NAME.fullmatch(host):
            raise ValueError(f"{host!r} is not an IP address or host name to bind, e.g. 127.0.0.1 or 0.0.0.0")
        return host

    @model_validator(mode="before")
    @classmethod
    def no_renamed_settings(cls, data: object) -> object:
        """Settings renamed in issue 12 stop the service rather than being ignored (they sized the pool)."""
        given = [old for old in RENAMED if os.environ.get(old) or (isinstance(data, dict) and old.lower() in data)]
        if given:
            raise ValueError(
                "; ".join(f"{old} is no longer read: {RENAMED[old]}" for old in given)
                + " (decision 0030: processes x DB_POOL_MAX_SIZE must fit the database's max_connections)"
            )
        return data

    @model_validator(mode="after")
    def pool_bounds(self) -> Self:
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError(
                f"DB_POOL_MIN_SIZE ({self.db_pool_min_size}) exceeds DB_POOL_MAX_SIZE ({self.db_pool_max_size})"
            )
        return self

    @model_validator(mode="after")
    def one_auth_mode(self) -> Self:
        if (self.jwt_secret is None) == (self.jwks_url is None):
            raise ValueError("configure exactly one of JWT_SECRET (or BETTER_AUTH_SECRET) and JWKS_URL")
        if self.jwks_url is not None and (self.jwt_issuer is None or self.jwt_audience is None):
            # An issuer signs tokens for other audiences too; only ours may pass (decision 0025).
            raise ValueError(
                "JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE: Better Auth's JWT plugin sets both to its base URL"
                " (BETTER_AUTH_URL, e.g. https://app.example.com) unless configured otherwise"
            )
        if self.jwt_secret is not None:
            secret = self.jwt_secret.get_secret_value().strip()
            if (
                len(secret.encode()) < MIN_SECRET_BYTES
                or len(set(secret)) < MIN_DISTINCT_CHARACTERS
                or any(placeholder in secret.lower() for placeholder in PLACEHOLDER_SECRETS)
            ):
                raise ValueError(f"JWT_SECRET must be a random value of at least {MIN_SECRET_BYTES} bytes")
        return self

    @model_validator(mode="after")
    def explicit_cors_origins(self) -> Self:
        for origin in self.cors_origin_list:
            parts = urlsplit(origin)
            if "*" in origin or parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
                raise ValueError(f"CORS_ORIGINS: {origin!r} is not an origin like https://app.example.com (no *)")
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def processes(self) -> int:
        """Processes expected to open pools against the database at once (this one included)."""
        return self.db_expected_processes or self.web_concurrency

    @property
    def shared_secret_mode(self) -> bool:
        return self.jwt_secret is not None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
