"""The schema as a migrated database holds it: its tables, and how it differs from the models."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from impl.db.tables import metadata
from impl.db.url import asyncpg_url


def run_sync(url: str, work: Any) -> Any:
    async def run() -> Any:
        database_url, connect_args = asyncpg_url(url)
        engine = create_async_engine(database_url, connect_args=connect_args)
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def schema_differences(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))
