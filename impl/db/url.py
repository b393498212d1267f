"""DATABASE_URL as asyncpg connect arguments: libpq's URL, sslmode and all (decision 0028)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

LIBPQ_DRIVERS = frozenset({"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"})
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# asyncpg implements these as libpq does; none checks a certificate.
UNVERIFIED_SSL_MODES = frozenset({"disable", "allow", "prefer"})
# libpq's prefer uses channel binding only when both sides can; asyncpg cannot, so prefer is what it does.
CHANNEL_BINDINGS = ("disable", "prefer")
TLS_PARAMETERS = ("sslmode", "ssl", "sslrootcert", "sslcert", "sslkey", "channel_binding")
# asyncpg.connect() and the SQLAlchemy dialect both take these from the URL alike.
ADDRESS_PARAMETERS = ("host", "port")
# Sent in the startup packet; they reach PostgreSQL the same way from the pool and from Alembic.
SERVER_SETTING_PARAMETERS = ("application_name", "options")
SUPPORTED_PARAMETERS = TLS_PARAMETERS + ADDRESS_PARAMETERS + SERVER_SETTING_PARAMETERS
INSTEAD = {"connect_timeout": "DB_CONNECT_TIMEOUT"}
SYSTEM_ROOTS = "system"
ALPN_PROTOCOLS = ["postgresql"]


class DatabaseUrlError(ValueError):
    """DATABASE_URL asks for something this service cannot do as asked: it refuses to start."""


def asyncpg_url(raw: str) -> tuple[URL, dict[str, Any]]:
    """Any PostgreSQL URL (libpq style, as Neon gives it) as an asyncpg URL and connect arguments.

    One function for the service's pool and for Alembic's engine, so migrations and serving connect alike.
    """
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseUrlError("DATABASE_URL is not a URL like postgresql://user:password@host/dbname") from None
    if url.drivername in LIBPQ_DRIVERS:
        url = url.set(drivername="postgresql+asyncpg")
    query = single_values(url.query)
    refuse_unsupported_parameters(query)
    check_channel_binding(query.get("channel_binding"))
    connect_args: dict[str, Any] = {}
    tls = tls_argument(sslmode_of(query), query.get("sslrootcert"), query.get("sslcert"), query.get("sslkey"))
    if tls is not None:
        connect_args["ssl"] = tls
    server_settings = {name: query[name] for name in SERVER_SETTING_PARAMETERS if name in query}
    if server_settings:
        connect_args["server_settings"] = server_settings
    address = {name: value for name, value in query.items() if name in ADDRESS_PARAMETERS}
    return url.set(query=address), connect_args


def pooler_host(url: URL) -> bool:
    """Neon names its PgBouncer (transaction mode) hosts ep-...-pooler; other poolers need saying so."""
    return "-pooler" in (url.host or "")


def transaction_pooler_setting() -> bool | None:
    """DATABASE_TRANSACTION_POOLER read as Settings reads it, for Alembic, which has no Settings."""
    value = os.environ.get("DATABASE_TRANSACTION_POOLER")
    if not value:
        return None
    try:
        return TypeAdapter(bool).validate_python(value)
    except ValidationError:
        raise DatabaseUrlError(f"DATABASE_TRANSACTION_POOLER={value} is not true or false") from None


def migration_url(database_url: str | None, unpooled: str | None, transaction_pooler: bool | None) -> str:
    """The URL migrations run over: DATABASE_URL_UNPOOLED when set, else DATABASE_URL unless it is pooled.

    Refused through a transaction pooler (decision 0030): a migration may need session state (locks,
    SET, work outside a transaction) that the pooler does not keep from one transaction to the next.
    """
    if unpooled:
        return unpooled
    if not database_url:
        raise RuntimeError("DATABASE_URL is not set")
    pooled = transaction_pooler if transaction_pooler is not None else pooler_host(asyncpg_url(database_url)[0])
    if pooled:
        why = "DATABASE_TRANSACTION_POOLER is true" if transaction_pooler else "its host is a -pooler host"
        raise DatabaseUrlError(
            f"Migrations need a direct connection, and DATABASE_URL goes through a transaction pooler ({why}). "
            "Set DATABASE_URL_UNPOOLED to the direct URL (Neon: the same URL without -pooler in the host; "
            "Neon's integrations set it) and run the migrations again"
        )
    return database_url


def configured_migration_url() -> str:
    """migration_url() from the environment, as `alembic upgrade` and `make run` read it."""
    return migration_url(
        os.environ.get("DATABASE_URL"), os.environ.get("DATABASE_URL_UNPOOLED"), transaction_pooler_setting()
    )


def single_values(query: Mapping[str, str | tuple[str, ...]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in query.items():
        if not isinstance(value, str):
            raise DatabaseUrlError(f"DATABASE_URL: {name} is given {len(value)} times; give it once")
        values[name] = value
    return values


def refuse_unsupported_parameters(query: dict[str, str]) -> None:
    for name in query:
        if name not in SUPPORTED_PARAMETERS:
            instead = f" (set {INSTEAD[name]} instead)" if name in INSTEAD else ""
            raise DatabaseUrlError(
                f"DATABASE_URL: the parameter {name} is not supported{instead}; remove it. "
                f"Supported: {', '.join(SUPPORTED_PARAMETERS)}"
            )


def sslmode_of(query: dict[str, str]) -> str | None:
    # `ssl` is asyncpg's and SQLAlchemy's spelling of sslmode (SQLAlchemy's docs show ?ssl=require).
    sslmode, alias = query.get("sslmode"), query.get("ssl")
    if sslmode is not None and alias is not None and sslmode != alias:
        raise DatabaseUrlError(f"DATABASE_URL: sslmode={sslmode} and ssl={alias} disagree; give only sslmode")
    sslmode = sslmode or alias
    if sslmode is None:
        # libpq 16+: sslrootcert=system makes verify-full the default.
        return "verify-full" if query.get("sslrootcert") == SYSTEM_ROOTS else None
    if sslmode not in SSL_MODES:
        raise DatabaseUrlError(f"DATABASE_URL: sslmode={sslmode} is not one of {', '.join(SSL_MODES)}")
    return sslmode


def check_channel_binding(channel_binding: str | None) -> None:
    if channel_binding == "require":
        raise DatabaseUrlError(
            "DATABASE_URL: channel_binding=require cannot be honoured: asyncpg never does SCRAM channel "
            "binding. Remove channel_binding=require from the URL (Neon's console adds it); "
            "sslmode=verify-full&sslrootcert=system is what authenticates the server"
        )
    if channel_binding is not None and channel_binding not in CHANNEL_BINDINGS:
        raise DatabaseUrlError(
            f"DATABASE_URL: channel_binding={channel_binding} is not one of {', '.join(CHANNEL_BINDINGS)}"
        )


def tls_argument(
    sslmode: str | None, rootcert: str | None, cert: str | None, key: str | None
) -> ssl.SSLContext | str | None:
    """asyncpg's `ssl` argument with libpq's meaning of sslmode, sslrootcert, sslcert and sslkey."""
    if sslmode is None or sslmode in UNVERIFIED_SSL_MODES:
        given = [name for name, value in (("sslrootcert", rootcert), ("sslcert", cert), ("sslkey", key)) if value]
        if given:
            raise DatabaseUrlError(
                f"DATABASE_URL: {', '.join(given)} needs sslmode=verify-full (or verify-ca, require); "
                f"sslmode={sslmode or 'prefer (the default)'} checks no certificate"
            )
        return sslmode  # None: asyncpg's default, PGSSLMODE or else prefer
    rootcert = rootcert or default_root_certificate()
    if rootcert == SYSTEM_ROOTS and sslmode != "verify-full":
        raise DatabaseUrlError(
            f"DATABASE_URL: sslrootcert=system needs sslmode=verify-full, not {sslmode} (as in libpq 16+): "
            "anyone can get a publicly trusted certificate for a host they control"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ssl.HAS_ALPN:
        context.set_alpn_protocols(ALPN_PROTOCOLS)
    if rootcert == SYSTEM_ROOTS:
        load_system_roots(context)
    elif rootcert:
        load_file(context.load_verify_locations, "sslrootcert", rootcert)
    elif sslmode == "require":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        raise DatabaseUrlError(
            f"DATABASE_URL: sslmode={sslmode} needs the CA that issued the server's certificate: add "
            "sslrootcert=system (the system's trusted CAs, right for Neon) or sslrootcert=/path/to/ca.pem"
        )
    if sslmode != "verify-full":
        # require with a root certificate verifies the chain as verify-ca does (libpq's meaning).
        context.check_hostname = False
    if cert:
        load_file(lambda path: context.load_cert_chain(path, key), "sslcert/sslkey", cert)
    elif key:
        raise DatabaseUrlError("DATABASE_URL: sslkey needs sslcert (the client certificate it belongs to)")
    return context


def default_root_certificate() -> str | None:
    """libpq's (and asyncpg's) default sslrootcert: PGSSLROOTCERT, else ~/.postgresql/root.crt if it exists."""
    if os.environ.get("PGSSLROOTCERT"):
        return os.environ["PGSSLROOTCERT"]
    home_file = Path.home() / ".postgresql" / "root.crt"
    return str(home_file) if home_file.is_file() else None


def load_system_roots(context: ssl.SSLContext) -> None:
    paths = ssl.get_default_verify_paths()
    if paths.cafile is None and paths.capath is None:  # each is None unless it exists
        raise DatabaseUrlError(
            "DATABASE_URL: sslrootcert=system, but this machine has no trusted CA store "
            f"({paths.openssl_cafile} or {paths.openssl_capath}): install ca-certificates or set SSL_CERT_FILE"
        )
    context.load_default_certs()


def load_file(load: Callable[[str], object], parameter: str, path: str) -> None:
    try:
        load(path)
    except (OSError, ssl.SSLError) as error:
        raise DatabaseUrlError(f"DATABASE_URL: {parameter}={path} cannot be used: {error}") from None
