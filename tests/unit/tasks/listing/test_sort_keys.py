"""The sort keys the task rules know are the contract's, and each holds exactly what the contract says its
field holds and what the database's column for it holds (read from the catalog, not from impl/db/tables.py).
"""

from __future__ import annotations

import pytest

from impl.tasks.listing.cursors import SortKeyType
from impl.tasks.listing.query import SORT_FIELDS, SORT_KEY_TYPES, SortKey
from impl.tasks.listing.repository import SORT_COLUMNS
from tests.support.contract import parameter_schema, property_schema
from tests.support.database import query

SORTS = parameter_schema("listTasks", "sort")["enum"]


def test_the_sort_keys_are_the_contracts() -> None:
    assert set(SORT_FIELDS) == set(SORT_KEY_TYPES) == set(SORT_COLUMNS) == set(SORTS)


@pytest.mark.parametrize("sort", SORTS)
def test_a_sort_keys_type_is_what_the_contract_says_its_field_holds(sort: SortKey) -> None:
    field = property_schema("Task", SORT_FIELDS[sort])
    types = field["type"] if isinstance(field["type"], list) else [field["type"]]
    expected = SortKeyType(
        instant=field.get("format") == "date-time",
        nullable="null" in types,
        max_length=field.get("maxLength"),
        choices=tuple(field.get("enum", ())),
    )
    assert SORT_KEY_TYPES[sort] == expected


@pytest.mark.parametrize("sort", SORTS)
def test_a_sort_keys_type_is_what_its_column_in_the_database_holds(database_url: str, sort: SortKey) -> None:
    column = SORT_COLUMNS[sort]
    [catalog] = query(
        database_url,
        "SELECT data_type, is_nullable, character_maximum_length, udt_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
        column.table.name,
        column.name,
    )
    labels = query(
        database_url,
        "SELECT enumlabel FROM pg_enum JOIN pg_type ON pg_type.oid = enumtypid WHERE typname = $1"
        " ORDER BY enumsortorder",
        catalog["udt_name"],
    )
    expected = SortKeyType(
        instant=catalog["data_type"] == "timestamp with time zone",
        nullable=catalog["is_nullable"] == "YES",
        max_length=catalog["character_maximum_length"],
        choices=tuple(label["enumlabel"] for label in labels),  # in PostgreSQL's sort order
    )
    assert SORT_KEY_TYPES[sort] == expected
