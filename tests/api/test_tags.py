"""Tags: up to 10 per task, 1 to 30 characters, ignoring case; the tag filter and the user's tag counts,
a bounded page at a time (decision 0041)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cursors import seal_tags
from tests.support.listing import listing, titles
from tests.support.problems import assert_invalid, assert_problem
from tests.support.users import User

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def tags_page(user: User, **params: Any) -> dict[str, Any]:
    response = user.request("GET", f"/api/{user.id}/tags", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def tag_counts(user: User) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = tags_page(user)["items"]
    return items


def every_tag(user: User, **params: Any) -> list[list[dict[str, Any]]]:
    """The user's tags page by page, following next_cursor until it is null."""
    pages = [tags_page(user, **params)]
    while pages[-1]["next_cursor"] is not None:
        pages.append(tags_page(user, **params, cursor=pages[-1]["next_cursor"]))
    return [page["items"] for page in pages]


def create_distinct_tags(user: User, count: int) -> list[str]:
    """Tasks carrying `count` distinct tags, ten to a task; the tags in code point order."""
    tags = [f"t{number:05}" for number in range(count)]
    for start in range(0, count, 10):
        user.create(f"tagged {start}", tags=tags[start : start + 10])
    return tags


def refused_cursor(user: User, path: str, **params: Any) -> dict[str, Any]:
    problem = assert_problem(user.request("GET", path, params=params), 422)
    assert [error["parameter"] for error in problem["errors"]] == ["cursor"]
    return problem


# --- On a task ------------------------------------------------------------------------------------------


def test_tags_are_stored_in_lower_case_in_the_order_given(alice: User) -> None:
    task = alice.create("Tagged", tags=["Work", "urgent", "ÉTÉ"])
    assert task["tags"] == ["work", "urgent", "été"]
    assert alice.request("GET", alice.task_path(task["id"])).json()["tags"] == ["work", "urgent", "été"]


def test_ten_tags_of_thirty_characters_are_accepted(alice: User) -> None:
    tags = [f"{i}" + "x" * 29 for i in range(10)]
    assert alice.create("Many", tags=tags)["tags"] == tags


def test_patch_replaces_the_whole_set_of_tags(alice: User) -> None:
    task = alice.create("Retag", tags=["a", "b"])
    assert alice.request("PATCH", alice.task_path(task["id"]), json={"tags": ["c"]}).json()["tags"] == ["c"]


def test_patch_with_an_empty_list_removes_every_tag(alice: User) -> None:
    task = alice.create("Untag", tags=["a", "b"])
    assert alice.request("PATCH", alice.task_path(task["id"]), json={"tags": []}).json()["tags"] == []


def test_patch_without_tags_keeps_them(alice: User) -> None:
    task = alice.create("Keep", tags=["a"])
    assert alice.request("PATCH", alice.task_path(task["id"]), json={"title": "Kept"}).json()["tags"] == ["a"]


@pytest.mark.parametrize(
    ("tags", "pointer"),
    [
        ([f"t{i}" for i in range(11)], "/tags"),  # 11 tags
        (["x" * 31], "/tags/0"),  # 31 characters
        (["ok", ""], "/tags/1"),  # empty
        (["ok", "   "], "/tags/1"),  # only white space
        (["Home", "home"], "/tags/1"),  # a duplicate differing only in case
        (["été", "ÉTÉ"], "/tags/1"),  # ... also beyond ASCII
        (["home", "home"], "/tags/1"),  # an exact duplicate
        (["ok", 5], "/tags/1"),  # not a string
        (["ok", None], "/tags/1"),
        (["ok", ["nested"]], "/tags/1"),
        (["nul\u0000"], "/tags/0"),
        ("home", "/tags"),  # not a list
        (None, "/tags"),
    ],
)
def test_invalid_tags_are_422_and_nothing_is_written(alice: User, tags: Any, pointer: str) -> None:
    assert_invalid(alice.request("POST", alice.tasks_path, json={"title": "x", "tags": tags}), pointer=pointer)
    task = alice.create("Unchanged", tags=["kept"])
    assert_invalid(alice.request("PATCH", alice.task_path(task["id"]), json={"tags": tags}), pointer=pointer)
    assert_invalid(
        alice.request("PUT", alice.task_path(task["id"]), json={"title": "y", "tags": tags}), pointer=pointer
    )
    assert alice.request("GET", alice.task_path(task["id"])).json() == task
    assert listing(alice)["total"] == 1


def test_a_duplicate_tag_names_the_one_it_repeats(alice: User) -> None:
    response = alice.request("POST", alice.tasks_path, json={"title": "x", "tags": ["a", "Work", "WORK"]})
    assert_invalid(response, pointer="/tags/2")
    assert "Traceback" not in response.text


