"""The database schema as SQLModel tables; Alembic migrations create exactly this."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

USER_ID_LENGTH = 128
TITLE_LENGTH = 200
DESCRIPTION_LENGTH = 1000
IDEMPOTENCY_KEY_LENGTH = 255
# Declared in this order so that PostgreSQL sorts them this way: `priority desc` is high first.
PRIORITIES = ("low", "medium", "high")
priority_type = Enum(*PRIORITIES, name="task_priority")
# Case folding for search with a collation that every PostgreSQL 17+ has and that does not depend on
# the server's locale, so the index and the query fold alike everywhere (decision 0015).
SEARCH_COLLATION = "pg_c_utf8"


def search_key(column: ColumnElement[Any]) -> ColumnElement[str]:
    """The lower-cased text that search matches, exactly as the trigram indexes store it."""
    return func.lower(column.collate(SEARCH_COLLATION))


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    __table_args__ = (CheckConstraint("task_count >= 0", name="ck_users_task_count_not_negative"),)

    id: str = Field(sa_column=Column(String(USER_ID_LENGTH), primary_key=True))
    # Kept by the statements that insert and delete tasks: the quota is checked without counting (decision 0027).
    task_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


class TaskRow(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_user_completed_created", "user_id", "completed", "created_at", "id"),
        Index("ix_tasks_user_completed_updated", "user_id", "completed", "updated_at", "id"),
        Index("ix_tasks_user_completed_title", "user_id", "completed", "title", "id"),
        Index("ix_tasks_user_completed_priority", "user_id", "completed", "priority", "id"),
        # Tasks without a due date come last in both directions: ascending is the index's own order,
        # descending needs its own index with NULLS LAST (a backward scan would put them first).
        Index("ix_tasks_user_completed_due", "user_id", "completed", "due_at", "id"),
        Index(
            "ix_tasks_user_completed_due_desc",
            "user_id",
            "completed",
            text("due_at DESC NULLS LAST"),
            text("id DESC"),
        ),
        Index("ix_tasks_tags", "tags", postgresql_using="gin"),
        # asyncpg writes Python's first and last instants as infinities, which it cannot read back.
        CheckConstraint("isfinite(due_at)", name="ck_tasks_due_at_finite"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    user_id: str = Field(
        sa_column=Column(String(USER_ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    title: str = Field(sa_column=Column(String(TITLE_LENGTH), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    completed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    priority: str = Field(
        default="medium", sa_column=Column(priority_type, nullable=False, server_default=text("'medium'"))
    )
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    # Lower-cased by the service; a column of the row, so listing returns them without a join (decision 0014).
    tags: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default=text("1")))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )
    updated_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


class IdempotencyKeyRow(SQLModel, table=True):
    """The first answer to a create sent with an Idempotency-Key, replayed to retries with that key."""

    __tablename__ = "idempotency_keys"
    # The periodic purge of expired keys, over every user.
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: str = Field(
        sa_column=Column(String(USER_ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(IDEMPOTENCY_KEY_LENGTH), primary_key=True))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


class ServiceKeyRow(SQLModel, table=True):
    """A secret every instance of the service shares, generated by the migration that needs it."""

    __tablename__ = "service_keys"

    purpose: str = Field(sa_column=Column(String(64), primary_key=True))
    secret: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


users_table: Table = UserRow.__table__  # type: ignore[attr-defined]
tasks_table: Table = TaskRow.__table__  # type: ignore[attr-defined]
TITLE_SEARCH_KEY = search_key(tasks_table.c.title)
DESCRIPTION_SEARCH_KEY = search_key(tasks_table.c.description)
Index(
    "ix_tasks_title_search",
    TITLE_SEARCH_KEY.label("title_key"),
    postgresql_using="gin",
    postgresql_ops={"title_key": "gin_trgm_ops"},
)
Index(
    "ix_tasks_description_search",
    DESCRIPTION_SEARCH_KEY.label("description_key"),
    postgresql_using="gin",
    postgresql_ops={"description_key": "gin_trgm_ops"},
)
idempotency_keys_table: Table = IdempotencyKeyRow.__table__  # type: ignore[attr-defined]
service_keys_table: Table = ServiceKeyRow.__table__  # type: ignore[attr-defined]
metadata = SQLModel.metadata
