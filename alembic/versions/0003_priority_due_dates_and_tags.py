"""Task priority, due date and tags, with the indexes that sort and filter by them.

Existing tasks get the defaults: priority medium, no due date, no tags. Adding a column with a
constant default does not rewrite the table (PostgreSQL 11+), so only the index builds scale with it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Declared low to high: the enum's order is the sort order.
priority = postgresql.ENUM("low", "medium", "high", name="task_priority", create_type=False)


def upgrade() -> None:
    priority.create(op.get_bind())
    op.add_column("tasks", sa.Column("priority", priority, server_default=sa.text("'medium'"), nullable=False))
    op.add_column("tasks", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "tasks", sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False)
    )
    op.create_index("ix_tasks_user_completed_priority", "tasks", ["user_id", "completed", "priority", "id"])
    op.create_index("ix_tasks_user_completed_due", "tasks", ["user_id", "completed", "due_at", "id"])
    op.create_index(
        "ix_tasks_user_completed_due_desc",
        "tasks",
        ["user_id", "completed", sa.literal_column("due_at DESC NULLS LAST"), sa.literal_column("id DESC")],
    )
    op.create_index("ix_tasks_tags", "tasks", ["tags"], postgresql_using="gin")


def downgrade() -> None:
    for name in ("ix_tasks_tags", "ix_tasks_user_completed_due_desc", "ix_tasks_user_completed_due"):
        op.drop_index(name, table_name="tasks")
    op.drop_index("ix_tasks_user_completed_priority", table_name="tasks")
    for column in ("tags", "due_at", "priority"):
        op.drop_column("tasks", column)
    priority.drop(op.get_bind())
