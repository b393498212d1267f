"""Per-user task counts (the task quota), the idempotency keys' purge index, and the cursor key.

- `users.task_count`: how many tasks the user has, kept by the statements that insert and delete
  tasks, so that a create can check the quota without counting rows (decision 0027).
- `ix_idempotency_keys_created_at`: the periodic purge finds expired keys of every user through it.
- `ck_tasks_due_at_finite`: asyncpg stored Python's first and last instants as -infinity/infinity,
  which it cannot read back with a time zone (every read of such a task failed); such due dates move
  one microsecond inside the range, with a new version, and the database refuses infinities from now on.
- `service_keys`: secrets every instance shares; the `cursor` key seals list cursors (decision 0026).
  Generated here from PostgreSQL's strong random source (gen_random_uuid, PostgreSQL 13+): two UUIDs
  give 32 bytes holding 244 random bits.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSERT_CURSOR_KEY = (
    "INSERT INTO service_keys (purpose, secret)"
    " VALUES ('cursor', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))"
)


def upgrade() -> None:
    op.add_column("users", sa.Column("task_count", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.execute("UPDATE users SET task_count = (SELECT count(*) FROM tasks WHERE tasks.user_id = users.id)")
    op.create_check_constraint("ck_users_task_count_not_negative", "users", "task_count >= 0")
    op.execute(
        "UPDATE tasks SET version = version + 1, updated_at = now(), due_at = CASE WHEN due_at < 'epoch'"
        " THEN timestamptz '0001-01-01 00:00:00.000001+00' ELSE timestamptz '9999-12-31 23:59:59.999998+00' END"
        " WHERE NOT isfinite(due_at)"
    )
    op.create_check_constraint("ck_tasks_due_at_finite", "tasks", "isfinite(due_at)")
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_table(
        "service_keys",
        sa.Column("purpose", sa.String(length=64), primary_key=True),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.execute(INSERT_CURSOR_KEY)


def downgrade() -> None:
    op.drop_table("service_keys")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_constraint("ck_tasks_due_at_finite", "tasks", type_="check")
    op.drop_constraint("ck_users_task_count_not_negative", "users", type_="check")
    op.drop_column("users", "task_count")
