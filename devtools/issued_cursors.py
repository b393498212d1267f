"""The list cursors the service handed out during a fuzz run, each with the list request it continues.

A cursor is valid only for the user, filters, sort and order it came from, with no `offset`
(decision 0026). Schemathesis follows the contract's `nextPage` link with the `next_cursor` it was
given but draws the other parameters afresh, as a client never would; the hooks look the cursor up
here and send the request a client would send.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# listTasks' parameters a cursor is bound to; listTags has none besides the user.
BOUND_PARAMETERS = ("status", "sort", "order", "q", "tag", "due_before", "due_after", "overdue")
# A run issues a few thousand pages at most; the oldest are forgotten first.
CAPACITY = 10_000


@dataclass(frozen=True)
class ListRequest:
    """The path (so the user and the list) and the bound parameters of the request that got a cursor."""

    path: str
    bound: Mapping[str, Any]


class IssuedCursors:
    """Every `next_cursor` seen in an answer, with the request it continues."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._issued: OrderedDict[str, ListRequest] = OrderedDict()
        self._capacity = capacity

    def remember(self, path: str, query: Mapping[str, Any], answer: Any) -> None:
        """Keep the answer's `next_cursor`, if it has one, with the request (path and query) that got it."""
        cursor = answer.get("next_cursor") if isinstance(answer, dict) else None
        if not isinstance(cursor, str):
            return
        bound = {name: query[name] for name in BOUND_PARAMETERS if name in query}
        self._issued[cursor] = ListRequest(path, bound)
        self._issued.move_to_end(cursor)
        while len(self._issued) > self._capacity:
            self._issued.popitem(last=False)

    def request_for(self, cursor: str, path: str) -> ListRequest | None:
        """The request `cursor` continues, when the service issued it for this very path."""
        issued = self._issued.get(cursor)
        return issued if issued is not None and issued.path == path else None


def continue_with(query: dict[str, Any], issued: ListRequest) -> None:
    """Make `query` (which holds the cursor) the next page's request: the same bound parameters, no offset."""
    for name in BOUND_PARAMETERS:
        query.pop(name, None)
    query.pop("offset", None)
    query.update(issued.bound)
