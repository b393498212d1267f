"""Alembic owns the schema: it builds it from nothing, tears it down, and matches the models exactly."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from devtools import embedded_db, migrate
from impl.db.tables import metadata
from tests.support.database import fresh_database
from tests.support.schema import run_sync, schema_differences, table_names


@pytest.fixture
def empty_database(postgres: embedded_db.PostgresServer) -> Iterator[str]:
    url = fresh_database(postgres, "tasks_migrations")
    yield url
    embedded_db.drop_database(postgres, f"tasks_migrations_{os.getpid()}")


def test_upgrade_head_from_an_empty_database_creates_the_schema(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert run_sync(empty_database, table_names) == set(metadata.tables)
    indexes = run_sync(empty_database, lambda conn: {ix["name"] for ix in inspect(conn).get_indexes("tasks")})
    assert {"ix_tasks_user_completed_created", "ix_tasks_user_completed_updated"} <= indexes


def test_downgrade_to_base_then_upgrade_again(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.downgrade(empty_database, "base")
    assert run_sync(empty_database, table_names) == set()
    migrate.upgrade(empty_database)
    assert run_sync(empty_database, table_names) == set(metadata.tables)


def test_autogenerate_finds_no_difference_from_the_models(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert run_sync(empty_database, schema_differences) == []


def test_the_database_refuses_a_task_without_its_user(empty_database: str) -> None:
    migrate.upgrade(empty_database)

    def insert_orphan(conn: Connection) -> None:
        conn.execute(text("INSERT INTO tasks (user_id, title) VALUES ('ghost', 'orphan')"))

    with pytest.raises(IntegrityError, match="foreign key"):
        run_sync(empty_database, insert_orphan)
