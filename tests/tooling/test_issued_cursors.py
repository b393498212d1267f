"""The fuzz hooks send a cursor the service issued as a client would: with the request it continues."""

from __future__ import annotations

from devtools.issued_cursors import IssuedCursors, continue_with

PATH = "/api/ann/tasks"


def test_a_cursor_continues_the_request_that_got_it_without_offset() -> None:
    issued = IssuedCursors()
    issued.remember(PATH, {"status": "pending", "q": "milk", "limit": 2}, {"next_cursor": "abc"})
    request = issued.request_for("abc", PATH)
    assert request is not None
    query = {"cursor": "abc", "status": "all", "overdue": True, "offset": 3, "limit": 7}
    continue_with(query, request)
    assert query == {"cursor": "abc", "limit": 7, "status": "pending", "q": "milk"}


def test_a_cursor_is_known_only_on_the_path_it_was_issued_for() -> None:
    issued = IssuedCursors()
    issued.remember(PATH, {}, {"next_cursor": "abc"})
    assert issued.request_for("abc", "/api/bob/tasks") is None
    assert issued.request_for("made-up", PATH) is None


def test_the_last_page_issues_no_cursor_and_the_oldest_cursors_are_forgotten() -> None:
    issued = IssuedCursors(capacity=2)
    issued.remember(PATH, {}, {"next_cursor": None})
    for cursor in ("a", "b", "c"):
        issued.remember(PATH, {}, {"next_cursor": cursor})
    assert [issued.request_for(cursor, PATH) is not None for cursor in ("a", "b", "c")] == [False, True, True]
