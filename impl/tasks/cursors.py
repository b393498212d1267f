"""Opaque list cursors (keyset paging): where the previous page ended, and for which query.

A cursor is base64url of a small JSON array: the last task's sort key and id, and a fingerprint of
the query it belongs to (status, filters, sort, order), so a cursor used with another query is
refused rather than silently skipping or repeating tasks. It carries nothing secret: a tampered
cursor can only move the start of the caller's own list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from impl.problems import UnprocessableParameter

MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Position:
    """The last task of a page, as the sort sees it."""

    key: datetime | str | None
    id: int


# Built once: json.dumps with any option builds a new encoder on every call.
CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def fingerprint(query: dict[str, Any]) -> str:
    canonical = CANONICAL_JSON.encode(query)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(position: Position, query_fingerprint: str) -> str:
    key = position.key.isoformat() if isinstance(position.key, datetime) else position.key
    payload = COMPACT_JSON.encode([key, position.id, query_fingerprint])
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()


def invalid(message: str) -> UnprocessableParameter:
    return UnprocessableParameter(f"The cursor is not valid: {message}.", parameter="cursor", message=message)


def decode(cursor: str, *, query_fingerprint: str, datetime_key: bool, nullable_key: bool) -> Position:
    """The position a cursor holds; 422 unless this service issued it for this very query."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key, task_id, owner = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, UnicodeError, binascii.Error, RecursionError):
        raise invalid("not a cursor this service issued") from None
    if owner != query_fingerprint:
        raise invalid("it belongs to a list with other filters, sort or order")
    if not isinstance(task_id, int) or isinstance(task_id, bool) or not 1 <= task_id <= MAX_ID:
        raise invalid("not a cursor this service issued")
    if key is None and nullable_key:
        return Position(None, task_id)
    if not isinstance(key, str):
        raise invalid("not a cursor this service issued")
    if not datetime_key:
        return Position(key, task_id)
    try:
        moment = datetime.fromisoformat(key)
    except ValueError:
        raise invalid("not a cursor this service issued") from None
    if moment.tzinfo is None:
        raise invalid("not a cursor this service issued")
    return Position(moment, task_id)
