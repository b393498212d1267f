"""Which successful conditional change leaves its own `If-Match` stale, so that sending it again must be 412.

A change that succeeded with `If-Match: X` and answered a new `ETag` Y moved the task past X; the
same request sent again names a version the task no longer has (RFC 9110 section 13.1.1). The
contract's links send each answer's `ETag` on, so a service that ignored `If-Match` would still pass
every other check: this one asks it directly, in the fuzz run (devtools/schemathesis_hooks.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# The operations that change a task and answer its new ETag: replaceTask, updateTask, toggleTaskCompletion.
CHANGES = {("PUT", "/api/{user_id}/tasks/{task_id}"), ("PATCH", "/api/{user_id}/tasks/{task_id}")}
CHANGES.add(("PATCH", "/api/{user_id}/tasks/{task_id}/complete"))


def entity_tags(field: str) -> set[str]:
    """The entity tags a comma-separated If-Match lists, compared weakly (W/ dropped)."""
    return {tag.strip().removeprefix("W/") for tag in field.split(",") if tag.strip()}


def stale_if_match(
    method: str, path: str, headers: Mapping[str, str], status: int, answer_etag: str | None
) -> str | None:
    """The `If-Match` a successful change left stale, or None when the request names no version it moved past."""
    if (method.upper(), path) not in CHANGES or status != 200 or not answer_etag:
        return None
    sent = next((value for name, value in headers.items() if name.lower() == "if-match"), None)
    if not isinstance(sent, str):
        return None
    named = entity_tags(sent)
    if not named or "*" in named or answer_etag.removeprefix("W/") in named:
        return None
    return sent


def first_header(headers: Mapping[str, Sequence[str] | str], name: str) -> str | None:
    """The first value of header `name` in a response's headers (lists of values, names in any case)."""
    for key, values in headers.items():
        if key.lower() == name:
            return values if isinstance(values, str) else next(iter(values), None)
    return None
