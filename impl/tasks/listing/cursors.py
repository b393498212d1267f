"""Opaque list cursors (keyset paging): where the previous page ended, sealed for one list of one user.

A cursor is base64url (no padding) of the AES-SIV encryption (RFC 5297) of its position in compact
JSON, under the key every instance shares (table `service_keys`, decision 0026): `[sort key, task id]`
in a task list, `[tag name]` in the tag list (decision 0041). The list's identity (user, status,
filters, sort, order; or user and "tags") is the associated data: a cursor used with another list or
by another user, or altered in any bit, does not open (422). It discloses nothing of the task or tag
it points after. An opened position is still checked against the sort key's type and range, so no
position, however it was made, reaches SQL as a value the column cannot take.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from impl.http.problems import UnprocessableParameter
from impl.kit import base64url

MAX_ID = 2**63 - 1
SIV_BYTES = 16  # the synthetic IV, which is also the authentication tag
# Instants travel as whole microseconds since the Unix epoch (UTC), within what Python's datetime holds.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MIN_INSTANT = (datetime.min.replace(tzinfo=UTC) - EPOCH) // MICROSECOND
MAX_INSTANT = (datetime.max.replace(tzinfo=UTC) - EPOCH) // MICROSECOND

NOT_ISSUED = "not a cursor this service issued"
NOT_THIS_LIST = "not a cursor for this list"
TASK_LIST_HINT = "; a cursor goes only with the status, filters, sort and order of the list it came from"
NAME_LIST_HINT = "; a cursor goes only with the list it came from"

# Built once: json.dumps with any option builds a new encoder on every call.
CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Position:
    """The last task of a page, as the sort sees it."""

    key: datetime | str | None
    id: int


@dataclass(frozen=True)
class SortKeyType:
    """The values a sort key's column holds: instants, text of at most max_length characters, or one of choices."""

    instant: bool = False
    nullable: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()


def list_identity(
    user_id: str,
    *,
    status: str,
    sort: str,
    order: str,
    q: str | None = None,
    tags: Iterable[str] = (),
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    overdue: bool | None = None,
) -> bytes:
    """The associated data that ties a cursor to one user's list: status, filters (tags as stored), sort, order."""
    identity = {
        "user": user_id,
        "status": status,
        "sort": sort,
        "order": order,
        "q": q,
        "tags": sorted(set(tags)),
        "due_before": due_before.isoformat() if due_before else None,
        "due_after": due_after.isoformat() if due_after else None,
        "overdue": overdue,
    }
    return CANONICAL_JSON.encode(identity).encode("ascii")


def tags_identity(user_id: str) -> bytes:
    """The associated data that ties a cursor to one user's tag list; no task list has the same identity."""
    return CANONICAL_JSON.encode({"list": "tags", "user": user_id}).encode("ascii")


def invalid(message: str, hint: str = "") -> UnprocessableParameter:
    return UnprocessableParameter(f"The cursor is not valid: {message}{hint}.", parameter="cursor", message=message)


def parse_key(value: object, key_type: SortKeyType) -> datetime | str | None:
    """The sort key a cursor's plaintext holds, or ValueError unless the column could hold it."""
    if value is None and key_type.nullable:
        return None
    if key_type.instant:
        if not isinstance(value, int) or isinstance(value, bool) or not MIN_INSTANT <= value <= MAX_INSTANT:
            raise ValueError("not an instant in years 1 to 9999")
        return EPOCH + value * MICROSECOND
    if not isinstance(value, str):
        raise ValueError("not text")
    if key_type.choices:
        if value not in key_type.choices:
            raise ValueError("not one of the choices")
        return value
    if key_type.max_length is not None and len(value) > key_type.max_length:
        raise ValueError("longer than the column")
    if "\x00" in value:
        raise ValueError("holds NUL")
    value.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
    return value


def parse_parts(plaintext: bytes, count: int) -> list[object]:
    """The JSON array of `count` parts an opened cursor holds, or ValueError."""
    try:
        parts = json.loads(plaintext.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(parts, list) or len(parts) != count:
        raise ValueError(f"not an array of {count}")
    return parts


def parse_position(plaintext: bytes, key_type: SortKeyType) -> Position:
    """The position an opened task-list cursor holds, or ValueError unless every part fits its column."""
    key, task_id = parse_parts(plaintext, 2)
    if not isinstance(task_id, int) or isinstance(task_id, bool) or not 1 <= task_id <= MAX_ID:
        raise ValueError("not a task id")
    return Position(parse_key(key, key_type), task_id)


def parse_name(plaintext: bytes, key_type: SortKeyType) -> str:
    """The name an opened name-ordered cursor (the tag list's) holds, or ValueError unless it is such a name."""
    [value] = parse_parts(plaintext, 1)
    name = parse_key(value, key_type)
    if not isinstance(name, str):
        raise ValueError("not a name")
    return name


class CursorSeal:
    """Seals positions into cursors and opens them again, with the key every instance shares."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESSIV(key)

    def seal(self, position: Position, *, list_id: bytes) -> str:
        key = position.key
        plain_key = (key - EPOCH) // MICROSECOND if isinstance(key, datetime) else key
        return self._seal([plain_key, position.id], list_id)

    def seal_name(self, name: str, *, list_id: bytes) -> str:
        """A cursor after this name, in a list ordered by name alone (the tag list)."""
        return self._seal([name], list_id)

    def open(self, cursor: str, *, list_id: bytes, key_type: SortKeyType) -> Position:
        """The position a task-list cursor holds; 422 unless this service sealed it for this very list."""
        plaintext = self._open(cursor, list_id, TASK_LIST_HINT)
        try:
            return parse_position(plaintext, key_type)
        except ValueError:
            raise invalid(NOT_ISSUED) from None

    def open_name(self, cursor: str, *, list_id: bytes, key_type: SortKeyType) -> str:
        """The name a name-ordered cursor holds; 422 unless this service sealed it for this very list."""
        plaintext = self._open(cursor, list_id, NAME_LIST_HINT)
        try:
            return parse_name(plaintext, key_type)
        except ValueError:
            raise invalid(NOT_ISSUED) from None

    def _seal(self, parts: list[object], list_id: bytes) -> str:
        plaintext = COMPACT_JSON.encode(parts).encode("utf-8")
        return base64url.encode(self._aead.encrypt(plaintext, [list_id]))

    def _open(self, cursor: str, list_id: bytes, hint: str) -> bytes:
        try:
            sealed = base64url.decode(cursor)
        except ValueError:
            raise invalid(NOT_ISSUED) from None
        if len(sealed) <= SIV_BYTES:
            raise invalid(NOT_ISSUED)
        try:
            return self._aead.decrypt(sealed, [list_id])
        except InvalidTag:
            raise invalid(NOT_THIS_LIST, hint) from None
