"""Each sslmode against a real PostgreSQL that takes only TLS, with a certificate for localhost from a test CA."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from devtools import migrate
from impl.db.database import create_pool
from impl.settings import Settings
from tests.support.tls_postgres import TlsPostgres, tls_postgres
from tests.support.tokens import SHARED_SECRET


@pytest.fixture(scope="module")
def server() -> Iterator[TlsPostgres]:
    with tls_postgres() as started:
        yield started


async def encrypted(database_url: str) -> bool:
    """Connect as the service does (Settings, then its pool) and ask PostgreSQL whether the connection is TLS."""
    pool = await create_pool(Settings(database_url=database_url, jwt_secret=SHARED_SECRET))
    try:
        async with pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
    finally:
        await pool.close()


async def test_verify_full_with_the_issuing_ca_connects_to_the_host_the_certificate_names(server: TlsPostgres) -> None:
    assert await encrypted(server.url("localhost", f"sslmode=verify-full&sslrootcert={server.ca_file}"))


async def test_verify_full_refuses_a_host_the_certificate_does_not_name(server: TlsPostgres) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"not valid for '127\.0\.0\.1'"):
        await encrypted(server.url("127.0.0.1", f"sslmode=verify-full&sslrootcert={server.ca_file}"))


async def test_verify_full_refuses_a_certificate_from_another_ca(server: TlsPostgres) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        await encrypted(server.url("localhost", f"sslmode=verify-full&sslrootcert={server.other_ca_file}"))


async def test_verify_ca_checks_the_chain_but_not_the_host(server: TlsPostgres) -> None:
    assert await encrypted(server.url("127.0.0.1", f"sslmode=verify-ca&sslrootcert={server.ca_file}"))
    with pytest.raises(ssl.SSLCertVerificationError):
        await encrypted(server.url("127.0.0.1", f"sslmode=verify-ca&sslrootcert={server.other_ca_file}"))


async def test_require_without_a_root_certificate_encrypts_and_checks_nothing(
    server: TlsPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    # Neither the CA (the client has none) nor the host (127.0.0.1 is not in the certificate).
    assert await encrypted(server.url("127.0.0.1", "sslmode=require"))


async def test_require_with_a_root_certificate_verifies_the_chain_as_verify_ca_does(server: TlsPostgres) -> None:
    assert await encrypted(server.url("127.0.0.1", f"sslmode=require&sslrootcert={server.ca_file}"))
    with pytest.raises(ssl.SSLCertVerificationError):
        await encrypted(server.url("127.0.0.1", f"sslmode=require&sslrootcert={server.other_ca_file}"))


async def test_require_reads_libpqs_default_root_certificate_file(
    server: TlsPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".postgresql").mkdir()
    (tmp_path / ".postgresql" / "root.crt").write_bytes(server.other_ca_file.read_bytes())
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    with pytest.raises(ssl.SSLCertVerificationError):
        await encrypted(server.url("127.0.0.1", "sslmode=require"))


async def test_sslrootcert_system_trusts_the_ssl_librarys_cas_only(
    server: TlsPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.url("localhost", "sslmode=verify-full&sslrootcert=system")
    with pytest.raises(ssl.SSLCertVerificationError):  # the test CA is no system CA
        await encrypted(url)
    # OpenSSL's own variables name the system store (libpq documents the same).
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    assert await encrypted(url)


async def test_application_name_and_options_reach_the_server(server: TlsPostgres) -> None:
    query = f"sslmode=verify-full&sslrootcert={server.ca_file}&application_name=tasks-api&options=-c%20work_mem%3D5MB"
    pool = await create_pool(Settings(database_url=server.url("localhost", query), jwt_secret=SHARED_SECRET))
    try:
        assert await pool.fetchval("SELECT current_setting('application_name')") == "tasks-api"
        assert await pool.fetchval("SELECT current_setting('work_mem')") == "5MB"
    finally:
        await pool.close()


async def test_disable_is_refused_by_a_server_that_takes_only_tls(server: TlsPostgres) -> None:
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await encrypted(server.url("127.0.0.1", "sslmode=disable"))


def test_migrations_run_over_verify_full(server: TlsPostgres) -> None:
    # application_name too: main handed it to asyncpg.connect() as an unknown keyword from Alembic.
    url = server.url("localhost", f"sslmode=verify-full&sslrootcert={server.ca_file}&application_name=migrations")
    migrate.upgrade(url)

    async def tables() -> set[str]:
        pool = await create_pool(Settings(database_url=url, jwt_secret=SHARED_SECRET))
        try:
            rows = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {row["tablename"] for row in rows}
        finally:
            await pool.close()

    assert {"users", "tasks", "idempotency_keys", "service_keys", "alembic_version"} <= asyncio.run(tables())


def test_migrations_refuse_a_certificate_from_another_ca(server: TlsPostgres) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        migrate.upgrade(server.url("localhost", f"sslmode=verify-full&sslrootcert={server.other_ca_file}"))
