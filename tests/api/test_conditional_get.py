"""Conditional GET: a task or a page the client already holds is answered 304, with no body, until it changes."""

from __future__ import annotations

import httpx
import pytest

from tests.support.users import User


def get(user: User, path: str, if_none_match: str | None = None, **params: object) -> httpx.Response:
    headers = {} if if_none_match is None else {"If-None-Match": if_none_match}
    return user.request("GET", path, headers=headers, params=params)


def assert_not_modified(response: httpx.Response, etag: str) -> None:
    assert response.status_code == 304, response.text
    assert response.content == b""
    assert response.headers["ETag"] == etag
    assert "content-type" not in response.headers
    assert response.headers["X-Request-ID"]
    assert response.headers["Cache-Control"] == "no-store"


# --- One task -------------------------------------------------------------------------------------------


def test_a_task_fetched_again_with_its_etag_is_304_without_a_body(alice: User) -> None:
    task = alice.create("Poll me")
    first = get(alice, alice.task_path(task["id"]))
    assert_not_modified(get(alice, alice.task_path(task["id"]), first.headers["ETag"]), first.headers["ETag"])


@pytest.mark.parametrize(
    "if_none_match",
    ['W/"1"', '"7", "1"', '"7",W/"1" ,"8"', "*"],
    ids=["weak", "among-others", "weak-among-others", "star"],
)
def test_if_none_match_on_a_task_compares_weakly_and_takes_lists_and_star(alice: User, if_none_match: str) -> None:
    task = alice.create("Poll me")
    assert_not_modified(get(alice, alice.task_path(task["id"]), if_none_match), '"1"')


@pytest.mark.parametrize("if_none_match", ['"2"', '"01"', "1", 'W/"p-1"', '""'])
def test_a_task_is_sent_whole_when_if_none_match_names_another_version(alice: User, if_none_match: str) -> None:
    task = alice.create("Poll me")
    response = get(alice, alice.task_path(task["id"]), if_none_match)
    assert response.status_code == 200
    assert response.json() == task
    assert response.headers["ETag"] == '"1"'


def test_a_change_to_the_task_makes_the_held_etag_stale(alice: User) -> None:
    task = alice.create("Poll me")
    held = get(alice, alice.task_path(task["id"])).headers["ETag"]
    assert alice.request("PATCH", alice.task_path(task["id"]), json={"title": "Changed"}).status_code == 200
    response = get(alice, alice.task_path(task["id"]), held)
    assert response.status_code == 200
    assert response.json()["title"] == "Changed"
    assert response.headers["ETag"] != held


def test_a_missing_task_is_404_whatever_if_none_match_says(alice: User) -> None:
    response = get(alice, alice.task_path(2**62), "*")
    assert response.status_code == 404


def test_another_users_task_is_404_even_with_its_etag(alice: User, bob: User) -> None:
    task = alice.create("Mine")
    assert get(bob, f"/api/{bob.id}/tasks/{task['id']}", '"1"').status_code == 404


# --- A page ---------------------------------------------------------------------------------------------


def test_a_page_has_a_weak_etag_and_fetched_again_with_it_is_304(alice: User) -> None:
    for title in ("one", "two", "three"):
        alice.create(title)
    first = get(alice, alice.tasks_path, limit=2)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert_not_modified(get(alice, alice.tasks_path, etag, limit=2), etag)
    assert_not_modified(get(alice, alice.tasks_path, etag.removeprefix("W/"), limit=2), etag)


def test_a_page_after_a_cursor_is_304_too_though_each_answer_seals_its_cursor_afresh(alice: User) -> None:
    for title in ("one", "two", "three", "four", "five"):
        alice.create(title)
    cursor = get(alice, alice.tasks_path, limit=2).json()["next_cursor"]
    second = get(alice, alice.tasks_path, limit=2, cursor=cursor)
    assert_not_modified(
        get(alice, alice.tasks_path, second.headers["ETag"], limit=2, cursor=cursor), second.headers["ETag"]
    )


def page_tag(user: User, **params: object) -> str:
    response = get(user, user.tasks_path, **params)
    assert response.status_code == 200
    return str(response.headers["ETag"])


def test_the_page_etag_changes_when_a_task_on_it_changes(alice: User) -> None:
    tasks = [alice.create(title) for title in ("one", "two", "three")]
    held = page_tag(alice, limit=2)
    on_page = tasks[-1]  # newest first
    assert alice.request("PATCH", alice.task_path(on_page["id"]) + "/complete").status_code == 200
    assert get(alice, alice.tasks_path, held, limit=2).status_code == 200
    assert page_tag(alice, limit=2) != held


def test_the_page_etag_changes_when_a_task_joins_the_page_or_the_total_changes(alice: User) -> None:
    tasks = [alice.create(title) for title in ("one", "two", "three")]
    held = page_tag(alice, limit=2)
    alice.create("four")  # newest first: it joins the first page
    joined = page_tag(alice, limit=2)
    assert joined != held
    assert alice.request("DELETE", alice.task_path(tasks[0]["id"])).status_code == 204  # off the page
    assert page_tag(alice, limit=2) != joined  # the same tasks on the page, one fewer in all


def test_a_change_to_a_task_off_the_page_leaves_the_page_etag_alone(alice: User) -> None:
    tasks = [alice.create(title) for title in ("one", "two", "three")]
    held = page_tag(alice, limit=2)
    assert alice.request("PATCH", alice.task_path(tasks[0]["id"]), json={"title": "off the page"}).status_code == 200
    assert_not_modified(get(alice, alice.tasks_path, held, limit=2), held)


def test_each_query_has_its_own_page_etag(alice: User) -> None:
    alice.create("one")
    tags = {
        page_tag(alice),
        page_tag(alice, limit=5),
        page_tag(alice, status="pending"),
        page_tag(alice, sort="title"),
        page_tag(alice, order="asc"),
    }
    assert len(tags) == 5


def test_two_users_with_alike_lists_have_different_page_etags(alice: User, bob: User) -> None:
    assert page_tag(alice) != page_tag(bob)  # both empty
