"""The fuzz hooks send a page ETag the service issued with the query that page was answered to."""

from __future__ import annotations

from devtools.issued_page_tags import IssuedPageTags

PATH = "/api/ann/tasks"


def test_a_page_etag_comes_back_with_its_query_on_its_own_path_only() -> None:
    issued = IssuedPageTags()
    issued.remember(PATH, {"status": "pending", "limit": 2, "cursor": "abc"}, 'W/"p1"')
    assert issued.query_for('W/"p1"', PATH) == {"status": "pending", "limit": 2, "cursor": "abc"}
    assert issued.query_for('W/"p1"', "/api/bob/tasks") is None
    assert issued.query_for('W/"made-up"', PATH) is None


def test_an_answer_without_etag_is_not_remembered_and_the_oldest_are_forgotten() -> None:
    issued = IssuedPageTags(capacity=1)
    issued.remember(PATH, {}, None)
    issued.remember(PATH, {"limit": 1}, 'W/"a"')
    issued.remember(PATH, {"limit": 2}, 'W/"b"')
    assert issued.query_for('W/"a"', PATH) is None
    assert issued.query_for('W/"b"', PATH) == {"limit": 2}