# --- Filtering by tag -----------------------------------------------------------------------------------


@pytest.fixture
def tagged(alice: User) -> None:
    alice.create("home only", tags=["home"])
    alice.create("home and urgent", tags=["urgent", "home"])
    alice.create("urgent work", tags=["work", "urgent"])
    alice.create("untagged")


def test_the_tag_filter_lists_the_tasks_carrying_it(alice: User, tagged: None) -> None:
    page = listing(alice, tag="home", sort="title", order="asc")
    assert titles(page) == ["home and urgent", "home only"]
    assert page["total"] == 2


def test_a_repeated_tag_filter_needs_every_tag(alice: User, tagged: None) -> None:
    assert titles(listing(alice, tag=["home", "urgent"])) == ["home and urgent"]
    assert listing(alice, tag=["home", "work"])["total"] == 0


def test_the_tag_filter_ignores_case(alice: User, tagged: None) -> None:
    assert titles(listing(alice, tag=["HOME", "Urgent"])) == ["home and urgent"]


def test_the_tag_filter_combines_with_status_and_sort(alice: User, tagged: None) -> None:
    [urgent_work] = listing(alice, tag="work")["items"]
    alice.request("PATCH", alice.task_path(urgent_work["id"]), json={"completed": True})
    assert titles(listing(alice, tag="urgent", status="pending")) == ["home and urgent"]
    assert titles(listing(alice, tag="urgent", status="completed")) == ["urgent work"]
    assert titles(listing(alice, tag="urgent", sort="title", order="desc")) == ["urgent work", "home and urgent"]


def test_an_unknown_tag_lists_nothing(alice: User, tagged: None) -> None:
    assert listing(alice, tag="nowhere") == {"items": [], "total": 0, "limit": 20, "offset": 0, "next_cursor": None}


@pytest.mark.parametrize(
    "query",
    [
        "&".join(f"tag=t{i}" for i in range(11)),
        "tag=" + "x" * 31,
        "tag=",
        "tag=%20",
        "tag=a&tag=",
    ],
)
def test_a_tag_filter_outside_the_contract_is_422(alice: User, query: str) -> None:
    assert_invalid(alice.request("GET", f"{alice.tasks_path}?{query}"), parameter="tag")


# --- The user's tags ------------------------------------------------------------------------------------


def test_a_user_without_tags_has_an_empty_list(alice: User) -> None:
    alice.create("untagged")
    assert tag_counts(alice) == []


def test_tag_counts_count_tasks_pending_and_completed_in_name_order(alice: User, tagged: None) -> None:
    [home_only] = [task for task in listing(alice)["items"] if task["title"] == "home only"]
    alice.request("PATCH", alice.task_path(home_only["id"]), json={"completed": True})
    assert tag_counts(alice) == [
        {"name": "home", "task_count": 2},
        {"name": "urgent", "task_count": 2},
        {"name": "work", "task_count": 1},
    ]


def test_tag_counts_follow_changes_and_deletes(alice: User) -> None:
    first = alice.create("first", tags=["a", "b"])
    second = alice.create("second", tags=["b"])
    alice.request("PATCH", alice.task_path(first["id"]), json={"tags": ["c"]})
    alice.request("DELETE", alice.task_path(second["id"]))
    assert tag_counts(alice) == [{"name": "c", "task_count": 1}]


def test_tag_counts_never_include_another_users_tasks(alice: User, bob: User) -> None:
    alice.create("mine", tags=["shared"])
    bob.create("his", tags=["shared", "bobs-own"])
    bob.create("his too", tags=["shared"])
    assert tag_counts(alice) == [{"name": "shared", "task_count": 1}]
    assert tag_counts(bob) == [{"name": "bobs-own", "task_count": 1}, {"name": "shared", "task_count": 2}]


def test_another_users_tags_are_forbidden(alice: User, bob: User) -> None:
    bob.create("his", tags=["secret"])
    response = alice.request("GET", f"/api/{bob.id}/tags")
    assert response.status_code == 403
    assert "secret" not in response.text


# --- The user's tags, a page at a time ------------------------------------------------------------------


def test_the_tag_list_gives_100_tags_by_default_and_a_cursor_to_the_rest(alice: User) -> None:
    tags = create_distinct_tags(alice, DEFAULT_LIMIT + 10)
    page = tags_page(alice)
    assert [tag["name"] for tag in page["items"]] == tags[:DEFAULT_LIMIT]
    assert page["limit"] == DEFAULT_LIMIT
    assert page["next_cursor"] is not None


def test_a_short_tag_list_is_one_page_without_a_next_cursor(alice: User, tagged: None) -> None:
    page = tags_page(alice)
    assert [tag["name"] for tag in page["items"]] == ["home", "urgent", "work"]
    assert (page["limit"], page["next_cursor"]) == (DEFAULT_LIMIT, None)


