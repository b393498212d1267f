"""The list's filters as conditions on the tasks table; every value the user gives is a bound parameter.

A request's filters have a shape (which of them are given, and `overdue`'s value) and bind values;
the statement depends only on the shape, so each shape compiles once (impl.db.sql).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, ColumnElement, DateTime, Text, bindparam, false, func, or_

from impl.db.tables import DESCRIPTION_SEARCH_KEY, TITLE_SEARCH_KEY, search_key, tasks_table
from impl.tasks.listing.query import NO_FILTERS, FilterShape, ListFilters, StatusFilter

LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern that finds text literally, anywhere: its wildcards and the escape character are escaped.

    Backslash is LIKE's default escape character, so the statement needs no ESCAPE clause; pg_trgm
    reads the same escapes when it picks the pattern's trigrams.
    """
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def filter_values(filters: ListFilters) -> dict[str, Any]:
    """The bind values of the filters a request gives."""
    values: dict[str, Any] = {}
    if filters.text is not None:
        values["search_pattern"] = contains_pattern(filters.text)
    if filters.tags:
        values["tags"] = sorted(set(filters.tags))
    if filters.due_before is not None:
        values["due_before"] = filters.due_before
    if filters.due_after is not None:
        values["due_after"] = filters.due_after
    return values


def matching_text() -> ColumnElement[bool]:
    """Title or description contains the search pattern's text, ignoring case: both sides lower-cased alike, in SQL."""
    pattern = search_key(bindparam("search_pattern", type_=Text))
    return or_(TITLE_SEARCH_KEY.like(pattern), DESCRIPTION_SEARCH_KEY.like(pattern))


def list_conditions(status: StatusFilter, shape: FilterShape = NO_FILTERS) -> list[ColumnElement[bool]]:
    """The user's tasks (`user_id`) that pass the status filter and every filter the shape gives."""
    tasks = tasks_table.c
    where: list[ColumnElement[bool]] = [tasks.user_id == bindparam("user_id")]
    if status != "all":
        where.append(tasks.completed.is_(status == "completed"))
    if shape.text:
        where.append(matching_text())
    if shape.tags:
        where.append(tasks.tags.contains(bindparam("tags", type_=ARRAY(Text))))
    if shape.due_before:
        where.append(tasks.due_at < bindparam("due_before", type_=DateTime(timezone=True)))
    if shape.due_after:
        where.append(tasks.due_at >= bindparam("due_after", type_=DateTime(timezone=True)))
    if shape.overdue is not None:
        is_overdue = (tasks.due_at < func.now()) & tasks.completed.is_(False)
        # A task without a due date is not overdue: NULL < now() must not leave it out of `false`.
        where.append(is_overdue if shape.overdue else ~func.coalesce(is_overdue, false()))
    return where
