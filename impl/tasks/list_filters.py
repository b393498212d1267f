"""The list's filters as conditions on the tasks table; every value the user gives is a bound parameter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Text, false, func, literal, or_

from impl.tables import DESCRIPTION_SEARCH_KEY, TITLE_SEARCH_KEY, search_key, tasks_table

StatusFilter = Literal["all", "pending", "completed"]
LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern that finds text literally, anywhere: its wildcards and the escape character are escaped.

    Backslash is LIKE's default escape character, so the statement needs no ESCAPE clause; pg_trgm
    reads the same escapes when it picks the pattern's trigrams.
    """
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def matching_text(text: str) -> ColumnElement[bool]:
    """Title or description contains text, ignoring case: both sides are lower-cased alike, in SQL."""
    pattern = search_key(literal(contains_pattern(text), Text))
    return or_(TITLE_SEARCH_KEY.like(pattern), DESCRIPTION_SEARCH_KEY.like(pattern))


def list_conditions(
    *,
    user_id: str,
    status: StatusFilter,
    text: str | None = None,
    tags: Sequence[str] = (),
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    overdue: bool | None = None,
) -> list[ColumnElement[bool]]:
    """The user's tasks that pass every given filter (tags already in their stored spelling)."""
    tasks = tasks_table.c
    where: list[ColumnElement[bool]] = [tasks.user_id == user_id]
    if status != "all":
        where.append(tasks.completed.is_(status == "completed"))
    if text is not None:
        where.append(matching_text(text))
    if tags:
        where.append(tasks.tags.contains(sorted(set(tags))))
    if due_before is not None:
        where.append(tasks.due_at < due_before)
    if due_after is not None:
        where.append(tasks.due_at >= due_after)
    if overdue is not None:
        is_overdue = (tasks.due_at < func.now()) & tasks.completed.is_(False)
        # A task without a due date is not overdue: NULL < now() must not leave it out of `false`.
        where.append(is_overdue if overdue else ~func.coalesce(is_overdue, false()))
    return where