@pytest.mark.parametrize("limit", ["0", "-1", str(MAX_LIMIT + 1), "100000", "ten", "1.5", ""])
def test_a_tag_list_limit_outside_1_to_1000_is_422(alice: User, limit: str) -> None:
    alice.create("tagged", tags=["home"])
    assert_invalid(alice.request("GET", f"/api/{alice.id}/tags?limit={limit}"), parameter="limit")


def test_paging_through_the_tags_lists_each_once_in_code_point_order_with_its_count(alice: User) -> None:
    alice.create("one", tags=["zebra", "apple", "été", "b"])
    alice.create("two", tags=["zebra", "b", "Z"])
    done = alice.create("three", tags=["apple", "zebra"])
    alice.request("PATCH", alice.task_path(done["id"]), json={"completed": True})
    pages = every_tag(alice, limit=2)
    assert [[(tag["name"], tag["task_count"]) for tag in page] for page in pages] == [
        [("apple", 2), ("b", 2)],
        [("z", 1), ("zebra", 3)],
        [("été", 1)],
    ]


def test_an_exactly_full_last_tag_page_has_no_next_cursor(alice: User, tagged: None) -> None:
    assert tags_page(alice, limit=3)["next_cursor"] is None
    assert tags_page(alice, limit=2)["next_cursor"] is not None


def test_a_user_with_more_tags_than_the_maximum_gets_at_most_one_page_of_them(alice: User) -> None:
    tags = create_distinct_tags(alice, MAX_LIMIT + 10)
    largest = tags_page(alice, limit=MAX_LIMIT)
    assert [tag["name"] for tag in largest["items"]] == tags[:MAX_LIMIT]
    rest = tags_page(alice, limit=MAX_LIMIT, cursor=largest["next_cursor"])
    assert [tag["name"] for tag in rest["items"]] == tags[MAX_LIMIT:]
    assert rest["next_cursor"] is None
    assert [len(page) for page in every_tag(alice)] == [DEFAULT_LIMIT] * 10 + [10]


def test_a_tag_cursor_is_refused_to_another_user(alice: User, bob: User, tagged: None) -> None:
    bob.create("his", tags=["home", "urgent", "work"])
    cursor = tags_page(alice, limit=1)["next_cursor"]
    problem = refused_cursor(bob, f"/api/{bob.id}/tags", cursor=cursor)
    assert "not a cursor for this list" in problem["detail"]


def test_a_task_list_cursor_is_refused_by_the_tag_list_and_the_other_way_round(alice: User, tagged: None) -> None:
    task_cursor = listing(alice, limit=1)["next_cursor"]
    tag_cursor = tags_page(alice, limit=1)["next_cursor"]
    assert "not a cursor for this list" in refused_cursor(alice, f"/api/{alice.id}/tags", cursor=task_cursor)["detail"]
    assert "not a cursor for this list" in refused_cursor(alice, alice.tasks_path, cursor=tag_cursor)["detail"]


@pytest.mark.parametrize("cursor", ["x", "A" * 38, "AB", "A" * 2049, "not a cursor"])
def test_a_tag_cursor_this_service_did_not_issue_is_a_422(alice: User, tagged: None, cursor: str) -> None:
    assert_invalid(alice.request("GET", f"/api/{alice.id}/tags", params={"cursor": cursor}), parameter="cursor")


@pytest.mark.parametrize(
    "plaintext",
    [
        b'["' + b"x" * 61 + b'"]',  # longer than any stored tag
        b'["nul\\u0000"]',
        b'["\\ud800"]',  # a lone surrogate
        b"[42]",
        b"[null]",
        b'["home", 1]',  # a task cursor's shape
        b"[]",
        b'"home"',
        b"[" * 1400,  # nested deeper than the JSON parser goes, within the 2048 characters
        b"not json",
    ],
)
def test_a_position_sealed_with_the_key_that_no_tag_could_hold_is_a_422_not_a_500(
    alice: User, tagged: None, cursor_key: bytes, plaintext: bytes
) -> None:
    cursor = seal_tags(cursor_key, plaintext, alice.id)
    response = alice.request("GET", f"/api/{alice.id}/tags", params={"cursor": cursor})
    assert_invalid(response, parameter="cursor")
    assert "not a cursor this service issued" in response.json()["detail"]


def test_a_tag_position_sealed_with_the_key_still_lists_only_the_callers_tags(
    alice: User, bob: User, tagged: None, cursor_key: bytes
) -> None:
    bob.create("his", tags=["bobs-own", "shared"])
    forged = seal_tags(cursor_key, b'["bobs-own"]', bob.id)  # alice's "urgent" and "work" sort after it
    assert tags_page(bob, cursor=forged)["items"] == [{"name": "shared", "task_count": 1}]
