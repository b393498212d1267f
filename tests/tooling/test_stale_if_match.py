"""The fuzz run's own check sends a successful change again with its If-Match, which the change made stale."""

from __future__ import annotations

import pytest

from devtools.stale_if_match import first_header, stale_if_match
from tests.support.contract import Operation, operations_with

TASK = "/api/{user_id}/tasks/{task_id}"


# The conditional writes that answer the changed task.
CHANGES = [write for write in operations_with("If-Match") if write.answers_with_content]


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_a_change_that_moved_the_task_past_its_if_match_is_sent_again(change: Operation) -> None:
    method, path = change.method, change.template
    assert stale_if_match(method, path, {"If-Match": '"3"'}, change.success, '"4"') == '"3"'
    assert stale_if_match(method, path, {"if-match": 'W/"3", "7"'}, change.success, '"4"') == 'W/"3", "7"'


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "etag"),
    [
        ("PUT", TASK, {}, 200, '"4"'),  # unconditional
        ("PUT", TASK, {"If-Match": "*"}, 200, '"4"'),  # any version: never stale
        ("PATCH", TASK, {"If-Match": '"4"'}, 200, '"4"'),  # an empty PATCH leaves the version
        ("PATCH", TASK, {"If-Match": '"3", W/"4"'}, 200, '"4"'),  # still names the current one
        ("PUT", TASK, {"If-Match": '"3"'}, 412, None),  # nothing changed
        ("DELETE", TASK, {"If-Match": '"3"'}, 204, None),  # gone: 404 next, not 412
        ("GET", TASK, {"If-Match": '"3"'}, 200, '"4"'),
    ],
)
def test_nothing_else_is_sent_again(method: str, path: str, headers: dict[str, str], status: int, etag: str) -> None:
    assert stale_if_match(method, path, headers, status, etag) is None


def test_a_response_header_is_found_whatever_its_case() -> None:
    assert first_header({"ETag": ['"4"']}, "etag") == '"4"'
    assert first_header({"content-type": ["application/json"]}, "etag") is None
