"""The async engine: asyncpg under SQLAlchemy, with bounded pool, connect and command timeouts."""

from __future__ import annotations

import ssl
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from impl.settings import Settings

SSL_MODES_REQUIRING_TLS = {"require", "verify-ca", "verify-full"}


def asyncpg_url(raw: str) -> tuple[URL, dict[str, Any]]:
    """Turn any PostgreSQL URL (libpq style, as Neon gives it) into an asyncpg URL and connect args."""
    url = make_url(raw)
    if url.drivername in {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}:
        url = url.set(drivername="postgresql+asyncpg")
    query = dict(url.query)
    connect_args: dict[str, Any] = {}
    sslmode = query.pop("sslmode", None) or query.pop("ssl", None)
    query.pop("channel_binding", None)
    if isinstance(sslmode, str) and sslmode in SSL_MODES_REQUIRING_TLS:
        context = ssl.create_default_context()
        if sslmode == "require":
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        connect_args["ssl"] = context
    return url.set(query=query), connect_args


def behind_transaction_pooler(url: URL) -> bool:
    """Neon's -pooler hosts are PgBouncer in transaction mode: prepared statements do not survive there."""
    return "-pooler" in (url.host or "")


def engine_arguments(settings: Settings) -> tuple[URL, dict[str, Any]]:
    """The URL and create_async_engine keyword arguments for the configured database."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (make run starts an embedded PostgreSQL and sets it)")
    url, connect_args = asyncpg_url(settings.database_url)
    connect_args |= {"timeout": settings.db_connect_timeout, "command_timeout": settings.db_command_timeout}
    dialect_args: dict[str, Any] = {}
    if behind_transaction_pooler(url):
        connect_args["statement_cache_size"] = 0
        dialect_args["prepared_statement_cache_size"] = 0
    url = url.update_query_dict({k: str(v) for k, v in dialect_args.items()})
    return url, {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
        "pool_pre_ping": True,
        "connect_args": connect_args,
    }


def create_engine(settings: Settings) -> AsyncEngine:
    url, arguments = engine_arguments(settings)
    return create_async_engine(url, **arguments)
