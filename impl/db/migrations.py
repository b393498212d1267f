"""Alembic migrations from code: upgrade (or downgrade) under an advisory lock, and the code's head revision."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from impl.db.url import asyncpg_url, configured_migration_url, migration_url, transaction_pooler_setting

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"
# The same on every instance and every `tasks-api migrate`: the bytes of "tasksmig". Session-level, so it
# is held across the transactions Alembic runs.
MIGRATION_LOCK_KEY = int.from_bytes(b"tasksmig", "big")


@dataclass(frozen=True)
class Migrated:
    """What one migration run found and left: revisions in the database before and after."""

    before: str | None
    after: str | None


def alembic_config(connection: Connection | None = None, database_url: str | None = None) -> Config:
    """alembic.ini's settings; alembic/env.py migrates over `connection` when given, else over `database_url`."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logging"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


@lru_cache(maxsize=1)
def code_head() -> str:
    """The revision the code's migrations end at (one linear history, so one head)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found under {ROOT / 'alembic'}")
    return head


def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def upgrade(database_url: str | None = None, revision: str = "head") -> Migrated:
    """Upgrade over the direct URL (DATABASE_URL_UNPOOLED, else DATABASE_URL; decision 0030), one runner at a time."""
    return asyncio.run(run_locked(direct_url(database_url), revision, downgrade=False))


def downgrade(database_url: str | None = None, revision: str = "base") -> Migrated:
    return asyncio.run(run_locked(direct_url(database_url), revision, downgrade=True))


def direct_url(database_url: str | None) -> str:
    if database_url is None:
        return configured_migration_url()
    return migration_url(database_url, None, transaction_pooler_setting())


async def run_locked(database_url: str, revision: str, *, downgrade: bool) -> Migrated:
    """Migrate while holding the migration lock, so that several runners at once migrate once.

    Those that waited find the schema at the revision already and do nothing.
    """
    url, connect_args = asyncpg_url(database_url)
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await conn.commit()
            # No unlock: closing the connection (NullPool closes it for real) releases the lock, also after
            # an error that left the connection unusable.
            return await conn.run_sync(migrate_on, revision, downgrade)
    finally:
        await engine.dispose()


def migrate_on(connection: Connection, revision: str, downgrade: bool) -> Migrated:
    before = MigrationContext.configure(connection).get_current_revision()
    connection.commit()  # reading the version began a transaction; Alembic begins its own
    config = alembic_config(connection)
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)
    after = MigrationContext.configure(connection).get_current_revision()
    connection.commit()
    return Migrated(before, after)
