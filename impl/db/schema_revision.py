"""The service refuses a database whose schema is not at the code's head revision, behind or ahead."""

from __future__ import annotations

import asyncpg

from impl.db import migrations
from impl.db.errors import UnusableDatabase


class SchemaNotAtHead(UnusableDatabase):
    """The database's schema revision is not the one this code's migrations end at."""

    def __init__(self, message: str, *, behind: bool) -> None:
        super().__init__(message)
        self.behind = behind


async def database_revision(conn: asyncpg.Connection) -> str | None:
    """The revision Alembic recorded in the database; None for a database never migrated."""
    if await conn.fetchval("SELECT to_regclass('alembic_version') IS NULL"):
        return None
    revision: str | None = await conn.fetchval("SELECT version_num FROM alembic_version")
    return revision


def require_head(revision: str | None) -> None:
    head = migrations.code_head()
    if revision == head:
        return
    if revision is None:
        raise SchemaNotAtHead(
            f"the database has no schema (no Alembic revision); this code needs revision {head}: "
            "run `tasks-api migrate`",
            behind=True,
        )
    if revision in migrations.known_revisions():
        raise SchemaNotAtHead(
            f"the database schema is at revision {revision}, behind this code's head {head}: run `tasks-api migrate`",
            behind=True,
        )
    raise SchemaNotAtHead(
        f"the database schema is at revision {revision}, which this code does not know (its head is {head}): "
        "newer code migrated it; deploy that code, or migrate down with the code that made it",
        behind=False,
    )


class SchemaAtHead:
    """A pool's per-connection check that the schema is at head, until it once was.

    Once passed it never queries again: an instance that served keeps serving while a newer release
    migrates ahead of it (a rolling deploy). Until then every new connection asks again, so a database
    migrated while the service waited is picked up without a restart.
    """

    def __init__(self) -> None:
        migrations.code_head()  # read the migrations at start-up, not on the first request
        self.passed = False

    async def __call__(self, conn: asyncpg.Connection) -> None:
        if not self.passed:
            require_head(await database_revision(conn))
            self.passed = True
