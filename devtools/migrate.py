"""Run Alembic migrations against a database URL (the tests' and `make run`'s way into impl.db.migrations)."""

from __future__ import annotations

from impl.db import migrations


def upgrade(database_url: str, revision: str = "head") -> None:
    migrations.upgrade(database_url, revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    migrations.downgrade(database_url, revision)
