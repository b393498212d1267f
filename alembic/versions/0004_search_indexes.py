"""Trigram indexes for searching tasks by title and description (decision 0015).

Each indexes the lower-cased text under the pg_c_utf8 collation, the same expression the search
query matches with LIKE. pg_trgm ships with PostgreSQL (and is available on Neon); downgrading leaves
the extension installed, since other schemas in the database may use it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED_COLUMNS = ("title", "description")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED_COLUMNS:
        op.create_index(
            f"ix_tasks_{column}_search",
            "tasks",
            [sa.literal_column(f"lower({column} COLLATE pg_c_utf8)").label(f"{column}_key")],
            postgresql_using="gin",
            postgresql_ops={f"{column}_key": "gin_trgm_ops"},
        )


def downgrade() -> None:
    for column in SEARCHED_COLUMNS:
        op.drop_index(f"ix_tasks_{column}_search", table_name="tasks")
