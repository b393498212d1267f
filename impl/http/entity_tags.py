"""Entity tags on the wire: the `ETag`s the service issues, and If-Match and If-None-Match read the way RFC 9110 says.

A task's tag is its version quoted; a page's is weak, its version digest in base64url. What a version
is, and what a write does under the versions a request names, is the tasks' own business
(impl/tasks/preconditions.py).
"""

from __future__ import annotations

import re

from impl.kit import base64url

ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')
# Exactly the spellings etag() issues: ASCII decimal without leading zeros, within the version column.
# Strong comparison is character by character, so "01" is not "1"; and str.isdigit() would accept
# "¹", which int() then refuses.
ISSUED_VERSION = re.compile(r"[1-9][0-9]{0,9}")
MAX_VERSION = 2**31 - 1


def etag(version: int) -> str:
    return f'"{version}"'


def page_etag(version: bytes) -> str:
    """A page's tag: weak, since two answers with the same tag say the same, yet are not the same bytes
    (each seals its next_cursor afresh)."""
    return f'W/"p-{base64url.encode(version)}"'


class NotModified(Exception):
    """A read whose If-None-Match names the current entity tag: 304, no body, the tag in ETag."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


def none_match(if_none_match: str | None, current: str) -> bool:
    """Whether a read's If-None-Match names `current`, compared weakly (RFC 9110 section 13.1.2), or is `*`."""
    if if_none_match is None:
        return False
    opaque = ENTITY_TAG.fullmatch(current)
    assert opaque is not None
    for entry in if_none_match.split(","):
        if entry.strip() == "*":
            return True
        match = ENTITY_TAG.fullmatch(entry)
        if match and match.group(2) == opaque.group(2):
            return True
    return False


def lists_any(field: str) -> bool:
    """Whether a list of entity tags holds `*`.

    `*` among tags is no valid field; read as `*`, it errs on the side of changing nothing.
    """
    return any(entry.strip() == "*" for entry in field.split(","))


def named_versions(field: str, *, weak: bool) -> list[int]:
    """The versions of ours a list of entity tags names; weak tags count only when compared weakly."""
    versions = []
    for entry in field.split(","):
        match = ENTITY_TAG.fullmatch(entry)
        if match and (weak or not match.group(1)) and ISSUED_VERSION.fullmatch(match.group(2)):
            versions.append(int(match.group(2)))
    return [version for version in versions if version <= MAX_VERSION]


def versions_matching(if_match: str | None) -> list[int] | None:
    """The versions an If-Match header accepts; None when it accepts any (absent, or `*`).

    Weak tags never match (If-Match compares strongly), nor do tags this service never issued;
    a header naming no version of ours can match nothing, so the change is refused.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    return named_versions(if_match, weak=False)
