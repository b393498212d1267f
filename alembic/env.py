"""Alembic environment: runs migrations over the service's own async engine settings."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from impl.db.postgresql_version import require_supported
from impl.db.tables import metadata
from impl.db.url import asyncpg_url, configured_migration_url, migration_url, transaction_pooler_setting

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name)


def database_url() -> str:
    """The direct URL: DATABASE_URL_UNPOOLED, else DATABASE_URL unless it goes through a transaction pooler."""
    given = config.attributes.get("database_url")
    if given:
        return migration_url(str(given), None, transaction_pooler_setting())
    return configured_migration_url()


def run_migrations_offline() -> None:
    url, _ = asyncpg_url(database_url())
    context.configure(url=url, target_metadata=metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    # Before any migration: on an older server 0004 would fail half-way with an unknown collation.
    if connection.dialect.server_version_info is not None:  # SQLAlchemy reads it on the first connect
        require_supported(connection.dialect.server_version_info)
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    url, connect_args = asyncpg_url(database_url())
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif isinstance(config.attributes.get("connection"), Connection):
    # impl.db.migrations hands over the connection that holds the migration lock.
    do_run_migrations(config.attributes["connection"])
else:
    asyncio.run(run_async_migrations())
