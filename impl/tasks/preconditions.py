"""Entity tags for tasks, and If-Match and If-None-Match evaluated the way RFC 9110 says for a write."""

from __future__ import annotations

import re
from dataclasses import dataclass

from impl.problems import PreconditionFailed

ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')
# Exactly the spellings etag() issues: ASCII decimal without leading zeros, within the version column.
# Strong comparison is character by character, so "01" is not "1"; and str.isdigit() would accept
# "¹", which int() then refuses.
ISSUED_VERSION = re.compile(r"[1-9][0-9]{0,9}")
MAX_VERSION = 2**31 - 1


def etag(version: int) -> str:
    return f'"{version}"'


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
