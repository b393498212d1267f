"""One list request as the task rules see it: whose tasks, which of them, in what order, which page.

The service builds it once from the request; the repository turns it into SQL; a cursor is sealed
for its identity. Nothing here knows SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from impl.db.tables import PRIORITIES, TITLE_LENGTH
from impl.tasks.listing.cursors import Position, SortKeyType, list_identity

StatusFilter = Literal["all", "pending", "completed"]
SortKey = Literal["created", "updated", "title", "due", "priority"]
Direction = Literal["asc", "desc"]

# The field of a listed task that holds each sort key (a cursor remembers it).
SORT_FIELDS: dict[SortKey, str] = {
    "created": "created_at",
    "updated": "updated_at",
    "title": "title",
    "due": "due_at",
    "priority": "priority",
}
# What a cursor's position may hold for each sort: exactly what the task's field can hold.
SORT_KEY_TYPES: dict[SortKey, SortKeyType] = {
    "created": SortKeyType(instant=True),
    "updated": SortKeyType(instant=True),
    "title": SortKeyType(max_length=TITLE_LENGTH),
    "due": SortKeyType(instant=True, nullable=True),
    "priority": SortKeyType(choices=PRIORITIES),
}


@dataclass(frozen=True)
class FilterShape:
    """Which optional filters a list request gives; `overdue` is part of the statement, not a value."""

    text: bool = False
    tags: bool = False
    due_before: bool = False
    due_after: bool = False
    overdue: bool | None = None


NO_FILTERS = FilterShape()


@dataclass(frozen=True)
class ListFilters:
    """A list request's optional filters; None (or no tags) means not filtering by it."""

    text: str | None = None
    tags: tuple[str, ...] = ()  # in their stored spelling
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue: bool | None = None

    @property
    def shape(self) -> FilterShape:
        return FilterShape(
            text=self.text is not None,
            tags=bool(self.tags),
            due_before=self.due_before is not None,
            due_after=self.due_after is not None,
            overdue=self.overdue,
        )


NO_FILTER_VALUES = ListFilters()


@dataclass(frozen=True)
class TaskListing:
    """One page of one user's list: status, filters, sort and order say which list; limit, offset, after which page."""

    user_id: str
    status: StatusFilter = "all"
    sort: SortKey = "created"
    order: Direction = "desc"
    limit: int = 20
    offset: int = 0
    filters: ListFilters = NO_FILTER_VALUES
    after: Position | None = None  # where a cursor says the page starts

    def identity(self) -> bytes:
        """What a cursor is sealed for: the list, whatever the page."""
        filters = self.filters
        return list_identity(
            self.user_id,
            status=self.status,
            sort=self.sort,
            order=self.order,
            q=filters.text,
            tags=filters.tags,
            due_before=filters.due_before,
            due_after=filters.due_after,
            overdue=filters.overdue,
        )

    def continuing_after(self, position: Position) -> TaskListing:
        return replace(self, after=position)
