"""Any PostgreSQL URL works as given, Neon's included."""

from __future__ import annotations

import ssl

from impl.database import asyncpg_url, behind_transaction_pooler, create_engine, engine_arguments
from impl.settings import Settings
from tests.support.tokens import SHARED_SECRET

NEON_POOLED = (
    "postgresql://app:secret@ep-cool-lake-123456-pooler.eu-central-1.aws.neon.tech/tasks"
    "?sslmode=require&channel_binding=require"
)
NEON_DIRECT = NEON_POOLED.replace("-pooler", "")


def test_libpq_urls_are_driven_by_asyncpg() -> None:
    url, _ = asyncpg_url("postgres://app:secret@db.example/tasks")
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.database, url.username) == ("db.example", "tasks", "app")


def test_sslmode_require_becomes_a_tls_context_and_libpq_only_options_are_dropped() -> None:
    url, connect_args = asyncpg_url(NEON_POOLED)
    assert isinstance(connect_args["ssl"], ssl.SSLContext)
    assert "sslmode" not in url.query
    assert "channel_binding" not in url.query


def test_a_url_without_sslmode_has_no_tls_arguments() -> None:
    _, connect_args = asyncpg_url("postgresql+asyncpg://postgres@/tasks?host=/tmp/pg")
    assert connect_args == {}


def test_neons_pooled_host_turns_both_statement_caches_off() -> None:
    url, arguments = engine_arguments(Settings(database_url=NEON_POOLED, jwt_secret=SHARED_SECRET))
    assert behind_transaction_pooler(url)
    assert arguments["connect_args"]["statement_cache_size"] == 0
    engine = create_engine(Settings(database_url=NEON_POOLED, jwt_secret=SHARED_SECRET))
    assert engine.dialect.create_connect_args(engine.url)[1]["prepared_statement_cache_size"] == 0


def test_neons_direct_host_keeps_the_statement_caches() -> None:
    url, arguments = engine_arguments(Settings(database_url=NEON_DIRECT, jwt_secret=SHARED_SECRET))
    assert not behind_transaction_pooler(url)
    assert "statement_cache_size" not in arguments["connect_args"]
    assert "prepared_statement_cache_size" not in url.query


def test_connect_and_command_timeouts_are_bounded() -> None:
    _, arguments = engine_arguments(Settings(database_url=NEON_DIRECT, jwt_secret=SHARED_SECRET))
    assert arguments["connect_args"]["timeout"] == 5.0
    assert arguments["connect_args"]["command_timeout"] == 10.0
    assert arguments["pool_timeout"] == 5.0
    assert arguments["pool_pre_ping"] is True


def test_the_pool_is_sized_as_the_design_notes_ask() -> None:
    engine = create_engine(Settings(database_url=NEON_DIRECT, jwt_secret=SHARED_SECRET))
    assert engine.pool.size() == 20  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == 40  # type: ignore[attr-defined]
