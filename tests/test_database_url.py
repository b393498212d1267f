"""Any PostgreSQL URL works as given, Neon's included."""

from __future__ import annotations

import ssl

from sqlalchemy.engine import make_url

from impl.database import Database, asyncpg_url, behind_transaction_pooler, pool_arguments
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


def test_neons_pooled_host_turns_the_statement_cache_off() -> None:
    dsn, arguments = pool_arguments(Settings(database_url=NEON_POOLED, jwt_secret=SHARED_SECRET))
    assert behind_transaction_pooler(make_url(dsn))
    assert arguments["statement_cache_size"] == 0


def test_neons_direct_host_keeps_the_statement_cache() -> None:
    dsn, arguments = pool_arguments(Settings(database_url=NEON_DIRECT, jwt_secret=SHARED_SECRET))
    assert not behind_transaction_pooler(make_url(dsn))
    assert "statement_cache_size" not in arguments


def test_the_dsn_is_one_asyncpg_parses_with_the_password_kept() -> None:
    dsn, _ = pool_arguments(Settings(database_url=NEON_DIRECT, jwt_secret=SHARED_SECRET))
    assert dsn == "postgresql://app:secret@ep-cool-lake-123456.eu-central-1.aws.neon.tech/tasks"


def test_connect_command_and_acquire_timeouts_are_bounded() -> None:
    settings = Settings(database_url=NEON_DIRECT, jwt_secret=SHARED_SECRET)
    _, arguments = pool_arguments(settings)
    assert arguments["timeout"] == 5.0
    assert arguments["command_timeout"] == 10.0
    assert Database(settings).acquire_timeout == 5.0


def test_the_pool_is_sized_as_the_design_notes_ask_and_opens_connections_on_demand() -> None:
    _, arguments = pool_arguments(Settings(database_url=NEON_DIRECT, jwt_secret=SHARED_SECRET))
    assert arguments["max_size"] == 20 + 40
    assert arguments["min_size"] == 0
    assert arguments["max_inactive_connection_lifetime"] == 300.0
