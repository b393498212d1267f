"""The task-list pages' `ETag`s the service answered during a fuzz run, each with the query of its request.

A page's `ETag` stands for that page of that query (decision 0054): sent back in `If-None-Match` with
the same query it gets 304 while the page is unchanged. Schemathesis follows the contract's
`refreshPage` link with the `ETag` but draws the query afresh; the hooks look the tag up here and send
the query it was issued for, as a client refreshing the page does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

# A run answers a few thousand pages at most; the oldest are forgotten first.
CAPACITY = 10_000


class IssuedPageTags:
    """Every page `ETag` seen in an answer, with the path and query of the request that got it."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._issued: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        self._capacity = capacity

    def remember(self, path: str, query: Mapping[str, Any], etag: str | None) -> None:
        if not etag:
            return
        self._issued[etag] = (path, dict(query))
        self._issued.move_to_end(etag)
        while len(self._issued) > self._capacity:
            self._issued.popitem(last=False)

    def query_for(self, etag: str, path: str) -> dict[str, Any] | None:
        """The query `etag` was answered to, when the service issued it for this very path."""
        issued = self._issued.get(etag)
        return dict(issued[1]) if issued is not None and issued[0] == path else None
