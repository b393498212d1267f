"""Cursor (keyset) paging: `next_cursor` leads through the list without repeats or skips, even while
it changes; a cursor is only ever taken for the user and query it came from, discloses nothing of the
tasks, and no cursor, whatever it holds, is a 500."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from impl.tasks.listing.cursors import MAX_INSTANT, MIN_INSTANT
from tests.support.contract import parameter_schema, property_schema
from tests.support.cursors import legacy_cursor, seal, seal_json, unb64url
from tests.support.listing import listing, titles
from tests.support.problems import assert_problem
from tests.support.users import User

PAGE = {"limit": 3, "sort": "created", "order": "desc"}
# The contract's bounds, which the cursor's checks must agree with.
SORTS = parameter_schema("listTasks", "sort")["enum"]
ORDERS = parameter_schema("listTasks", "order")["enum"]
TITLE_LENGTH = property_schema("Task", "title")["maxLength"]
PRIORITIES = property_schema("Task", "priority")["enum"]
MAX_TASK_ID = parameter_schema("getTask", "task_id")["maximum"]


def refused(user: User, parameter: str, **params: Any) -> dict[str, Any]:
    response = user.request("GET", user.tasks_path, params=params)
    problem = assert_problem(response, 422)
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
    assert "not a cursor for this list" in problem["detail"]
    assert "filters, sort and order" in problem["detail"]


def test_a_cursor_is_refused_to_another_user_with_the_same_query(alice: User, bob: User, seven: list[int]) -> None:
    bob.create("bob's")
    cursor = listing(alice, **PAGE)["next_cursor"]
    problem = refused(bob, "cursor", **PAGE, cursor=cursor)
    assert "not a cursor for this list" in problem["detail"]


@pytest.mark.parametrize("where", [0, 15, 30, -1])
def test_a_cursor_altered_in_any_character_is_refused(alice: User, seven: list[int], where: int) -> None:
    cursor = listing(alice, **PAGE)["next_cursor"]
    replacement = "A" if cursor[where] != "A" else "B"
    altered = cursor[:where] + replacement + cursor[where:][1:] if where != -1 else cursor[:-1] + replacement
    refused(alice, "cursor", **PAGE, cursor=altered)


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
        "A" * 2045,  # a length base64 never has
        "AB",  # nonzero bits after the last byte: not the canonical spelling of any bytes
        "A" * 38,  # 28 zero bytes: as long as the shortest sealed cursor, but not sealed
    ],
)
def test_a_cursor_this_service_did_not_issue_is_a_422_not_a_500(alice: User, seven: list[int], cursor: str) -> None:
    refused(alice, "cursor", **PAGE, cursor=cursor)


def test_a_position_sealed_with_the_key_still_lists_only_the_callers_tasks(
    alice: User, bob: User, seven: list[int], cursor_key: bytes
) -> None:
    bobs = [bob.create(f"bob {n}")["id"] for n in range(2)]
    forged = seal_json(cursor_key, [MAX_INSTANT, 2**62], bob.id, sort="created", order="desc")
    listed = listing(bob, **PAGE, cursor=forged)
    assert {t["id"] for t in listed["items"]} <= set(bobs)
    assert listed["total"] == 2


SECRET_TITLE = "Resign on Friday"
SECRET_DUE = "2031-07-04T09:30:00Z"


@pytest.mark.parametrize("sort", SORTS)
def test_a_cursor_discloses_neither_title_nor_due_date(alice: User, sort: str) -> None:
    for n in range(2):
        alice.create(f"{SECRET_TITLE} {n}", due_at=SECRET_DUE, priority="high")
    cursor = listing(alice, sort=sort, order="asc", limit=1)["next_cursor"]
    readable = [cursor, unb64url(cursor).decode("latin-1")]
    # Each long enough that random ciphertext holds it by chance about once in 10^9 runs (a 4-character
    # one, like "2031" alone, about once in 350,000): 1940923800 is 2031-07-04T09:30Z in seconds, and the
    # first digits of it in microseconds.
    for secret in (SECRET_TITLE, "Resign", "2031-07", '"high"', "1940923800"):
        assert not any(secret in text for text in readable), secret


@pytest.mark.parametrize("title", ["\U0010ffff" * TITLE_LENGTH, "\x01" * TITLE_LENGTH, '"' * TITLE_LENGTH])
def test_the_cursor_after_the_longest_titles_leads_on(alice: User, title: str) -> None:
    for ending in ("a", "b"):
        alice.create(title[:-1] + ending)
    first = listing(alice, sort="title", order="asc", limit=1)
    second = listing(alice, sort="title", order="asc", limit=1, cursor=first["next_cursor"])
    assert titles(first) + titles(second) == [title[:-1] + "a", title[:-1] + "b"]


# The positions issue 11 found answering 500 when forged in the unsealed format.
ISSUE_11_POSITIONS = [
    ("priority", "bogus"),
    ("title", "\x00"),
    ("title", "\ud800"),
    ("created", "0001-01-01T00:00:00+05:00"),
    ("created", "9999-12-31T23:59:59-05:00"),
    ("due", "0001-01-01T00:00:00+05:00"),
    ("due", "9999-12-31T23:59:59-05:00"),
]


@pytest.mark.parametrize(("sort", "key"), ISSUE_11_POSITIONS)
def test_a_forged_unsealed_cursor_is_a_422(alice: User, seven: list[int], sort: str, key: str) -> None:
    refused(alice, "cursor", sort=sort, order="desc", cursor=legacy_cursor([key, seven[0]], sort=sort, order="desc"))


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        *ISSUE_11_POSITIONS,
        ("priority", "High"),
        ("priority", None),
        ("title", "x" * (TITLE_LENGTH + 1)),
        ("title", None),
        ("title", 42),
        ("created", MIN_INSTANT - 1),
        ("created", MAX_INSTANT + 1),
        ("created", None),
        ("created", 1.5),
        ("created", True),
        ("updated", 10**30),
        ("due", -(10**30)),
        ("due", "2026-11-26T08:00:00Z"),
        ("due", [1]),
    ],
)
def test_a_sealed_position_the_sort_key_cannot_hold_is_a_422(
    alice: User, seven: list[int], cursor_key: bytes, sort: str, key: Any
) -> None:
    refused(
        alice,
        "cursor",
        sort=sort,
        order="desc",
        cursor=seal_json(cursor_key, [key, seven[0]], alice.id, sort=sort, order="desc"),
    )


@pytest.mark.parametrize("task_id", [0, -1, MAX_TASK_ID + 1, True, "1", 1.0, None])
def test_a_sealed_position_with_no_possible_task_id_is_a_422(
    alice: User, seven: list[int], cursor_key: bytes, task_id: Any
) -> None:
    cursor = seal_json(cursor_key, ["medium", task_id], alice.id, sort="priority", order="desc")
    refused(alice, "cursor", sort="priority", order="desc", cursor=cursor)


@pytest.mark.parametrize(
    "plaintext", [b"", b"[", b'["medium"]', b'["medium",1,2]', b'{"medium":1}', b"\xff\xfe", b"[" * 1000 + b"]" * 1000]
)
def test_a_sealed_plaintext_that_is_no_position_is_a_422(alice: User, cursor_key: bytes, plaintext: bytes) -> None:
    cursor = seal(cursor_key, plaintext, alice.id, sort="priority", order="desc")
    refused(alice, "cursor", sort="priority", order="desc", cursor=cursor)


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("created", MIN_INSTANT),
        ("created", MAX_INSTANT),
        ("updated", 0),
        ("due", None),
        ("due", MIN_INSTANT + 1),
        ("title", "x" * TITLE_LENGTH),
        ("title", ""),
        ("priority", PRIORITIES[0]),
        ("priority", PRIORITIES[-1]),
    ],
)
@pytest.mark.parametrize("order", ORDERS)
def test_a_sealed_position_at_the_edges_of_the_sort_keys_range_is_taken(
    alice: User, seven: list[int], cursor_key: bytes, sort: str, key: Any, order: str
) -> None:
    cursor = seal_json(cursor_key, [key, MAX_TASK_ID], alice.id, sort=sort, order=order)
    assert listing(alice, sort=sort, order=order, cursor=cursor)["total"] == 7


def test_a_sealed_position_reads_as_the_service_wrote_it(alice: User, seven: list[int], cursor_key: bytes) -> None:
    third = listing(alice, sort="created", order="desc", limit=3)["items"][2]
    created = datetime.fromisoformat(third["created_at"]).astimezone(UTC)
    micros = (created - datetime(1970, 1, 1, tzinfo=UTC)) // (datetime.resolution)
    cursor = seal_json(cursor_key, [micros, third["id"]], alice.id, sort="created", order="desc")
    assert [t["id"] for t in listing(alice, sort="created", order="desc", cursor=cursor)["items"]] == seven[3:]
