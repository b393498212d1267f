"""Every filter and sort, alone and combined, against a model of the rules written in plain Python.

One user's varied tasks are listed with each filter alone and with combinations of them, under every
sort key and direction, in pages of 3; the pages, joined, must be exactly what the model says, and
`total` must count the same tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.listing import ids, listing
from tests.support.users import User, new_user_id

PAGE_SIZE = 3
NOW = datetime.now(UTC)
PRIORITY_RANK = {"low": 0, "medium": 1, "high": 2}
# (title, description, priority, due_at, tags, completed): every combination of the new fields occurs
# in more than one task, so that sorting by any key has ties.
TASKS = [
    ("Buy milk", "Two litres", "high", "2020-03-01T10:00:00Z", ["home", "shop"], False),
    ("buy bread", None, "low", "2099-01-01T00:00:00Z", ["shop"], False),
    ("Call mum", "about the ÉTÉ trip", "medium", None, ["home"], True),
    ("File taxes", "50% of it done", "high", "2021-01-01T00:00:00Z", ["paperwork"], False),
    ("Fix the bike", None, "medium", "2020-03-01T10:00:00Z", [], True),
    ("Plan summer (été)", "snake_case notes", "low", None, ["home", "travel"], False),
    ("Read a book", None, "medium", "2098-05-05T05:05:05Z", ["home"], False),
    ("Zoo trip", "buy tickets", "high", None, ["travel", "shop"], True),
]

FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "pending": {"status": "pending"},
    "completed": {"status": "completed"},
    "q": {"q": "BUY"},
    "q unicode": {"q": "été"},
    "q percent": {"q": "%"},
    "one tag": {"tag": ["home"]},
    "two tags": {"tag": ["HOME", "shop"]},
    "due before": {"due_before": "2098-05-05T05:05:05Z"},
    "due after": {"due_after": "2021-01-01T00:00:00Z"},
    "overdue": {"overdue": "true"},
    "not overdue": {"overdue": "false"},
    "pending, tag and q": {"status": "pending", "tag": ["shop"], "q": "b"},
    "due window and tag": {"due_after": "2020-01-01T00:00:00Z", "due_before": "2099-01-01T00:00:00Z", "tag": ["home"]},
    "overdue and q": {"overdue": "true", "q": "i"},
    "completed and tag": {"status": "completed", "tag": ["travel"]},
    "everything": {
        "status": "pending",
        "q": "u",
        "tag": ["home"],
        "due_after": "2000-01-01T00:00:00+02:00",
        "due_before": "2100-01-01T00:00:00Z",
        "overdue": "true",
    },
}


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def passes(task: dict[str, Any], filters: dict[str, Any]) -> bool:
    """The contract's filter rules for one task."""
    due = instant(task["due_at"]) if task["due_at"] else None
    status = filters.get("status", "all")
    if status != "all" and task["completed"] != (status == "completed"):
        return False
    if "q" in filters:
        text = filters["q"].lower()
        if text not in task["title"].lower() and text not in (task["description"] or "").lower():
            return False
    if not {tag.lower() for tag in filters.get("tag", [])} <= set(task["tags"]):
        return False
    if "due_before" in filters and not (due and due < instant(filters["due_before"])):
        return False
    if "due_after" in filters and not (due and due >= instant(filters["due_after"])):
        return False
    if "overdue" in filters:
        overdue = bool(due and due < NOW and not task["completed"])
        return overdue == (filters["overdue"] == "true")
    return True


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "created": lambda task: task["created_at"],
    "updated": lambda task: task["updated_at"],
    "title": lambda task: task["title"],  # code point order: the test database's collation is C.UTF-8
    "due": lambda task: instant(task["due_at"]) if task["due_at"] else None,
    "priority": lambda task: PRIORITY_RANK[task["priority"]],
}


def ordered(tasks: list[dict[str, Any]], sort: str, order: str) -> list[int]:
    """The contract's order: by the key, ties by id in the same direction, no due date last either way."""
    key = SORT_KEYS[sort]
    with_key = [task for task in tasks if key(task) is not None]
    without_key = [task for task in tasks if key(task) is None]
    descending = order == "desc"
    by_key = sorted(with_key, key=lambda task: (key(task), task["id"]), reverse=descending)
    return [task["id"] for task in by_key] + sorted((task["id"] for task in without_key), reverse=descending)


@pytest.fixture(scope="module")
def owner(http: Any) -> tuple[User, list[dict[str, Any]]]:
    """A user with the tasks above, as the service stored them; and another user with the same tasks."""
    user, other = User(new_user_id(), http), User(new_user_id(), http)
    stored = []
    for title, description, priority, due_at, tags, completed in TASKS:
        fields = {"description": description, "priority": priority, "due_at": due_at, "tags": tags}
        other.create(title, **fields)
        task = user.create(title, **fields)
        if completed:
            task = user.request("PATCH", user.task_path(task["id"]), json={"completed": True}).json()
        stored.append(task)
    return user, stored


def page_of(user: User, params: dict[str, Any], expected_total: int) -> dict[str, Any]:
    """One page, which must count every task the filters keep, whatever page it is."""
    page = listing(user, **params)
    assert page["total"] == expected_total, (params, page)
    return page


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORT_KEYS)
@pytest.mark.parametrize("filter_name", FILTERS)
def test_pages_hold_exactly_the_filtered_tasks_in_order(
    owner: tuple[User, list[dict[str, Any]]], filter_name: str, sort: str, order: str
) -> None:
    user, tasks = owner
    filters = FILTERS[filter_name]
    expected = ordered([task for task in tasks if passes(task, filters)], sort, order)
    listed: list[int] = []
    for offset in range(0, len(tasks) + PAGE_SIZE, PAGE_SIZE):
        params = {**filters, "sort": sort, "order": order, "limit": PAGE_SIZE, "offset": offset}
        listed += ids(page_of(user, params, len(expected)))
    assert listed == expected


def test_the_filters_each_leave_out_some_tasks_and_keep_others(owner: tuple[User, list[dict[str, Any]]]) -> None:
    """The model is not vacuous: every filter but `none` decides something on these tasks."""
    _, tasks = owner
    for name, filters in FILTERS.items():
        kept = [task for task in tasks if passes(task, filters)]
        assert kept, name
        if name != "none":
            assert len(kept) < len(tasks), name


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORT_KEYS)
@pytest.mark.parametrize("filter_name", FILTERS)
def test_following_next_cursor_visits_exactly_the_filtered_tasks_in_order(
    owner: tuple[User, list[dict[str, Any]]], filter_name: str, sort: str, order: str
) -> None:
    user, tasks = owner
    filters = FILTERS[filter_name]
    expected = ordered([task for task in tasks if passes(task, filters)], sort, order)
    listed: list[int] = []
    params: dict[str, Any] = {**filters, "sort": sort, "order": order, "limit": PAGE_SIZE}
    for _ in range(len(tasks) + 1):
        page = page_of(user, params, len(expected))
        listed += ids(page)
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert listed == expected
