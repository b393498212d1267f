"""Entity tags for tasks and pages, and If-Match and If-None-Match evaluated the way RFC 9110 says."""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from impl.http.problems import PreconditionFailed
from impl.kit import base64url

ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')
# Exactly the spellings etag() issues: ASCII decimal without leading zeros, within the version column.
# Strong comparison is character by character, so "01" is not "1"; and str.isdigit() would accept
# "¹", which int() then refuses.
ISSUED_VERSION = re.compile(r"[1-9][0-9]{0,9}")
MAX_VERSION = 2**31 - 1


def etag(version: int) -> str:
    return f'"{version}"'


def page_etag(
    list_identity: bytes, *, offset: int, limit: int, total: int, more: bool, versions: Sequence[tuple[int, int]]
) -> str:
    """A weak entity tag for one page of a list: it changes whenever a task on the page changes (its version
    moves), a task joins or leaves the page, or the total changes. Weak: two answers with the same tag say
    the same, yet are not the same bytes (each seals its next_cursor afresh)."""
    digest = hashlib.blake2b(list_identity, digest_size=16)
    digest.update(array("q", [offset, limit, total, more, *(number for pair in versions for number in pair)]).tobytes())
    return f'W/"p-{base64url.encode(digest.digest())}"'


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


def named_versions(field: str, *, weak: bool) -> list[int]:
    """The versions of ours a list of entity tags names; weak tags count only when compared weakly."""
    versions = []
    for entry in field.split(","):
        match = ENTITY_TAG.fullmatch(entry)
        if match and (weak or not match.group(1)) and ISSUED_VERSION.fullmatch(match.group(2)):
            versions.append(int(match.group(2)))
    return [version for version in versions if version <= MAX_VERSION]


def versions_matching(if_match: str | None) -> list[int] | None:
    """The task versions an If-Match header accepts; None when it accepts any (absent, or `*`).

    Weak tags never match (If-Match compares strongly), nor do tags this service never issued;
    a header naming no version of ours can match nothing, so the change is refused.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    return named_versions(if_match, weak=False)


@dataclass(frozen=True)
class Preconditions:
    """What a write's If-Match and If-None-Match ask of the task's current version (RFC 9110 section 13.1).

    `matching`: the versions If-Match accepts, None for any. `excluded`: the versions If-None-Match
    refuses (compared weakly), None for none. `excludes_every_version`: If-None-Match is `*` (or lists
    it), so no task that exists may be changed.
    """

    matching: list[int] | None = None
    excluded: list[int] | None = None
    excludes_every_version: bool = False

    def hold_for(self, version: int) -> bool:
        return (
            (self.matching is None or version in self.matching)
            and not self.excludes_every_version
            and (self.excluded is None or version not in self.excluded)
        )

    def failed(self, task_id: int, version: int) -> PreconditionFailed:
        """The 412 for a task found at `version` after its write matched nothing, naming the header that refused it.

        With both headers, If-Match is evaluated first (RFC 9110 section 13.2.2). With one, it is that one:
        the version read may already be a later writer's.
        """
        if_none_match = self.excludes_every_version or self.excluded is not None
        if self.matching is not None and (not if_none_match or version not in self.matching):
            return PreconditionFailed(f"Task {task_id} has changed since the version in If-Match; fetch it and retry.")
        return PreconditionFailed(f"Task {task_id} exists at a version If-None-Match names; nothing changed.")


def preconditions(if_match: str | None, if_none_match: str | None) -> Preconditions:
    if if_none_match is None:
        return Preconditions(versions_matching(if_match))
    # `*` among tags is no valid field; read as `*`, it errs on the side of changing nothing.
    if any(entry.strip() == "*" for entry in if_none_match.split(",")):
        return Preconditions(versions_matching(if_match), excludes_every_version=True)
    return Preconditions(versions_matching(if_match), named_versions(if_none_match, weak=True) or None)
