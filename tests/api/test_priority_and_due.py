"""Priority and due date: defaults, changes, strict RFC 3339 input, the due filters and both new sorts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.listing import listing, titles
from tests.support.problems import assert_invalid
from tests.support.users import User

PAST = "2020-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


# --- Priority -------------------------------------------------------------------------------------------


def test_a_new_task_has_medium_priority_and_no_due_date(alice: User) -> None:
    task = alice.create("Plain")
    assert (task["priority"], task["due_at"]) == ("medium", None)


@pytest.mark.parametrize("priority", ["low", "medium", "high"])
def test_create_stores_the_given_priority(alice: User, priority: str) -> None:
    task = alice.create("Prioritised", priority=priority)
    assert task["priority"] == priority
    assert alice.request("GET", alice.task_path(task["id"])).json()["priority"] == priority


def test_patch_changes_the_priority_and_nothing_else(alice: User) -> None:
    task = alice.create("Keep", description="details", due_at=FUTURE, tags=["home"])
    patched = alice.request("PATCH", alice.task_path(task["id"]), json={"priority": "high"}).json()
    assert patched["priority"] == "high"
    assert {key: patched[key] for key in ("title", "description", "due_at", "tags")} == {
        "title": "Keep",
        "description": "details",
        "due_at": FUTURE,
        "tags": ["home"],
    }


def test_put_without_the_new_fields_resets_them_to_their_defaults(alice: User) -> None:
    task = alice.create("Full", priority="high", due_at=FUTURE, tags=["home"])
    replaced = alice.request("PUT", alice.task_path(task["id"]), json={"title": "Full"}).json()
    assert (replaced["priority"], replaced["due_at"], replaced["tags"]) == ("medium", None, [])


def test_put_sets_the_new_fields_it_is_given(alice: User) -> None:
    task = alice.create("Bare")
    body = {"title": "Bare", "priority": "low", "due_at": PAST, "tags": ["Work"]}
    replaced = alice.request("PUT", alice.task_path(task["id"]), json=body).json()
    assert (replaced["priority"], replaced["due_at"], replaced["tags"]) == ("low", PAST, ["work"])


@pytest.mark.parametrize("priority", ["urgent", "HIGH", "", None, 3, True])
def test_an_unknown_priority_is_422_and_stores_nothing(alice: User, priority: Any) -> None:
    assert_invalid(
        alice.request("POST", alice.tasks_path, json={"title": "x", "priority": priority}), pointer="/priority"
    )
    task = alice.create("Unchanged", priority="low")
    response = alice.request("PATCH", alice.task_path(task["id"]), json={"priority": priority})
    assert_invalid(response, pointer="/priority")
    assert alice.request("GET", alice.task_path(task["id"])).json() == task
    assert listing(alice)["total"] == 1


# --- Due date -------------------------------------------------------------------------------------------


def test_a_due_date_with_an_offset_is_stored_and_returned_in_utc(alice: User) -> None:
    task = alice.create("Dentist", due_at="2026-12-01T09:30:00+01:00")
    assert task["due_at"] == "2026-12-01T08:30:00Z"


def test_fractions_of_a_second_are_kept(alice: User) -> None:
    assert alice.create("Precise", due_at="2026-12-01T09:30:00.25Z")["due_at"] == "2026-12-01T09:30:00.250000Z"


def test_patch_null_clears_the_due_date(alice: User) -> None:
    task = alice.create("Soon", due_at=FUTURE)
    assert alice.request("PATCH", alice.task_path(task["id"]), json={"due_at": None}).json()["due_at"] is None


@pytest.mark.parametrize(
    "due_at",
    [
        "2026-12-01",  # a date is not a date-time
        "2026-12-01T09:30:00",  # no offset: which instant?
        "1700000000",  # a Unix time in a string
        "5",
        "tomorrow",
        "2026-02-30T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        1700000000,
        True,
    ],
)
def test_a_due_date_that_is_not_an_rfc3339_date_time_is_422(alice: User, due_at: Any) -> None:
    assert_invalid(alice.request("POST", alice.tasks_path, json={"title": "x", "due_at": due_at}), pointer="/due_at")
    assert listing(alice)["total"] == 0


@pytest.fixture
def scheduled(alice: User) -> dict[str, dict[str, Any]]:
    """Tasks due in the past, at a boundary, in the future and never; one past one is completed."""
    tasks = {
        "late": alice.create("late", due_at=PAST, priority="low"),
        "late but done": alice.create("late but done", due_at="2021-06-01T00:00:00Z", priority="high"),
        "boundary": alice.create("boundary", due_at="2030-01-01T00:00:00Z", priority="high"),
        "later": alice.create("later", due_at=FUTURE, priority="medium"),
        "someday": alice.create("someday"),
    }
    alice.request("PATCH", alice.task_path(tasks["late but done"]["id"]), json={"completed": True})
    return tasks


def test_due_before_is_strictly_before(alice: User, scheduled: dict[str, Any]) -> None:
    page = listing(alice, due_before="2030-01-01T00:00:00Z", sort="due", order="asc")
    assert titles(page) == ["late", "late but done"]
    assert page["total"] == 2


def test_due_after_includes_the_instant_itself(alice: User, scheduled: dict[str, Any]) -> None:
    assert titles(listing(alice, due_after="2030-01-01T00:00:00Z", sort="due", order="asc")) == ["boundary", "later"]


def test_due_after_and_due_before_make_a_window(alice: User, scheduled: dict[str, Any]) -> None:
    page = listing(alice, due_after="2021-01-01T00:00:00Z", due_before="2031-01-01T01:00:00+01:00", sort="due")
    assert titles(page) == ["boundary", "late but done"]


def test_the_due_filters_take_any_offset(alice: User, scheduled: dict[str, Any]) -> None:
    # 2030-01-01T00:00:00Z written in another zone.
    assert titles(listing(alice, due_after="2029-12-31T19:00:00-05:00", due_before="2030-01-01T00:00:01Z")) == [
        "boundary"
    ]


def test_overdue_true_is_due_in_the_past_and_not_completed(alice: User, scheduled: dict[str, Any]) -> None:
    page = listing(alice, overdue="true")
    assert titles(page) == ["late"]
    assert page["total"] == 1


def test_overdue_false_is_every_other_task(alice: User, scheduled: dict[str, Any]) -> None:
    assert sorted(titles(listing(alice, overdue="false"))) == ["boundary", "late but done", "later", "someday"]


def test_overdue_combines_with_status(alice: User, scheduled: dict[str, Any]) -> None:
    assert listing(alice, overdue="true", status="completed")["total"] == 0
    assert titles(listing(alice, overdue="false", status="completed")) == ["late but done"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("due_before=2026-12-01", "due_before"),
        ("due_before=1700000000", "due_before"),
        ("due_after=2026-12-01T00:00:00", "due_after"),
        ("due_after=soon", "due_after"),
        ("overdue=1", "overdue"),
        ("overdue=yes", "overdue"),
        ("overdue=True", "overdue"),
        ("overdue=", "overdue"),
    ],
)
def test_due_filters_take_only_the_contracts_spellings(alice: User, query: str, parameter: str) -> None:
    assert_invalid(alice.request("GET", f"{alice.tasks_path}?{query}"), parameter=parameter)


# --- Sorting --------------------------------------------------------------------------------------------


def test_sort_by_due_ascending_puts_tasks_without_a_due_date_last(alice: User, scheduled: dict[str, Any]) -> None:
    assert titles(listing(alice, sort="due", order="asc")) == ["late", "late but done", "boundary", "later", "someday"]


def test_sort_by_due_descending_also_puts_them_last(alice: User, scheduled: dict[str, Any]) -> None:
    assert titles(listing(alice, sort="due", order="desc")) == ["later", "boundary", "late but done", "late", "someday"]


def test_sort_by_priority_descending_lists_high_first(alice: User, scheduled: dict[str, Any]) -> None:
    # Ties (two high, two medium) are broken by id in the same direction: the later task first.
    assert titles(listing(alice, sort="priority", order="desc")) == [
        "boundary",
        "late but done",
        "someday",
        "later",
        "late",
    ]


def test_sort_by_priority_ascending_lists_low_first(alice: User, scheduled: dict[str, Any]) -> None:
    assert titles(listing(alice, sort="priority", order="asc")) == [
        "late",
        "later",
        "someday",
        "late but done",
        "boundary",
    ]


@pytest.mark.parametrize("sort", ["due", "priority"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_paging_by_the_new_sort_keys_never_repeats_or_skips(alice: User, sort: str, order: str) -> None:
    """Ties on the key (the same priority, the same or no due date) page by id."""
    due_dates = [PAST, None, PAST, FUTURE, None, None, PAST]
    created = [
        alice.create(f"task {i}", due_at=due, priority="high" if i % 2 else "low") for i, due in enumerate(due_dates)
    ]
    full = [task["id"] for task in listing(alice, sort=sort, order=order)["items"]]
    paged: list[int] = []
    for offset in range(0, 8, 3):
        paged += [task["id"] for task in listing(alice, sort=sort, order=order, limit=3, offset=offset)["items"]]
    assert paged == full
    assert sorted(paged) == sorted(task["id"] for task in created)
