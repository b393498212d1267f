"""Any PostgreSQL URL works as libpq would take it, Neon's included; what cannot be honoured refuses to start."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from devtools import migrate
from impl.db.database import Database, pool_arguments, uses_transaction_pooler
from impl.db.url import DatabaseUrlError, asyncpg_url, migration_url
from impl.settings import Settings
from tests.support.tls_postgres import issue
from tests.support.tokens import SHARED_SECRET

NEON_HOST = "ep-cool-lake-123456-pooler.eu-central-1.aws.neon.tech"
# As docs/neon.md recommends it: the server's certificate and host name checked against the system's CAs.
NEON_POOLED = f"postgresql://app:secret@{NEON_HOST}/tasks?sslmode=verify-full&sslrootcert=system"
NEON_DIRECT = NEON_POOLED.replace("-pooler", "")
# As Neon's console hands it out.
NEON_CONSOLE = f"postgresql://app:secret@{NEON_HOST}/tasks?sslmode=require&channel_binding=require"
DATABASE = "postgresql://app:secret@db.example/tasks"


def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jwt_secret=SHARED_SECRET)


def refusal(database_url: str) -> str:
    """The message the service (Settings) refuses to start with."""
    with pytest.raises(ValidationError) as refused:
        settings(database_url)
    return str(refused.value)


def tls_argument(database_url: str) -> ssl.SSLContext:
    _, connect_args = asyncpg_url(database_url)
    context = connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    return context


def test_libpq_urls_are_driven_by_asyncpg() -> None:
    url, _ = asyncpg_url("postgres://app:secret@db.example/tasks")
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.database, url.username) == ("db.example", "tasks", "app")


def test_the_recommended_neon_url_checks_the_certificate_and_the_host_against_the_systems_cas() -> None:
    url, connect_args = asyncpg_url(NEON_POOLED)
    context = connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert dict(url.query) == {}


def test_a_url_without_sslmode_leaves_tls_to_asyncpgs_default_prefer() -> None:
    _, connect_args = asyncpg_url("postgresql+asyncpg://postgres@/tasks?host=/tmp/pg")
    assert connect_args == {}


@pytest.mark.parametrize("sslmode", ["disable", "allow", "prefer"])
def test_modes_that_check_no_certificate_are_handed_to_asyncpg_by_name(sslmode: str) -> None:
    # asyncpg implements these as libpq does; today's main dropped them (disable still tried TLS).
    _, connect_args = asyncpg_url(f"{DATABASE}?sslmode={sslmode}")
    assert connect_args == {"ssl": sslmode}


def test_require_without_a_root_certificate_encrypts_but_checks_neither_certificate_nor_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql/root.crt
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    context = tls_argument(f"{DATABASE}?sslmode=require")
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)


def test_ssl_is_read_as_sslmode_as_sqlalchemys_asyncpg_docs_spell_it() -> None:
    context = tls_argument(f"{DATABASE}?ssl=verify-full&sslrootcert=system")
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_sslrootcert_system_alone_means_verify_full_as_in_libpq_16() -> None:
    context = tls_argument(f"{DATABASE}?sslrootcert=system")
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_channel_binding_require_refuses_to_start_and_says_what_to_remove() -> None:
    message = refusal(NEON_CONSOLE)
    assert "asyncpg never does SCRAM channel binding" in message
    assert "Remove channel_binding=require" in message
    assert "sslmode=verify-full&sslrootcert=system is what authenticates the server" in message


@pytest.mark.parametrize("channel_binding", ["disable", "prefer"])
def test_channel_binding_disable_and_prefer_are_accepted(channel_binding: str) -> None:
    settings(f"{NEON_POOLED}&channel_binding={channel_binding}")


@pytest.mark.parametrize("channel_binding", ["required", "true"])
def test_an_unknown_channel_binding_refuses_to_start(channel_binding: str) -> None:
    assert f"channel_binding={channel_binding} is not one of disable, prefer" in refusal(
        f"{NEON_POOLED}&channel_binding={channel_binding}"
    )


@pytest.mark.parametrize("sslmode", ["verify_full", "Require", "true", "on"])
def test_an_unknown_sslmode_refuses_to_start(sslmode: str) -> None:
    message = refusal(f"{DATABASE}?sslmode={sslmode}")
    assert f"sslmode={sslmode} is not one of disable, allow, prefer, require, verify-ca, verify-full" in message


def test_sslmode_and_ssl_that_disagree_refuse_to_start() -> None:
    assert "sslmode=require and ssl=disable disagree" in refusal(f"{DATABASE}?sslmode=require&ssl=disable")


@pytest.mark.parametrize("sslmode", ["verify-ca", "verify-full"])
def test_verification_without_a_root_certificate_refuses_to_start(
    sslmode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    message = refusal(f"{DATABASE}?sslmode={sslmode}")
    assert f"sslmode={sslmode} needs the CA that issued the server's certificate" in message
    assert "sslrootcert=system" in message


@pytest.mark.parametrize("sslmode", ["require", "verify-ca"])
def test_sslrootcert_system_with_a_weaker_sslmode_refuses_to_start_as_in_libpq_16(sslmode: str) -> None:
    assert f"sslrootcert=system needs sslmode=verify-full, not {sslmode}" in refusal(
        f"{DATABASE}?sslmode={sslmode}&sslrootcert=system"
    )


@pytest.mark.parametrize("query", ["sslrootcert=/ca.pem", "sslmode=prefer&sslcert=/c.pem", "sslmode=disable&sslkey=/k"])
def test_certificates_with_a_mode_that_checks_none_refuse_to_start(query: str) -> None:
    assert "needs sslmode=verify-full (or verify-ca, require)" in refusal(f"{DATABASE}?{query}")


def test_an_unreadable_sslrootcert_refuses_to_start(tmp_path: Path) -> None:
    missing, garbage = tmp_path / "missing.pem", tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    assert f"sslrootcert={missing} cannot be used" in refusal(f"{DATABASE}?sslmode=verify-full&sslrootcert={missing}")
    assert f"sslrootcert={garbage} cannot be used" in refusal(f"{DATABASE}?sslmode=verify-full&sslrootcert={garbage}")


def test_a_client_certificate_is_loaded_and_an_unreadable_one_refuses_to_start(tmp_path: Path) -> None:
    client = issue("app", issue("client CA"))
    (tmp_path / "client.crt").write_bytes(client.cert_pem())
    (tmp_path / "client.key").write_bytes(client.key_pem())
    settings(f"{DATABASE}?sslmode=require&sslcert={tmp_path / 'client.crt'}&sslkey={tmp_path / 'client.key'}")
    message = refusal(f"{DATABASE}?sslmode=require&sslcert={tmp_path / 'client.key'}&sslkey={tmp_path / 'none'}")
    assert "sslcert/sslkey=" in message
    assert "cannot be used" in message


def test_sslkey_without_sslcert_refuses_to_start() -> None:
    assert "sslkey needs sslcert" in refusal(f"{DATABASE}?sslmode=require&sslkey=/k.pem")


def test_a_parameter_asyncpg_would_send_as_a_server_setting_refuses_to_start() -> None:
    message = refusal(f"{DATABASE}?sslmode=require&connect_timeout=10")
    assert "the parameter connect_timeout is not supported (set DB_CONNECT_TIMEOUT instead)" in message
    assert "the parameter target_sesion_attrs is not supported; remove it" in refusal(
        f"{DATABASE}?target_sesion_attrs=any"
    )


def test_application_name_and_options_reach_postgresql_alike_from_the_pool_and_from_alembic() -> None:
    url, connect_args = asyncpg_url(f"{DATABASE}?application_name=tasks-api&options=endpoint%3Dep-cool-lake&host=h")
    assert connect_args == {"server_settings": {"application_name": "tasks-api", "options": "endpoint=ep-cool-lake"}}
    assert dict(url.query) == {"host": "h"}


def test_a_parameter_given_twice_refuses_to_start() -> None:
    assert "sslmode is given 2 times; give it once" in refusal(f"{DATABASE}?sslmode=verify-full&sslmode=disable")


def test_a_value_that_is_no_url_refuses_to_start() -> None:
    assert "DATABASE_URL is not a URL like postgresql://" in refusal("ep-cool-lake.neon.tech:5432")


def test_a_refusal_never_shows_the_password() -> None:
    assert "secret" not in refusal(NEON_CONSOLE)
    assert "secret" not in refusal("postgresql://app:secret@h/db?sslmode=nope")


def test_migrations_refuse_a_url_with_the_same_message() -> None:
    with pytest.raises(DatabaseUrlError, match="Remove channel_binding=require"):
        migrate.upgrade(NEON_CONSOLE)


def test_neons_pooled_host_turns_the_statement_cache_off() -> None:
    _, arguments = pool_arguments(settings(NEON_POOLED))
    assert uses_transaction_pooler(settings(NEON_POOLED))
    assert arguments["statement_cache_size"] == 0


def test_neons_direct_host_keeps_the_statement_cache() -> None:
    _, arguments = pool_arguments(settings(NEON_DIRECT))
    assert not uses_transaction_pooler(settings(NEON_DIRECT))
    assert "statement_cache_size" not in arguments


@pytest.mark.parametrize("url", [NEON_DIRECT, DATABASE])
def test_database_transaction_pooler_turns_the_statement_cache_off_for_any_host(url: str) -> None:
    # Supavisor, RDS Proxy or a PgBouncer of one's own carry no -pooler in their names.
    configured = Settings(database_url=url, jwt_secret=SHARED_SECRET, database_transaction_pooler=True)
    assert pool_arguments(configured)[1]["statement_cache_size"] == 0


def test_database_transaction_pooler_false_overrides_the_host_name_guess() -> None:
    configured = Settings(database_url=NEON_POOLED, jwt_secret=SHARED_SECRET, database_transaction_pooler=False)
    assert "statement_cache_size" not in pool_arguments(configured)[1]


def test_the_dsn_is_one_asyncpg_parses_with_the_password_kept() -> None:
    dsn, _ = pool_arguments(settings(NEON_DIRECT))
    assert dsn == "postgresql://app:secret@ep-cool-lake-123456.eu-central-1.aws.neon.tech/tasks"


def test_connect_command_and_acquire_timeouts_are_bounded() -> None:
    _, arguments = pool_arguments(settings(NEON_DIRECT))
    assert arguments["timeout"] == 5.0
    assert arguments["command_timeout"] == 10.0
    assert Database(settings(NEON_DIRECT)).acquire_timeout == 5.0


def test_the_pool_opens_connections_on_demand_up_to_db_pool_max_size() -> None:
    _, arguments = pool_arguments(settings(NEON_DIRECT))
    assert (arguments["min_size"], arguments["max_size"]) == (0, 10)
    assert arguments["max_inactive_connection_lifetime"] == 300.0


def test_the_pool_takes_asyncpgs_min_and_max_sizes_by_their_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_MIN_SIZE", "2")
    monkeypatch.setenv("DB_POOL_MAX_SIZE", "25")
    _, arguments = pool_arguments(settings(NEON_DIRECT))
    assert (arguments["min_size"], arguments["max_size"]) == (2, 25)


@pytest.mark.parametrize(
    ("old", "new"), [("DB_POOL_SIZE", "DB_POOL_MIN_SIZE"), ("DB_MAX_OVERFLOW", "DB_POOL_MAX_SIZE")]
)
def test_the_old_pool_size_names_refuse_to_start_naming_the_new_ones(
    old: str, new: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(old, "20")
    message = refusal(NEON_DIRECT)
    assert f"{old} is no longer read" in message
    assert new in message


def test_a_min_size_above_the_max_size_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_MIN_SIZE", "11")
    assert "DB_POOL_MIN_SIZE (11) exceeds DB_POOL_MAX_SIZE (10)" in refusal(NEON_DIRECT)


def test_migrations_prefer_database_url_unpooled() -> None:
    assert migration_url(NEON_POOLED, NEON_DIRECT, None) == NEON_DIRECT


def test_migrations_over_a_direct_database_url_need_no_unpooled_url() -> None:
    assert migration_url(NEON_DIRECT, None, None) == NEON_DIRECT


@pytest.mark.parametrize(
    ("url", "pooler", "why"),
    [
        (NEON_POOLED, None, "its host is a -pooler host"),
        (DATABASE, True, "DATABASE_TRANSACTION_POOLER is true"),
    ],
)
def test_migrations_refuse_a_pooled_database_url_without_an_unpooled_one(
    url: str, pooler: bool | None, why: str
) -> None:
    with pytest.raises(DatabaseUrlError) as refused:
        migration_url(url, None, pooler)
    assert why in str(refused.value)
    assert "Set DATABASE_URL_UNPOOLED to the direct URL" in str(refused.value)
    assert "secret" not in str(refused.value)


def test_migrations_through_a_pooler_said_not_to_be_one_are_allowed() -> None:
    assert migration_url(NEON_POOLED, None, False) == NEON_POOLED
