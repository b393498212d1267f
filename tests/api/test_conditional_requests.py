"""ETag, If-Match and If-None-Match: every task answer names its version, and a change can be made conditional on it."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from devtools.live_server import LiveServer
from tests.support.contract import Operation, operation, operations_with
from tests.support.problems import assert_problem
from tests.support.users import User

# The conditional writes: the operations that take If-Match, each sent with the spec's example body (if it
# takes one), which changes the task when it applies. The changes are those that answer the changed task.
WRITES = operations_with("If-Match")
CHANGES = [write for write in WRITES if write.answers_with_content]


def fetch(user: User, task_id: int) -> httpx.Response:
    response = user.request("GET", user.task_path(task_id))
    assert response.status_code == 200, response.text
    return response


def write(user: User, task_id: int, change: Operation, **headers: str) -> httpx.Response:
    return user.request(change.method, change.path(user.id, task_id), json=change.example_body, headers=headers)


def assert_precondition_failed(response: httpx.Response, path: str) -> None:
    assert_problem(response, 412, title="Precondition Failed", problem_type="about:blank", instance=path)


def test_create_answers_with_the_first_version_as_a_strong_etag(alice: User) -> None:
    response = alice.request("POST", alice.tasks_path, json={"title": "Tagged"})
    assert response.status_code == 201
    assert response.headers["etag"] == '"1"'


def test_get_answers_with_the_current_etag(alice: User) -> None:
    created = alice.request("POST", alice.tasks_path, json={"title": "Tagged"})
    assert fetch(alice, created.json()["id"]).headers["etag"] == created.headers["etag"]


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_every_change_answers_with_a_new_etag_that_get_repeats(alice: User, change: Operation) -> None:
    task = alice.create("Tagged")
    before = fetch(alice, task["id"]).headers["etag"]
    response = write(alice, task["id"], change)
    assert response.status_code == 200, response.text
    after = response.headers["etag"]
    assert after.startswith('"')
    assert after.endswith('"')
    assert after != before
    assert fetch(alice, task["id"]).headers["etag"] == after


def test_each_change_gives_a_different_etag(alice: User) -> None:
    task = alice.create("Tagged")
    tags = [fetch(alice, task["id"]).headers["etag"]]
    for _ in range(3):
        tags.append(alice.request("PATCH", f"{alice.task_path(task['id'])}/complete").headers["etag"])
    assert len(set(tags)) == len(tags)


def test_an_empty_patch_keeps_the_etag(alice: User) -> None:
    task = alice.create("Tagged")
    before = fetch(alice, task["id"]).headers["etag"]
    response = alice.request("PATCH", alice.task_path(task["id"]), json={})
    assert response.headers["etag"] == before


@pytest.mark.parametrize("change", WRITES, ids=str)
def test_a_stale_etag_is_412_and_changes_nothing(alice: User, change: Operation) -> None:
    task = alice.create("Original", description="details")
    stale = fetch(alice, task["id"]).headers["etag"]
    alice.request("PATCH", alice.task_path(task["id"]), json={"description": "someone else's change"})
    current = fetch(alice, task["id"])

    response = write(alice, task["id"], change, **{"If-Match": stale})

    assert_precondition_failed(response, change.path(alice.id, task["id"]))
    after = fetch(alice, task["id"])
    assert after.json() == current.json()
    assert after.headers["etag"] == current.headers["etag"]


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_the_current_etag_applies_the_change_and_moves_the_etag(alice: User, change: Operation) -> None:
    task = alice.create("Original")
    current = fetch(alice, task["id"])
    response = write(alice, task["id"], change, **{"If-Match": current.headers["etag"]})
    assert response.status_code == 200, response.text
    assert response.json() != current.json()
    assert response.headers["etag"] != current.headers["etag"]
    assert fetch(alice, task["id"]).json() == response.json()


def test_delete_with_the_current_etag_deletes(alice: User) -> None:
    task = alice.create("Doomed")
    tag = fetch(alice, task["id"]).headers["etag"]
    response = alice.request("DELETE", alice.task_path(task["id"]), headers={"If-Match": tag})
    assert response.status_code == 204
    assert alice.request("GET", alice.task_path(task["id"])).status_code == 404


def test_an_empty_patch_with_a_stale_etag_is_412(alice: User) -> None:
    task = alice.create("Tagged")
    stale = fetch(alice, task["id"]).headers["etag"]
    alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    response = alice.request("PATCH", alice.task_path(task["id"]), json={}, headers={"If-Match": stale})
    assert_precondition_failed(response, alice.task_path(task["id"]))


@pytest.mark.parametrize("change", WRITES, ids=str)
def test_a_list_of_etags_matches_when_any_is_current(alice: User, change: Operation) -> None:
    task = alice.create("Tagged")
    stale = fetch(alice, task["id"]).headers["etag"]
    alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    current = fetch(alice, task["id"]).headers["etag"]
    response = write(alice, task["id"], change, **{"If-Match": f'"999999", {stale},{current}'})
    assert response.status_code in (200, 204), response.text


@pytest.mark.parametrize("change", WRITES, ids=str)
def test_a_list_of_only_stale_etags_is_412(alice: User, change: Operation) -> None:
    task = alice.create("Tagged")
    stale = fetch(alice, task["id"]).headers["etag"]
    alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    response = write(alice, task["id"], change, **{"If-Match": f'"999999", {stale}'})
    assert_precondition_failed(response, change.path(alice.id, task["id"]))


@pytest.mark.parametrize("change", WRITES, ids=str)
def test_a_weak_etag_never_matches(alice: User, change: Operation) -> None:
    task = alice.create("Tagged")
    current = fetch(alice, task["id"])
    response = write(alice, task["id"], change, **{"If-Match": "W/" + current.headers["etag"]})
    assert_precondition_failed(response, change.path(alice.id, task["id"]))
    assert fetch(alice, task["id"]).json() == current.json()


@pytest.mark.parametrize(
    "tag",
    ['"abc"', '"01"', '"+1"', '"-1"', '" 1"', '"1.0"', '"2147483648"', '"99999999999999999999"', "1", '""', 'W/"1"'],
)
def test_a_tag_the_service_never_issued_never_matches(alice: User, tag: str) -> None:
    task = alice.create("Tagged")
    response = alice.request("PATCH", alice.task_path(task["id"]), json={"title": "x"}, headers={"If-Match": tag})
    assert_precondition_failed(response, alice.task_path(task["id"]))
    assert fetch(alice, task["id"]).json() == task


def test_a_tag_of_non_ascii_digits_is_412_not_a_server_error(alice: User) -> None:
    task = alice.create("Tagged")
    superscript_one = '"\u00b9"'.encode("latin-1")  # str.isdigit() says yes, int() says no
    response = alice.request(
        "PATCH", alice.task_path(task["id"]), json={"title": "x"}, headers={"If-Match": superscript_one}
    )
    assert_precondition_failed(response, alice.task_path(task["id"]))


@pytest.mark.parametrize("change", WRITES, ids=str)
def test_a_star_matches_any_existing_task(alice: User, change: Operation) -> None:
    task = alice.create("Tagged")
    alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    response = write(alice, task["id"], change, **{"If-Match": "*"})
    assert response.status_code in (200, 204), response.text


@pytest.mark.parametrize("if_match", ["*", '"1"', 'W/"1"'])
@pytest.mark.parametrize("change", WRITES, ids=str)
def test_a_missing_task_is_404_even_with_if_match(alice: User, change: Operation, if_match: str) -> None:
    task = alice.create("Gone")
    alice.request("DELETE", alice.task_path(task["id"]))
    response = write(alice, task["id"], change, **{"If-Match": if_match})
    assert_problem(response, 404)


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_without_if_match_a_change_applies_over_any_version(alice: User, change: Operation) -> None:
    task = alice.create("Tagged")
    for _ in range(3):
        alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    before = fetch(alice, task["id"]).headers["etag"]
    response = write(alice, task["id"], change)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] != before


def test_delete_without_if_match_deletes_any_version(alice: User) -> None:
    task = alice.create("Tagged")
    alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    assert alice.request("DELETE", alice.task_path(task["id"])).status_code == 204


@pytest.mark.parametrize("if_match", ["", "x" * 1025])
def test_an_if_match_outside_the_contract_is_422(alice: User, if_match: str) -> None:
    task = alice.create("Tagged")
    response = alice.request("PATCH", alice.task_path(task["id"]), json={"title": "x"}, headers={"If-Match": if_match})
    assert response.status_code == 422, response.text
    assert {"parameter": "If-Match"}.items() <= response.json()["errors"][0].items()
    assert fetch(alice, task["id"]).json() == task


# --- If-None-Match (RFC 9110 section 13.1.2): on a write, a task the header names must not be changed ---


@pytest.mark.parametrize("change", WRITES, ids=str)
def test_if_none_match_star_on_an_existing_task_is_412_and_changes_nothing(alice: User, change: Operation) -> None:
    task = alice.create("Original", description="details")
    current = fetch(alice, task["id"])

    response = write(alice, task["id"], change, **{"If-None-Match": "*"})

    assert_precondition_failed(response, change.path(alice.id, task["id"]))
    after = fetch(alice, task["id"])
    assert after.json() == current.json()
    assert after.headers["etag"] == current.headers["etag"]


@pytest.mark.parametrize("weak", [False, True], ids=["strong", "weak"])
@pytest.mark.parametrize("change", WRITES, ids=str)
def test_if_none_match_naming_the_current_etag_is_412_and_changes_nothing(
    alice: User, change: Operation, weak: bool
) -> None:
    # If-None-Match compares weakly: W/"2" names version 2 as much as "2" does.
    task = alice.create("Original", description="details")
    alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")
    current = fetch(alice, task["id"])
    tag = ("W/" if weak else "") + current.headers["etag"]

    response = write(alice, task["id"], change, **{"If-None-Match": f'"999999", {tag}'})

    assert_precondition_failed(response, change.path(alice.id, task["id"]))
    after = fetch(alice, task["id"])
    assert after.json() == current.json()
    assert after.headers["etag"] == current.headers["etag"]


@pytest.mark.parametrize("change", WRITES, ids=str)
def test_if_none_match_naming_only_other_versions_lets_the_change_apply(alice: User, change: Operation) -> None:
    task = alice.create("Original")
    stale = fetch(alice, task["id"]).headers["etag"]
    alice.request("PATCH", f"{alice.task_path(task['id'])}/complete")

    response = write(alice, task["id"], change, **{"If-None-Match": f'"999999", {stale}, W/{stale}'})

    assert response.status_code in (200, 204), response.text


@pytest.mark.parametrize("if_none_match", ["*", '"1"'])
@pytest.mark.parametrize("change", WRITES, ids=str)
def test_a_missing_task_is_404_even_with_if_none_match(alice: User, change: Operation, if_none_match: str) -> None:
    task = alice.create("Gone")
    alice.request("DELETE", alice.task_path(task["id"]))
    response = write(alice, task["id"], change, **{"If-None-Match": if_none_match})
    assert_problem(response, 404)


@pytest.mark.parametrize("if_none_match", ["*", '"1"'])
def test_an_empty_patch_with_if_none_match_naming_the_task_is_412(alice: User, if_none_match: str) -> None:
    task = alice.create("Tagged")
    response = alice.request("PATCH", alice.task_path(task["id"]), json={}, headers={"If-None-Match": if_none_match})
    assert_precondition_failed(response, alice.task_path(task["id"]))


@pytest.mark.parametrize("change", WRITES, ids=str)
def test_if_match_and_if_none_match_must_both_hold(alice: User, change: Operation) -> None:
    task = alice.create("Tagged")
    current = fetch(alice, task["id"])
    conditions = {"If-Match": current.headers["etag"], "If-None-Match": "*"}
    response = write(alice, task["id"], change, **conditions)
    assert_precondition_failed(response, change.path(alice.id, task["id"]))
    assert fetch(alice, task["id"]).json() == current.json()


@pytest.mark.parametrize("if_none_match", ["", "x" * 1025])
def test_an_if_none_match_outside_the_contract_is_422(alice: User, if_none_match: str) -> None:
    task = alice.create("Tagged")
    response = alice.request(
        "PATCH", alice.task_path(task["id"]), json={"title": "x"}, headers={"If-None-Match": if_none_match}
    )
    assert response.status_code == 422, response.text
    assert {"parameter": "If-None-Match"}.items() <= response.json()["errors"][0].items()
    assert fetch(alice, task["id"]).json() == task


def race(
    user: User, base_url: str, writers: list[tuple[Operation, Any]], task_id: int, tag: str, condition: str = "If-Match"
) -> list[int]:
    """Send every write at once, each on its own connection with the same condition header; their statuses."""
    barrier = threading.Barrier(len(writers))
    statuses: list[int] = [0] * len(writers)

    def send(index: int, change: tuple[Operation, Any]) -> None:
        sent, body = change
        with httpx.Client(base_url=base_url, timeout=30) as client:
            client.get("/healthz")  # connect before the barrier, so the writes leave together
            barrier.wait()
            response = client.request(
                sent.method, sent.path(user.id, task_id), json=body, headers={**user.headers, condition: tag}
            )
        statuses[index] = response.status_code

    threads = [threading.Thread(target=send, args=(i, change)) for i, change in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


WRITERS = 8


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_writers_with_the_same_etag_exactly_one_wins(alice: User, server: LiveServer, round_: int) -> None:
    task = alice.create("Contended")
    tag = fetch(alice, task["id"]).headers["etag"]
    writers = [(operation("updateTask"), {"title": f"writer {i}"}) for i in range(WRITERS)]

    statuses = race(alice, server.url, writers, task["id"], tag)

    assert sorted(statuses) == [200] + [412] * (WRITERS - 1), statuses
    winner = statuses.index(200)
    final = fetch(alice, task["id"])
    assert final.json()["title"] == f"writer {winner}"
    assert final.headers["etag"] == '"2"'


def test_concurrent_toggles_with_the_same_etag_flip_once(alice: User, server: LiveServer) -> None:
    task = alice.create("Contended")
    statuses = race(alice, server.url, [(operation("toggleTaskCompletion"), None)] * WRITERS, task["id"], '"1"')
    assert sorted(statuses) == [200] + [412] * (WRITERS - 1), statuses
    final = fetch(alice, task["id"])
    assert final.json()["completed"] is True
    assert final.headers["etag"] == '"2"'


def test_a_concurrent_delete_and_updates_with_the_same_etag_let_one_win(alice: User, server: LiveServer) -> None:
    task = alice.create("Contended")
    replace = operation("replaceTask")
    writers = [(operation("deleteTask"), None), *[(replace, {"title": f"writer {i}"}) for i in range(WRITERS - 1)]]
    statuses = race(alice, server.url, writers, task["id"], '"1"')
    after = alice.request("GET", alice.task_path(task["id"]))
    if statuses[0] == 204:
        # The delete won: the task is gone, so the losers learn that (404) rather than a stale version.
        assert all(status == 404 for status in statuses[1:]), statuses
        assert after.status_code == 404
    else:
        assert sorted(statuses) == [200] + [412] * (WRITERS - 1), statuses
        assert after.json()["title"] == f"writer {statuses.index(200) - 1}"
        assert after.headers["etag"] == '"2"'


def test_concurrent_writers_refusing_the_next_version_let_exactly_one_through(alice: User, server: LiveServer) -> None:
    # Each writer refuses version 2, which the first write makes: the check and the write are one step.
    task = alice.create("Contended")
    writers = [(operation("updateTask"), {"title": f"writer {i}"}) for i in range(WRITERS)]

    statuses = race(alice, server.url, writers, task["id"], '"2"', condition="If-None-Match")

    assert sorted(statuses) == [200] + [412] * (WRITERS - 1), statuses
    final = fetch(alice, task["id"])
    assert final.json()["title"] == f"writer {statuses.index(200)}"
    assert final.headers["etag"] == '"2"'
