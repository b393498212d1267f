"""The sort keys the task rules know hold exactly what the columns the repository sorts on hold."""

from __future__ import annotations

import pytest
from sqlalchemy import DateTime, Enum, String

from impl.tasks.listing.cursors import SortKeyType
from impl.tasks.listing.query import SORT_FIELDS, SORT_KEY_TYPES, SortKey
from impl.tasks.listing.repository import SORT_COLUMNS


@pytest.mark.parametrize("sort", SORT_FIELDS)
def test_a_sort_keys_type_is_what_its_column_holds(sort: SortKey) -> None:
    column = SORT_COLUMNS[sort]
    nullable = column.nullable is True
    if isinstance(column.type, DateTime):
        expected = SortKeyType(instant=True, nullable=nullable)
    elif isinstance(column.type, Enum):  # before String: an Enum is a String
        expected = SortKeyType(choices=tuple(column.type.enums), nullable=nullable)
    else:
        assert isinstance(column.type, String)
        expected = SortKeyType(max_length=column.type.length, nullable=nullable)
    assert SORT_KEY_TYPES[sort] == expected
    assert column.name == SORT_FIELDS[sort]
