"""Listing: filters, sort keys, directions and paging that never repeats or skips a task."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.contract import parameter_schema
from tests.support.database import query
from tests.support.listing import ids, listing
from tests.support.users import User

TIE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def five_tasks(alice: User) -> list[dict[str, Any]]:
    """Five tasks, two of them completed; titles out of creation order."""
    tasks = [alice.create(title) for title in ["delta", "alpha", "echo", "bravo", "charlie"]]
    for task in (tasks[1], tasks[3]):
        alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    return tasks


def test_an_empty_list_has_total_zero(alice: User) -> None:
    assert listing(alice) == {"items": [], "total": 0, "limit": 20, "offset": 0, "next_cursor": None}


def test_default_order_is_newest_first(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    page = listing(alice)
    assert ids(page) == [task["id"] for task in reversed(five_tasks)]
    assert (page["total"], page["limit"], page["offset"]) == (5, 20, 0)


def test_status_filters_by_completion(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    completed = listing(alice, status="completed")
    pending = listing(alice, status="pending")
    assert sorted(ids(completed)) == sorted([five_tasks[1]["id"], five_tasks[3]["id"]])
    assert completed["total"] == 2
    assert all(task["completed"] for task in completed["items"])
    assert pending["total"] == 3
    assert not any(task["completed"] for task in pending["items"])
    assert listing(alice, status="all")["total"] == 5


def test_sort_by_title_ascending(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    titles = [task["title"] for task in listing(alice, sort="title", order="asc")["items"]]
    assert titles == ["alpha", "bravo", "charlie", "delta", "echo"]


def test_sort_by_title_descending(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    titles = [task["title"] for task in listing(alice, sort="title", order="desc")["items"]]
    assert titles == ["echo", "delta", "charlie", "bravo", "alpha"]


def test_sort_by_created_ascending(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    assert ids(listing(alice, sort="created", order="asc")) == [task["id"] for task in five_tasks]


def test_sort_by_updated_puts_the_last_changed_first(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    alice.request("PATCH", alice.task_path(five_tasks[0]["id"]), json={"title": "delta again"})
    assert ids(listing(alice, sort="updated"))[0] == five_tasks[0]["id"]
    assert ids(listing(alice, sort="updated", order="asc"))[-1] == five_tasks[0]["id"]


def test_filter_and_sort_combine(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    titles = [task["title"] for task in listing(alice, status="pending", sort="title", order="asc")["items"]]
    assert titles == ["charlie", "delta", "echo"]


@pytest.mark.parametrize("sort", parameter_schema("listTasks", "sort")["enum"])
@pytest.mark.parametrize("order", parameter_schema("listTasks", "order")["enum"])
def test_paging_with_ties_never_repeats_or_skips(alice: User, database_url: str, sort: str, order: str) -> None:
    created = {alice.create("same title")["id"] for _ in range(7)}
    # Every sort key alike: one title, the default priority, no due date, and one instant for both times.
    query(database_url, "UPDATE tasks SET created_at = $2, updated_at = $2 WHERE user_id = $1", alice.id, TIE)
    seen: list[dict[str, Any]] = []
    for offset in range(0, 9, 2):
        page = listing(alice, sort=sort, order=order, limit=2, offset=offset)
        assert page["total"] == 7
        seen += page["items"]
    keys = {(task["title"], task["priority"], task["due_at"], task["created_at"], task["updated_at"]) for task in seen}
    assert len(keys) == 1, f"every task ties on every sort key: {keys}"
    seen_ids = [task["id"] for task in seen]
    assert sorted(seen_ids) == sorted(created)
    assert len(seen_ids) == len(set(seen_ids))
    ascending = sorted(seen_ids)
    assert seen_ids == (ascending if order == "asc" else ascending[::-1]), "ties are broken by id"


def test_an_offset_past_the_end_returns_no_items_but_the_total(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    page = listing(alice, offset=10, limit=3)
    assert page == {"items": [], "total": 5, "limit": 3, "offset": 10, "next_cursor": None}


def test_a_partial_last_page_reports_the_full_total(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    page = listing(alice, offset=3, limit=4)
    assert (len(page["items"]), page["total"]) == (2, 5)


def test_limit_bounds_are_inclusive(alice: User, five_tasks: list[dict[str, Any]]) -> None:
    assert len(listing(alice, limit=1)["items"]) == 1
    assert len(listing(alice, limit=100)["items"]) == 5
