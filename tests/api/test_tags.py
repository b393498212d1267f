"""Tags: up to 10 per task, 1 to 30 characters, ignoring case; the tag filter and the user's tag counts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_validation import assert_invalid
from tests.support.listing import listing, titles
from tests.support.users import User


def tag_counts(user: User) -> list[dict[str, Any]]:
    response = user.request("GET", f"/api/{user.id}/tags")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


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
