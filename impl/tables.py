"""The database schema as SQLModel tables; Alembic migrations create exactly this."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

USER_ID_LENGTH = 128
TITLE_LENGTH = 200
DESCRIPTION_LENGTH = 1000
IDEMPOTENCY_KEY_LENGTH = 255


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(sa_column=Column(String(USER_ID_LENGTH), primary_key=True))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_user_completed_created", "user_id", "completed", "created_at", "id"),
        Index("ix_tasks_user_completed_updated", "user_id", "completed", "updated_at", "id"),
        Index("ix_tasks_user_completed_title", "user_id", "completed", "title", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    user_id: str = Field(
        sa_column=Column(String(USER_ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    title: str = Field(sa_column=Column(String(TITLE_LENGTH), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    completed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default=text("1")))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )
    updated_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


class IdempotencyKey(SQLModel, table=True):
    """The first answer to a create sent with an Idempotency-Key, replayed to retries with that key."""

    __tablename__ = "idempotency_keys"

    user_id: str = Field(
        sa_column=Column(String(USER_ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(IDEMPOTENCY_KEY_LENGTH), primary_key=True))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


users_table: Table = User.__table__  # type: ignore[attr-defined]
tasks_table: Table = Task.__table__  # type: ignore[attr-defined]
idempotency_keys_table: Table = IdempotencyKey.__table__  # type: ignore[attr-defined]
metadata = SQLModel.metadata
