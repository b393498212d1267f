"""Cursor (keyset) paging: `next_cursor` leads through the list without repeats or skips, even while
it changes, and a cursor is only ever taken for the query it came from."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import User
from tests.support.listing import listing

PAGE = {"limit": 3, "sort": "created", "order": "desc"}


def refused(user: User, parameter: str, **params: Any) -> dict[str, Any]:
    response = user.request("GET", user.tasks_path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert [error["parameter"] for error in problem["errors"]] == [parameter]
    return problem


def make_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).rstrip(b"=").decode()


@pytest.fixture
def seven(alice: User) -> list[int]:
    """Seven tasks, newest first (the default order)."""
    return [alice.create(f"task {n}")["id"] for n in range(7)][::-1]


def test_the_last_page_has_no_next_cursor_and_the_others_have_one(alice: User, seven: list[int]) -> None:
    first = listing(alice, **PAGE)
    assert first["next_cursor"] is not None
    second = listing(alice, **PAGE, cursor=first["next_cursor"])
    third = listing(alice, **PAGE, cursor=second["next_cursor"])
    assert [[t["id"] for t in page["items"]] for page in (first, second, third)] == [seven[:3], seven[3:6], seven[6:]]
    assert third["next_cursor"] is None
    assert {page["total"] for page in (first, second, third)} == {7}


def test_an_exactly_full_last_page_has_no_next_cursor(alice: User, seven: list[int]) -> None:
    assert listing(alice, limit=7)["next_cursor"] is None
    assert listing(alice, limit=6)["next_cursor"] is not None


def test_an_offset_page_offers_a_cursor_to_continue_from(alice: User, seven: list[int]) -> None:
    page = listing(alice, **PAGE, offset=2)
    following = listing(alice, **PAGE, cursor=page["next_cursor"])
    assert [t["id"] for t in following["items"]] == seven[5:]


def test_tasks_created_and_deleted_between_pages_neither_repeat_nor_skip_the_rest(
    alice: User, seven: list[int]
) -> None:
    first = listing(alice, **PAGE)
    alice.create("created while paging")  # newest: before the cursor, so not on any later page
    alice.request("DELETE", alice.task_path(seven[4]))
    rest: list[int] = []
    cursor = first["next_cursor"]
    while cursor is not None:
        page = listing(alice, **PAGE, cursor=cursor)
        rest += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
    assert rest == [seven[3], seven[5], seven[6]]


@pytest.mark.parametrize(
    "changed",
    [{"sort": "title"}, {"order": "asc"}, {"status": "pending"}, {"q": "task"}, {"tag": ["x"]}, {"overdue": "false"}],
)
def test_a_cursor_is_refused_with_other_filters_sort_or_order(
    alice: User, seven: list[int], changed: dict[str, Any]
) -> None:
    cursor = listing(alice, **PAGE)["next_cursor"]
    problem = refused(alice, "cursor", **{**PAGE, **changed, "cursor": cursor})
    assert "other filters, sort or order" in problem["detail"]


def test_a_cursor_with_an_offset_is_refused(alice: User, seven: list[int]) -> None:
    cursor = listing(alice, **PAGE)["next_cursor"]
    refused(alice, "offset", **PAGE, cursor=cursor, offset=1)


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "bm90IGpzb24",  # "not json"
        make_cursor("2026-11-26T08:00:00+00:00", 42),  # too short
        make_cursor("2026-11-26T08:00:00+00:00", "42", "0" * 16),
        make_cursor("2026-11-26T08:00:00+00:00", 0, "0" * 16),
        make_cursor("2026-11-26T08:00:00+00:00", 2**63, "0" * 16),
        make_cursor("yesterday", 42, "0" * 16),
        make_cursor({"$gt": ""}, 42, "0" * 16),
        "A" * 1024,
    ],
)
def test_a_cursor_this_service_did_not_issue_is_a_422_not_a_500(alice: User, seven: list[int], cursor: str) -> None:
    refused(alice, "cursor", **PAGE, cursor=cursor)


def test_a_forged_position_with_the_right_fingerprint_still_lists_only_the_callers_tasks(
    alice: User, bob: User, seven: list[int]
) -> None:
    bobs = [bob.create(f"bob {n}")["id"] for n in range(2)]
    issued = listing(alice, **PAGE)["next_cursor"]
    padded = issued + "=" * (-len(issued) % 4)
    _, _, fingerprint = json.loads(base64.urlsafe_b64decode(padded))
    forged = make_cursor("2999-01-01T00:00:00+00:00", 2**62, fingerprint)
    listed = listing(bob, **PAGE, cursor=forged)
    assert {t["id"] for t in listed["items"]} <= set(bobs)
    assert listed["total"] == 2
